// Response rate limiting for UDP, in the spirit of BIND's RRL: a client prefix (/24, /56 by
// default) gets at most `responses_per_second` identical answers per second (same name and
// type, or for NXDOMAIN and errors the same response code); beyond that every `slip`-th answer
// goes out as an empty TC=1 reply, so a real client retries over TCP (never limited), and the
// rest are dropped. A spoofed flood can then not aim our answers at a victim.
//
// One limiter per worker (no locks): a fixed table of token buckets indexed by a hash, where
// a collision only shares a bucket. Off when responses_per_second is 0.
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

  explicit RateLimiter(const RateLimitOptions& options);
  bool enabled() const { return options_.responses_per_second != 0; }

  // `response` is the answer about to be sent (header, question, …); `client` the client's 4
  // or 16 address bytes. No allocation.
  Verdict check(std::span<const std::uint8_t> client, std::span<const std::uint8_t> response,
                common::Nanos now) noexcept;

  // Cuts `response` down to its header and question with TC set (and no records); returns the
  // new size.
  static std::size_t slip_reply(std::span<std::uint8_t> response) noexcept;

 private:
  struct Bucket {
    std::uint64_t key = 0;
    common::Nanos last_ns = 0;
    double tokens = 0;
    std::uint32_t limited = 0;  // answers limited since the bucket filled up: drives slip
  };

  RateLimitOptions options_;
  std::vector<Bucket> table_;
};

}  // namespace discodns::server
