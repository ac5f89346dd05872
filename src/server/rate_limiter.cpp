#include "server/rate_limiter.hpp"

#include <algorithm>
#include "common/siphash.hpp"
#include "wire/name.hpp"

namespace discodns::server {
namespace {

constexpr std::size_t kTableSize = 1 << 16;

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

RateLimiter::RateLimiter(const RateLimitOptions& options)
    : RateLimiter(options, common::random_siphash_key()) {}

RateLimiter::RateLimiter(const RateLimitOptions& options, const std::array<std::uint8_t, 16>& key)
    : options_(options), key_(key) {
  if (enabled()) table_.resize(kTableSize);
}

std::uint64_t RateLimiter::hash(std::span<const std::uint8_t> client,
                                std::span<const std::uint8_t> response) const noexcept {
  // Client prefix, rcode, then for positive answers the question (name lower-cased, type,
  // class): NXDOMAIN and errors share one budget per rcode, so random names cannot dodge it.
  std::array<std::uint8_t, 16 + 1 + 255 + 4> material;
  std::size_t n = 0;
  unsigned bits = client.size() == 4 ? options_.ipv4_prefix : options_.ipv6_prefix;
  for (std::size_t i = 0; i < client.size() && i < 16 && bits > 0;
       ++i, bits = bits >= 8 ? bits - 8 : 0) {
    std::uint8_t mask = bits >= 8 ? 0xFF : static_cast<std::uint8_t>(0xFF << (8 - bits));
    material[n++] = client[i] & mask;
  }
  std::uint8_t rcode = response.size() > 3 ? (response[3] & 0x0F) : 0;
  material[n++] = rcode;
  if (rcode == 0) {
    std::size_t end = question_end(response);
    for (std::size_t i = 12; i < end && n < material.size(); ++i) {
      material[n++] = static_cast<std::uint8_t>(wire::ascii_lower(static_cast<char>(response[i])));
    }
  }
  std::uint64_t h = common::siphash24(key_, std::span(material.data(), n));
  return h == 0 ? 1 : h;  // 0 marks an unused bucket
}

std::size_t RateLimiter::bucket_of(std::span<const std::uint8_t> client,
                                   std::span<const std::uint8_t> response) const noexcept {
  return hash(client, response) & (kTableSize - 1);
}

RateLimiter::Verdict RateLimiter::check(std::span<const std::uint8_t> client,
                                        std::span<const std::uint8_t> response,
                                        common::Nanos now) noexcept {
  if (!enabled()) return Verdict::kSend;
  const std::uint64_t h = hash(client, response);
  Bucket& b = table_[h & (kTableSize - 1)];
  double rate = options_.responses_per_second;
  if (b.key != h) {
    // A new key starts full (one second of burst) when the bucket is free or idle long
    // enough to have refilled anyway; one taking over a bucket in use starts empty.
    const bool idle = b.key == 0 || now - b.last_ns >= common::kNanosPerSecond;
    b = {h, now, idle ? rate : 0.0, 0};
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
