#include "catalog/labels.hpp"

#include <gtest/gtest.h>

namespace discodns::catalog {
namespace {

TEST(Labels, DottedAppidsBecomeSeveralLabels) {
  EXPECT_EQ(appid_labels("goim.comet"), std::string("\4goim\5comet"));
  EXPECT_EQ(appid_labels("Main.Account.account-service"),
            std::string("\4main\7account\017account-service"));
  EXPECT_EQ(appid_labels("infra_x"), std::string("\7infra_x"));
}

TEST(Labels, InvalidAppidsAreNotServed) {
  EXPECT_FALSE(appid_labels(""));
  EXPECT_FALSE(appid_labels("a..b"));
  EXPECT_FALSE(appid_labels(".a"));
  EXPECT_FALSE(appid_labels("a."));
  EXPECT_FALSE(appid_labels("a b"));
  EXPECT_FALSE(appid_labels("a/b"));
  EXPECT_FALSE(appid_labels(std::string(64, 'a')));
  EXPECT_TRUE(appid_labels(std::string(63, 'a')));
}

TEST(Labels, KeyLabelsAreOneValidLabel) {
  EXPECT_EQ(key_label("DEV"), "dev");
  EXPECT_FALSE(key_label("a.b"));
  EXPECT_FALSE(key_label(""));
  EXPECT_FALSE(key_label("sh\x01"));
}

TEST(Labels, HostnamesAreSanitised) {
  EXPECT_EQ(hostname_label("Comet_3.local"), "comet-3-local");
  EXPECT_EQ(hostname_label(std::string("host\xff\0x", 7)), "host--x");
  EXPECT_EQ(hostname_label(""), "host");
  EXPECT_EQ(hostname_label(std::string(100, 'a')).size(), 63u);
}

TEST(Labels, CollisionsGetADeterministicSuffix) {
  std::string a = disambiguated_label("comet-1", "comet_1");
  std::string b = disambiguated_label("comet-1", "comet.1");
  EXPECT_NE(a, b);
  EXPECT_EQ(a, disambiguated_label("comet-1", "comet_1"));
  EXPECT_EQ(a.rfind("comet-1-", 0), 0u);
  EXPECT_LE(disambiguated_label(std::string(63, 'x'), "y").size(), 63u);
}

}  // namespace
}  // namespace discodns::catalog
