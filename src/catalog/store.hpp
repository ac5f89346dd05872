// SnapshotStore: the one place the update path hands a new Snapshot to the query path.
// One writer publishes; readers on any thread take the current one with one atomic load of
// the generation, refreshing their cached shared_ptr only when it moved; the snapshots they
// let go of are freed by the writer (release_retired), never on a query thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "catalog/snapshot.hpp"

namespace discodns::catalog {

class SnapshotStore {
 public:
  SnapshotStore() {
    retired_.reserve(kMaxRetired);
    releasing_.reserve(kMaxRetired);
  }

  // Returns the snapshot it replaces, for the caller to let go of where it chooses.
  std::shared_ptr<const Snapshot> publish(std::shared_ptr<const Snapshot> snapshot) {
    std::lock_guard lock(mutex_);  // held for pointer swaps only; readers rarely take it
    auto old = std::exchange(current_, std::move(snapshot));
    generation_.fetch_add(1, std::memory_order_release);
    return old;
  }
  std::shared_ptr<const Snapshot> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // For readers: swaps `held` for the current snapshot. The one let go of is kept until
  // release_retired(), so that a query thread never frees a snapshot (a full one is tens of
  // megabytes: milliseconds of free() in the middle of answering).
  void refresh(std::shared_ptr<const Snapshot>& held) const {
    std::lock_guard lock(mutex_);
    if (held && retired_.size() < kMaxRetired) retired_.push_back(std::move(held));
    held = current_;  // past kMaxRetired (readers far ahead of release_retired) the reader frees
  }
  // Frees (or lets go of) the snapshots readers have retired. One thread only: the update
  // thread, between builds.
  void release_retired() {
    {
      std::lock_guard lock(mutex_);
      std::swap(retired_, releasing_);  // both keep their reserved capacity: no allocation
    }
    releasing_.clear();
  }
  // The same for a writer that frees them on another thread (daemon::Reclaimer).
  std::vector<std::shared_ptr<const Snapshot>> take_retired() {
    std::vector<std::shared_ptr<const Snapshot>> taken;
    taken.reserve(kMaxRetired);
    std::lock_guard lock(mutex_);
    std::swap(retired_, taken);  // retired_ keeps a reserved capacity
    return taken;
  }

 private:
  static constexpr std::size_t kMaxRetired = 256;
  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> current_;
  std::atomic<std::uint64_t> generation_{0};
  mutable std::vector<std::shared_ptr<const Snapshot>> retired_;
  std::vector<std::shared_ptr<const Snapshot>> releasing_;  // release_retired()'s thread only
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
      store_.refresh(cached_);
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
