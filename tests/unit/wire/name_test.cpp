#include "wire/name.hpp"

#include <gtest/gtest.h>

namespace discodns::wire {
namespace {

TEST(Name, TextToWireLowerCasesAndHandlesEscapes) {
  EXPECT_EQ(text_to_wire("Example.COM."), std::string("\7example\3com\0", 13));
  EXPECT_EQ(text_to_wire("example.com"), std::string("\7example\3com\0", 13));
  EXPECT_EQ(text_to_wire("."), std::string(1, '\0'));
  EXPECT_EQ(text_to_wire("a\\.b.c"), std::string("\3a.b\1c\0", 7));
  EXPECT_EQ(text_to_wire("\\065.c"), std::string("\1a\1c\0", 5));
  EXPECT_FALSE(text_to_wire("a..b"));
  EXPECT_FALSE(text_to_wire(std::string(64, 'a') + ".com"));
  EXPECT_FALSE(text_to_wire("\\999.c"));
  EXPECT_FALSE(text_to_wire("a\\"));
  std::string long_name;
  for (int i = 0; i < 5; ++i)
    long_name += std::string(60, 'x') + ".";
  EXPECT_FALSE(text_to_wire(long_name));
}

TEST(Name, WireToTextEscapesOddBytes) {
  EXPECT_EQ(wire_to_text(std::string("\7example\3com\0", 13)), "example.com.");
  EXPECT_EQ(wire_to_text(std::string("\3a.b\1\x01\0", 8)), "a\\.b.\\001.");
  EXPECT_EQ(wire_to_text(std::string(1, '\0')), ".");
}

TEST(Name, AncestorsOnLabelBoundaries) {
  std::string apex("\7example\3com\0", 13);
  EXPECT_TRUE(is_at_or_below(apex, apex));
  EXPECT_TRUE(is_at_or_below(std::string("\3www") + apex, apex));
  EXPECT_FALSE(is_at_or_below(std::string("\12notexample\3com\0", 16), apex));
  EXPECT_FALSE(is_at_or_below(std::string("\3com\0", 5), apex));
  EXPECT_EQ(label_count(apex), 2);
  EXPECT_EQ(parent_of(apex), std::string_view("\3com\0", 5));
}

}  // namespace
}  // namespace discodns::wire
