#include "server/rate_limiter.hpp"

#include <algorithm>

namespace discodns::server {
namespace {

constexpr std::size_t kTableSize = 1 << 16;

std::uint64_t mix(std::uint64_t h, std::uint8_t byte) {
  return (h ^ byte) * 1099511628211ull;
}

// Offset just past the question, or 0 when the response has none that parses.
std::size_t question_end(std::span<const std::uint8_t> r) {
  if (r.size() < 12 || r[4] != 0 || r[5] != 1) return 0;
  std::size_t pos = 12;
  while (pos < r.size() && r[pos] != 0) {
    if (r[pos] > 63) return 0;
    pos += r[pos] + 1;
  }
  pos += 1 + 4;
  return pos <= r.size() ? pos : 0;
}

}  // namespace

RateLimiter::RateLimiter(const RateLimitOptions& options) : options_(options) {
  if (enabled()) table_.resize(kTableSize);
}

RateLimiter::Verdict RateLimiter::check(std::span<const std::uint8_t> client,
                                        std::span<const std::uint8_t> response,
                                        common::Nanos now) noexcept {
  if (!enabled()) return Verdict::kSend;
  std::uint64_t h = 14695981039346656037ull;
  // Client prefix.
  unsigned bits = client.size() == 4 ? options_.ipv4_prefix : options_.ipv6_prefix;
  for (std::size_t i = 0; i < client.size() && bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
    std::uint8_t mask = bits >= 8 ? 0xFF : static_cast<std::uint8_t>(0xFF << (8 - bits));
    h = mix(h, client[i] & mask);
  }
  std::uint8_t rcode = response.size() > 3 ? (response[3] & 0x0F) : 0;
  h = mix(h, rcode);
  // Positive answers: per name and type (lower-cased). NXDOMAIN and errors: per rcode only,
  // so random names cannot dodge the limit.
  if (rcode == 0) {
    std::size_t end = question_end(response);
    for (std::size_t i = 12; i < end; ++i) {
      std::uint8_t c = response[i];
      h = mix(h, (c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c + 32) : c);
    }
  }
  Bucket& b = table_[h & (kTableSize - 1)];
  double rate = options_.responses_per_second;
  if (b.key != h) {
    b = {h, now, rate, 0};  // a new bucket (or a collision) starts full: one second of burst
  } else {
    double elapsed = static_cast<double>(now - b.last_ns) / 1e9;
    b.tokens = std::min(rate, b.tokens + std::max(0.0, elapsed) * rate);
    b.last_ns = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    b.limited = 0;
    return Verdict::kSend;
  }
  ++b.limited;
  if (options_.slip != 0 && b.limited % options_.slip == 0) return Verdict::kSlip;
  return Verdict::kDrop;
}

std::size_t RateLimiter::slip_reply(std::span<std::uint8_t> r) noexcept {
  std::size_t end = question_end(r);
  if (end == 0) end = 12;
  r[2] |= 0x02;  // TC
  for (std::size_t i = 6; i < 12; ++i)
    r[i] = 0;  // no records (ANCOUNT, NSCOUNT, ARCOUNT)
  if (end == 12) r[4] = r[5] = 0;
  return end;
}

}  // namespace discodns::server
