#include "wire/names.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include "wire/types.hpp"

namespace discodns::wire {
namespace {

TEST(Names, NamedCodesFindTheirNameAndTheRestAreOther) {
  EXPECT_EQ(std::string_view(kRcodeNames[rcode_index(rcode::kNxDomain)]), "NXDOMAIN");
  EXPECT_EQ(std::string_view(kRcodeNames[rcode_index(rcode::kBadVers)]), "BADVERS");
  EXPECT_EQ(std::string_view(kRcodeNames[rcode_index(rcode::kBadCookie)]), "other");
  EXPECT_EQ(std::string_view(kQtypeNames[qtype_index(type::kAaaa)]), "AAAA");
  EXPECT_EQ(std::string_view(kQtypeNames[qtype_index(type::kAny)]), "ANY");
  EXPECT_EQ(std::string_view(kQtypeNames[qtype_index(type::kMx)]), "other");
  for (std::uint16_t t = 0; t < 300; ++t)
    EXPECT_LT(qtype_index(t), std::size(kQtypeNames));
  for (unsigned r = 0; r < 256; ++r)
    EXPECT_LT(rcode_index(static_cast<std::uint8_t>(r)), std::size(kRcodeNames));
}

}  // namespace
}  // namespace discodns::wire
