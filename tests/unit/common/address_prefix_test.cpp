#include "common/address_prefix.hpp"

#include <gtest/gtest.h>

#include <array>

namespace discodns::common {
namespace {

TEST(AddressPrefix, ParsesBothFamiliesWithAndWithoutLength) {
  auto v4 = parse_address_prefix("10.0.0.0/8");
  ASSERT_TRUE(v4);
  EXPECT_FALSE(v4->v6);
  EXPECT_EQ(v4->length, 8);
  auto host = parse_address_prefix("127.0.0.1");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->length, 32);
  auto v6 = parse_address_prefix("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->v6);
  EXPECT_EQ(v6->length, 32);
  EXPECT_EQ(parse_address_prefix("::1")->length, 128);
}

TEST(AddressPrefix, RefusesWhatIsNotAPrefix) {
  for (const char* bad : {"", "example.com", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x",
                          "10.1.0.0/8", "[::1]", "10.0.0.0/8/8"}) {
    EXPECT_FALSE(parse_address_prefix(bad)) << bad;
  }
}

TEST(AddressPrefix, MatchesAddressesInsideOnly) {
  auto p = *parse_address_prefix("192.168.4.0/22");
  std::array<std::uint8_t, 4> inside{192, 168, 7, 255};
  std::array<std::uint8_t, 4> outside{192, 168, 8, 0};
  EXPECT_TRUE(p.contains(inside));
  EXPECT_FALSE(p.contains(outside));
  std::array<std::uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 5, 1};
  EXPECT_TRUE(p.contains(mapped));
  auto v6 = *parse_address_prefix("::1");
  std::array<std::uint8_t, 16> loopback{};
  loopback[15] = 1;
  EXPECT_TRUE(v6.contains(loopback));
  EXPECT_FALSE(v6.contains(inside));
  EXPECT_TRUE(parse_address_prefix("0.0.0.0/0")->contains(outside));
}

}  // namespace
}  // namespace discodns::common
