// SipHash-2-4 (Aumasson & Bernstein), the keyed hash RFC 9018 uses for DNS server cookies.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace discodns::common {

// A fresh random key (std::random_device), for keys that live as long as the process: server
// cookies, response rate limiting buckets.
std::array<std::uint8_t, 16> random_siphash_key();

std::uint64_t siphash24(const std::array<std::uint8_t, 16>& key,
                        std::span<const std::uint8_t> data) noexcept;

// SipHash-2-4 with its 128-bit output (the reference's "siphash128" variant): one pass over the
// data, for content digests (the snapshot builder's "did this service change").
std::array<std::uint64_t, 2> siphash24_128(const std::array<std::uint8_t, 16>& key,
                                           std::span<const std::uint8_t> data) noexcept;

}  // namespace discodns::common
