// Response rate limiting for UDP, in the spirit of BIND's RRL: a client prefix (/24, /56 by
// default) gets at most `responses_per_second` identical answers per second (same name and
// type, or for NXDOMAIN and errors the same response code); beyond that every `slip`-th answer
// goes out as an empty TC=1 reply, so a real client retries over TCP (never limited), and the
// rest are dropped. A spoofed flood can then not aim our answers at a victim.
//
// One limiter per worker (no locks): a fixed table of token buckets indexed by a keyed hash
// (SipHash-2-4, a random key per limiter), so an attacker cannot choose names that collide with
// a victim's bucket; and a bucket taken over by a colliding key while it is in use starts
// empty, never full, so that alternating two colliding names gains nothing. Off when
// responses_per_second is 0.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/clock.hpp"

namespace discodns::server {

struct RateLimitOptions {
  unsigned responses_per_second = 0;  // 0 = off
  unsigned slip = 2;                  // 0 = never answer when limited, 1 = always TC
  unsigned ipv4_prefix = 24;
  unsigned ipv6_prefix = 56;
};

class RateLimiter {
 public:
  enum class Verdict : std::uint8_t { kSend, kSlip, kDrop };

  explicit RateLimiter(const RateLimitOptions& options);  // a random hash key
  RateLimiter(const RateLimitOptions& options, const std::array<std::uint8_t, 16>& key);
  bool enabled() const { return options_.responses_per_second != 0; }

  // `response` is the answer about to be sent (header, question, …); `client` the client's 4
  // or 16 address bytes. No allocation.
  Verdict check(std::span<const std::uint8_t> client, std::span<const std::uint8_t> response,
                common::Nanos now) noexcept;

  // Which bucket of the table the answer counts against (tests look for collisions).
  std::size_t bucket_of(std::span<const std::uint8_t> client,
                        std::span<const std::uint8_t> response) const noexcept;

  // Cuts `response` down to its header and question with TC set (and no records); returns the
  // new size.
  static std::size_t slip_reply(std::span<std::uint8_t> response) noexcept;

 private:
  // The bucket of one (client prefix, rcode, name and type) key.
  std::uint64_t hash(std::span<const std::uint8_t> client,
                     std::span<const std::uint8_t> response) const noexcept;

  struct Bucket {
    std::uint64_t key = 0;  // 0: never used
    common::Nanos last_ns = 0;
    double tokens = 0;
    std::uint32_t limited = 0;  // answers limited since the bucket filled up: drives slip
  };

  RateLimitOptions options_;
  std::array<std::uint8_t, 16> key_;
  std::vector<Bucket> table_;
};

}  // namespace discodns::server
