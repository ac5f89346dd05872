// SnapshotStore: the one place the update path hands a new Snapshot to the query path.
// One writer publishes; readers on any thread take the current one with one atomic load of
// the generation, refreshing their cached shared_ptr only when it moved.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "catalog/snapshot.hpp"

namespace discodns::catalog {

class SnapshotStore {
 public:
  void publish(std::shared_ptr<const Snapshot> snapshot) {
    std::lock_guard lock(mutex_);  // held for a pointer swap only; readers rarely take it
    current_ = std::move(snapshot);
    generation_.fetch_add(1, std::memory_order_release);
  }
  std::shared_ptr<const Snapshot> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> current_;
  std::atomic<std::uint64_t> generation_{0};
};

// Owned by one query thread: returns the current snapshot, touching the shared state only
// when a new generation was published.
class SnapshotReader {
 public:
  explicit SnapshotReader(const SnapshotStore& store) : store_(store) {}
  // Null until the first publish.
  const Snapshot* get() {
    std::uint64_t generation = store_.generation();
    if (generation != seen_) {
      cached_ = store_.current();
      seen_ = generation;
    }
    return cached_.get();
  }

 private:
  const SnapshotStore& store_;
  std::shared_ptr<const Snapshot> cached_;
  std::uint64_t seen_ = 0;
};

}  // namespace discodns::catalog
