// Reclaimer: what the update thread lets go of is freed on another thread, and nothing is lost.
#include "daemon/reclaimer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace discodns::daemon {
namespace {

struct Recorded {
  Recorded(std::atomic<std::thread::id>* on, std::atomic<int>* count)
      : freed_on(on), freed(count) {}
  Recorded(const Recorded&) = delete;
  std::atomic<std::thread::id>* freed_on;
  std::atomic<int>* freed;
  ~Recorded() {
    freed_on->store(std::this_thread::get_id());
    freed->fetch_add(1);
  }
};

TEST(Reclaimer, TheLastReferenceIsFreedOnItsThreadNotTheCallers) {
  std::atomic<std::thread::id> freed_on{};
  std::atomic<int> freed{0};
  Reclaimer reclaimer;
  reclaimer.drop(std::make_shared<const Recorded>(&freed_on, &freed));
  for (int i = 0; i < 2000 && freed.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(freed.load(), 1);
  EXPECT_NE(freed_on.load(), std::this_thread::get_id());
}

TEST(Reclaimer, AnObjectStillHeldElsewhereLivesOnAndStopFreesEverythingDropped) {
  std::atomic<std::thread::id> freed_on{};
  std::atomic<int> freed{0};
  auto kept = std::make_shared<const Recorded>(&freed_on, &freed);
  std::vector<std::shared_ptr<const Recorded>> batch;
  for (int i = 0; i < 100; ++i)
    batch.push_back(std::make_shared<const Recorded>(&freed_on, &freed));
  Reclaimer reclaimer;
  reclaimer.drop(kept);
  reclaimer.drop_all(batch);
  EXPECT_TRUE(batch.empty());
  reclaimer.stop();
  EXPECT_EQ(freed.load(), 100);
  reclaimer.drop(std::make_shared<const Recorded>(&freed_on, &freed));  // after stop
  EXPECT_EQ(freed.load(), 101);
  EXPECT_EQ(freed_on.load(), std::this_thread::get_id());
}

}  // namespace
}  // namespace discodns::daemon
