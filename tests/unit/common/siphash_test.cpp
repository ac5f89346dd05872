// SipHash-2-4 against the reference implementation's test vectors (key 00..0f, message
// 00 01 02 … of the given length; outputs as little-endian 64-bit words).
#include "common/siphash.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace discodns::common {
namespace {

std::array<std::uint8_t, 16> reference_key() {
  std::array<std::uint8_t, 16> key{};
  for (std::size_t i = 0; i < key.size(); ++i)
    key[i] = static_cast<std::uint8_t>(i);
  return key;
}

std::vector<std::uint8_t> message(std::size_t length) {
  std::vector<std::uint8_t> m(length);
  for (std::size_t i = 0; i < length; ++i)
    m[i] = static_cast<std::uint8_t>(i);
  return m;
}

TEST(SipHash, SixtyFourBitReferenceVectors) {
  EXPECT_EQ(siphash24(reference_key(), message(0)), 0x726fdb47dd0e0e31ull);
  EXPECT_EQ(siphash24(reference_key(), message(15)), 0xa129ca6149be45e5ull);
}

TEST(SipHash, HundredTwentyEightBitReferenceVector) {
  // vectors_sip128[0]: a3 81 7f 04 ba 25 a8 e6 6d f6 72 14 c7 55 02 93
  auto out = siphash24_128(reference_key(), message(0));
  EXPECT_EQ(out[0], 0xe6a825ba047f81a3ull);
  EXPECT_EQ(out[1], 0x930255c71472f66dull);
}

TEST(SipHash, HundredTwentyEightBitHalvesDifferAndDependOnEveryByte) {
  auto a = siphash24_128(reference_key(), message(64));
  auto m = message(64);
  m[63] ^= 1;
  auto b = siphash24_128(reference_key(), m);
  EXPECT_NE(a[0], a[1]);
  EXPECT_NE(a[0], b[0]);
  EXPECT_NE(a[1], b[1]);
}

}  // namespace
}  // namespace discodns::common
