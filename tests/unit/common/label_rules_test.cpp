// The two kinds of label (common/label_rules.hpp): key labels and host labels, and that every
// host label is a key label.
#include "common/label_rules.hpp"

#include <gtest/gtest.h>

#include <string>

namespace discodns::common {
namespace {

TEST(LabelRules, KeyLabel) {
  for (std::string good : {"dev", "DEV", "goim", "a_b", "a-b", "0"})
    EXPECT_TRUE(is_key_label(good)) << good;
  for (const char* bad : {"", "a.b", "a b", "a*", "\x01", "\xc3\xa9"})
    EXPECT_FALSE(is_key_label(bad)) << bad;
  EXPECT_TRUE(is_key_label(std::string(63, 'x')));
  EXPECT_FALSE(is_key_label(std::string(64, 'x')));
}

TEST(LabelRules, HostLabel) {
  for (std::string good : {"china", "us-east-1", "0"})
    EXPECT_TRUE(is_host_label(good)) << good;
  for (const char* bad : {"", "China", "a_b", "a.b", "a b"})
    EXPECT_FALSE(is_host_label(bad)) << bad;
  EXPECT_TRUE(is_host_label(std::string(63, 'x')));
  EXPECT_FALSE(is_host_label(std::string(64, 'x')));
}

TEST(LabelRules, EveryHostLabelOctetIsAKeyLabelOctet) {
  for (int c = -128; c < 128; ++c) {
    if (is_host_label_char(static_cast<char>(c))) {
      EXPECT_TRUE(is_key_label_char(static_cast<char>(c))) << c;
    }
  }
}

TEST(LabelRules, ExactAlphabets) {
  std::string key, host;
  for (int c = -128; c < 128; ++c) {
    if (is_key_label_char(static_cast<char>(c))) key.push_back(static_cast<char>(c));
    if (is_host_label_char(static_cast<char>(c))) host.push_back(static_cast<char>(c));
  }
  EXPECT_EQ(key, "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(host, "-0123456789abcdefghijklmnopqrstuvwxyz");
}

}  // namespace
}  // namespace discodns::common
