#include "server/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace discodns::server {
namespace {

constexpr common::Nanos kS = common::kNanosPerSecond;

// A NOERROR answer for `name` (header + question).
std::vector<std::uint8_t> answer(const std::string& name, std::uint8_t rcode = 0) {
  std::vector<std::uint8_t> r = {0x12, 0x34, 0x84, rcode, 0, 1, 0, 1, 0, 0, 0, 0};
  r.push_back(static_cast<std::uint8_t>(name.size()));
  r.insert(r.end(), name.begin(), name.end());
  r.insert(r.end(), {0, 0, 1, 0, 1});
  r.insert(r.end(), {0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 0, 0, 1});
  return r;
}

TEST(RateLimiter, OffByDefault) {
  RateLimiter off({});
  std::uint8_t client[4] = {192, 0, 2, 1};
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(off.check(client, answer("a"), 0), RateLimiter::Verdict::kSend);
}

TEST(RateLimiter, LimitsIdenticalAnswersPerPrefixAndSlips) {
  RateLimiter rrl({.responses_per_second = 3, .slip = 2});
  std::uint8_t client[4] = {192, 0, 2, 1};
  std::uint8_t neighbour[4] = {192, 0, 2, 200};  // same /24: same budget
  std::uint8_t other[4] = {198, 51, 100, 1};
  auto r = answer("www");
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(rrl.check(client, r, 0), RateLimiter::Verdict::kSend);
  EXPECT_EQ(rrl.check(neighbour, r, 0), RateLimiter::Verdict::kDrop);
  EXPECT_EQ(rrl.check(client, r, 0), RateLimiter::Verdict::kSlip);
  EXPECT_EQ(rrl.check(client, r, 0), RateLimiter::Verdict::kDrop);
  // Another prefix, another name: their own budgets.
  EXPECT_EQ(rrl.check(other, r, 0), RateLimiter::Verdict::kSend);
  EXPECT_EQ(rrl.check(client, answer("api"), 0), RateLimiter::Verdict::kSend);
  // A name differing only in case is the same answer.
  EXPECT_NE(rrl.check(client, answer("WWW"), 0), RateLimiter::Verdict::kSend);
  // Tokens come back with time.
  EXPECT_EQ(rrl.check(client, r, kS), RateLimiter::Verdict::kSend);
}

TEST(RateLimiter, NxdomainsShareOneBudgetWhateverTheName) {
  RateLimiter rrl({.responses_per_second = 2, .slip = 0});
  std::uint8_t client[4] = {10, 0, 0, 1};
  EXPECT_EQ(rrl.check(client, answer("r1", 3), 0), RateLimiter::Verdict::kSend);
  EXPECT_EQ(rrl.check(client, answer("r2", 3), 0), RateLimiter::Verdict::kSend);
  EXPECT_EQ(rrl.check(client, answer("r3", 3), 0), RateLimiter::Verdict::kDrop);
}

// Two names whose answers share a bucket must not each reset it to full: alternating them
// would defeat the limit (issue 13). And the hash is keyed: another key, other collisions.
TEST(RateLimiter, CollidingNamesShareTheLimitInsteadOfResettingIt) {
  const std::array<std::uint8_t, 16> key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  RateLimiter rrl({.responses_per_second = 5, .slip = 0}, key);
  std::uint8_t client[4] = {192, 0, 2, 1};
  const auto first = answer("n0");
  std::vector<std::uint8_t> second;
  for (int i = 1; second.empty(); ++i) {
    ASSERT_LT(i, 2'000'000) << "no collision found";
    auto candidate = answer("n" + std::to_string(i));
    if (rrl.bucket_of(client, candidate) == rrl.bucket_of(client, first)) second = candidate;
  }
  int sent = 0;
  for (int i = 0; i < 100; ++i) {
    sent += rrl.check(client, first, 0) == RateLimiter::Verdict::kSend;
    sent += rrl.check(client, second, 0) == RateLimiter::Verdict::kSend;
  }
  EXPECT_LE(sent, 5 + 1);  // one burst, not one per switch
  // A bucket idle for a second is anyone's again, with a full burst.
  EXPECT_EQ(rrl.check(client, second, 2 * kS), RateLimiter::Verdict::kSend);
  const std::array<std::uint8_t, 16> other_key{9};
  RateLimiter other({.responses_per_second = 5}, other_key);
  EXPECT_NE(other.bucket_of(client, second), other.bucket_of(client, first));
}

TEST(RateLimiter, SlipReplyIsHeaderAndQuestionWithTc) {
  auto r = answer("www");
  std::size_t size = RateLimiter::slip_reply(r);
  EXPECT_EQ(size, 12u + 5u + 4u);
  EXPECT_TRUE(r[2] & 0x02);
  EXPECT_EQ(r[7], 0);  // ANCOUNT
  EXPECT_EQ(r[5], 1);  // QDCOUNT kept
}

}  // namespace
}  // namespace discodns::server
