// FNV-1a, the one non-cryptographic hash: stable across runs and builds (shard choice, hostname
// suffixes that must not change between versions). Not for keys a client picks to collide:
// those get keyed SipHash (common/siphash.hpp).
#pragma once

#include <cstdint>
#include <string_view>

namespace discodns::common {

class Fnv1a64 {
 public:
  constexpr Fnv1a64& add(std::string_view bytes) noexcept {
    for (unsigned char c : bytes)
      add_byte(c);
    return *this;
  }
  constexpr Fnv1a64& add_byte(std::uint8_t byte) noexcept {
    hash_ = (hash_ ^ byte) * 1099511628211ull;
    return *this;
  }
  constexpr std::uint64_t value() const noexcept { return hash_; }

 private:
  std::uint64_t hash_ = 14695981039346656037ull;
};

constexpr std::uint64_t fnv1a64(std::string_view bytes) noexcept {
  return Fnv1a64().add(bytes).value();
}

constexpr std::uint32_t fnv1a32(std::string_view bytes) noexcept {
  std::uint32_t hash = 2166136261u;
  for (unsigned char c : bytes)
    hash = (hash ^ c) * 16777619u;
  return hash;
}

}  // namespace discodns::common
