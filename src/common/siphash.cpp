#include "common/siphash.hpp"

#include <bit>
#include <cstring>
#include <random>

namespace discodns::common {

std::array<std::uint8_t, 16> random_siphash_key() {
  std::random_device random;
  std::array<std::uint8_t, 16> key{};
  for (auto& byte : key)
    byte = static_cast<std::uint8_t>(random());
  return key;
}

namespace {

std::uint64_t rotl(std::uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

std::uint64_t load_le64(const std::uint8_t* p) {
  if constexpr (std::endian::native == std::endian::little) {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

struct State {
  std::uint64_t v0, v1, v2, v3;
  void round() {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
  void absorb(std::uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

// Key setup and compression of every message block; `wide` selects the 128-bit variant.
State absorb_all(const std::array<std::uint8_t, 16>& key, std::span<const std::uint8_t> data,
                 bool wide) {
  std::uint64_t k0 = load_le64(key.data());
  std::uint64_t k1 = load_le64(key.data() + 8);
  State s{k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull, k0 ^ 0x6c7967656e657261ull,
          k1 ^ 0x7465646279746573ull};
  if (wide) s.v1 ^= 0xee;
  std::size_t full = data.size() / 8 * 8;
  for (std::size_t i = 0; i < full; i += 8)
    s.absorb(load_le64(data.data() + i));
  std::uint64_t last = static_cast<std::uint64_t>(data.size() & 0xff) << 56;
  for (std::size_t i = full; i < data.size(); ++i) {
    last |= static_cast<std::uint64_t>(data[i]) << (8 * (i - full));
  }
  s.absorb(last);
  return s;
}

std::uint64_t finish(State& s, std::uint64_t marker) {
  s.v2 ^= marker;
  s.round();
  s.round();
  s.round();
  s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace

std::uint64_t siphash24(const std::array<std::uint8_t, 16>& key,
                        std::span<const std::uint8_t> data) noexcept {
  State s = absorb_all(key, data, false);
  return finish(s, 0xff);
}

std::array<std::uint64_t, 2> siphash24_128(const std::array<std::uint8_t, 16>& key,
                                           std::span<const std::uint8_t> data) noexcept {
  State s = absorb_all(key, data, true);
  std::uint64_t low = finish(s, 0xee);
  s.v1 ^= 0xdd;
  std::uint64_t high = finish(s, 0);  // the second half marks v1, not v2
  return {low, high};
}

}  // namespace discodns::common
