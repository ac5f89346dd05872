#include "query/store.hpp"

#include <gtest/gtest.h>

#include "catalog/snapshot.hpp"

#include <atomic>
#include <thread>
#include <vector>

namespace discodns::query {
namespace {

TEST(SnapshotStore, ReadersHandTheSnapshotTheyLetGoOfToTheWriter) {
  SnapshotStore store;
  SnapshotReader reader(store);
  EXPECT_EQ(reader.get(), nullptr);

  auto first = std::make_shared<const Snapshot>();
  std::weak_ptr<const Snapshot> first_alive = first;
  store.publish(std::move(first));
  EXPECT_EQ(reader.get(), first_alive.lock().get());

  auto second = std::make_shared<const Snapshot>();
  const Snapshot* second_ptr = second.get();
  store.publish(std::move(second));
  EXPECT_FALSE(first_alive.expired());  // the reader still answers from it
  EXPECT_EQ(reader.get(), second_ptr);
  EXPECT_FALSE(first_alive.expired());  // retired by the reader, not freed by it
  store.release_retired();
  EXPECT_TRUE(first_alive.expired());
  EXPECT_EQ(reader.get(), second_ptr);
}

TEST(SnapshotStore, PublishingWhileReadersSwitchFreesEverySnapshotButTheCurrent) {
  SnapshotStore store;
  std::vector<std::weak_ptr<const Snapshot>> published;
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      SnapshotReader reader(store);
      while (!done.load())
        (void)reader.get();
    });
  }
  for (int i = 0; i < 2000; ++i) {
    auto snapshot = std::make_shared<const Snapshot>();
    published.push_back(snapshot);
    store.publish(std::move(snapshot));
    if (i % 10 == 0) store.release_retired();
  }
  done = true;
  for (auto& t : readers)
    t.join();  // each reader's last snapshot goes with it
  store.release_retired();
  for (std::size_t i = 0; i + 1 < published.size(); ++i)
    EXPECT_TRUE(published[i].expired()) << i;
  EXPECT_FALSE(published.back().expired());
}

}  // namespace
}  // namespace discodns::query
