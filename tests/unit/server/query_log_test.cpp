#include "server/query_log.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <vector>

namespace discodns::server {
namespace {

TEST(QuerySampler, OffByDefault) {
  QuerySampler sampler;
  for (int i = 0; i < 1000; ++i)
    EXPECT_FALSE(sampler.hit());
}

TEST(QuerySampler, OneInN) {
  QuerySampler sampler(3);
  std::vector<bool> hits;
  for (int i = 0; i < 9; ++i)
    hits.push_back(sampler.hit());
  EXPECT_EQ(hits, (std::vector<bool>{false, false, true, false, false, true, false, false, true}));
}

TEST(QuerySampler, EveryQueryWhenOne) {
  QuerySampler sampler(1);
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(sampler.hit());
}

// "Goim.Example." A IN with one OPT record after the question (ARCOUNT = 1).
const std::vector<std::uint8_t> kQuery = {
    0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  // header
    4,    'G',  'o',  'i',  'm',  7,    'E',  'x',  'a',  'm',  'p',  'l',
    'e',  0,    0x00, 0x01, 0x00, 0x01,                                 // A IN
    0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};  // OPT
const std::uint8_t kClient[] = {192, 0, 2, 1};

query::Outcome answered(std::uint8_t rcode, std::size_t size, bool truncated = false) {
  query::Outcome o;
  o.respond = true;
  o.rcode = rcode;
  o.qtype = 1;
  o.size = size;
  o.truncated = truncated;
  return o;
}

TEST(QueryLog, WritesTheLineOnDrain) {
  std::vector<std::string> lines;
  QueryLog log(2, [&](std::string_view line) { lines.emplace_back(line); });
  EXPECT_TRUE(log.record(1, query::Transport::kUdp, kClient, kQuery, answered(0, 86)));
  EXPECT_TRUE(log.record(0, query::Transport::kTcp, kClient, kQuery, answered(3, 120, true)));
  EXPECT_EQ(log.drain(), 2u);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "query tcp 192.0.2.1 goim.example. A NXDOMAIN 120B TC");
  EXPECT_EQ(lines[1], "query udp 192.0.2.1 goim.example. A NOERROR 86B");
}

TEST(QueryLog, UnparsableQuestionIsADash) {
  std::vector<std::string> lines;
  QueryLog log(1, [&](std::string_view line) { lines.emplace_back(line); });
  std::vector<std::uint8_t> header_only(kQuery.begin(), kQuery.begin() + 12);
  log.record(0, query::Transport::kUdp, {}, header_only, answered(1, 12));
  log.drain();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "query udp ? - A FORMERR 12B");
}

// The point of the queue: a log that blocks (a full journal) never holds up record(); lines
// beyond the queue are dropped and said so, and the queue drains once the log moves again.
TEST(QueryLog, BlockedSinkNeverBlocksTheQueryThread) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> written{0};
  QueryLog log(1, [&](std::string_view) {
    released.wait();
    ++written;
  });
  log.start();
  // A record() that waited for the sink would hang here (the test times out).
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < 10 * QueryLog::kQueueLength; ++i) {
    if (!log.record(0, query::Transport::kUdp, kClient, kQuery, answered(0, 86))) ++dropped;
  }
  EXPECT_GE(dropped, 8 * QueryLog::kQueueLength);
  release.set_value();
  log.stop();  // writes what is queued
  EXPECT_EQ(static_cast<std::size_t>(written.load()), 10 * QueryLog::kQueueLength - dropped);
}

}  // namespace
}  // namespace discodns::server
