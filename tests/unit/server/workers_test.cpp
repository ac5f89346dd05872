#include "server/workers.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace discodns::server {
namespace {

// A worker that gets no queries still lets go of an old snapshot, within about a second, so
// the update thread can free it.
TEST(Workers, IdleWorkersLetGoOfOldSnapshots) {
  catalog::SnapshotStore store;
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
