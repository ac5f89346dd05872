#include "server/workers.hpp"

#include "catalog/snapshot.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <boost/asio/post.hpp>

#include "common/log.hpp"

namespace discodns::server {
namespace {

// A worker that gets no queries still lets go of an old snapshot, within about a second, so
// the update thread can free it.
TEST(Workers, IdleWorkersLetGoOfOldSnapshots) {
  query::SnapshotStore store;
  store.publish(std::make_shared<const catalog::Snapshot>());
  std::weak_ptr<const catalog::Snapshot> first = store.current();
  WorkerPool pool(2, store);
  pool.start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (first.use_count() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(first.use_count(), 3);  // the store and both workers, which got no query
  store.publish(std::make_shared<const catalog::Snapshot>());
  while (!first.expired() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    store.release_retired();
  }
  EXPECT_TRUE(first.expired());
  pool.stop();
}

}  // namespace
}  // namespace discodns::server

namespace discodns::server {
namespace {

// Issue 13: an exception that escapes every catch boundary and reaches a worker's run loop
// stops the process (systemd restarts a whole one) instead of leaving it half-serving.
TEST(WorkersDeathTest, AnExceptionReachingTheRunLoopAbortsWithAClearLine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        common::init_logging("info");  // stderr, as in discodns
        query::SnapshotStore store;
        WorkerPool pool(1, store);
        boost::asio::post(pool[0].io(), [] { throw std::runtime_error("test: escaped"); });
        pool.start();
        std::this_thread::sleep_for(std::chrono::seconds(5));
        pool.stop();
      },
      "uncaught exception in the query loop, aborting: test: escaped");
}

TEST(Workers, TheRefreshTimerBeatsTheHeartbeat) {
  query::SnapshotStore store;
  WorkerPool pool(1, store);
  pool.start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (pool[0].heartbeat().count() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GT(pool[0].heartbeat().count(), 0u);
  pool.stop();
}

}  // namespace
}  // namespace discodns::server
