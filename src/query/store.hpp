// SnapshotStore: the one place the update path hands a new Snapshot to the query path.
// One writer publishes; readers on any thread take the current one with one atomic load of
// the generation, refreshing their cached shared_ptr only when it moved; the snapshots they
// let go of go back to the writer (take_retired), which has them freed off the query path.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace discodns::catalog {
class Snapshot;  // only handed around here: the store never looks inside one
}  // namespace discodns::catalog

namespace discodns::query {

using catalog::Snapshot;

class SnapshotStore {
 public:
  SnapshotStore() { retired_.reserve(kMaxRetired); }

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
  // take_retired(), so that a query thread never frees a snapshot (a full one is tens of
  // megabytes: milliseconds of free() in the middle of answering).
  void refresh(std::shared_ptr<const Snapshot>& held) const {
    std::lock_guard lock(mutex_);
    if (held && retired_.size() < kMaxRetired) retired_.push_back(std::move(held));
    held = current_;  // past kMaxRetired (readers far ahead of the writer) the reader frees
  }
  // The snapshots readers have retired, for the writer to free (the daemon hands them to its
  // daemon::Reclaimer thread). One thread only.
  std::vector<std::shared_ptr<const Snapshot>> take_retired() {
    std::vector<std::shared_ptr<const Snapshot>> taken;
    taken.reserve(kMaxRetired);
    std::lock_guard lock(mutex_);
    std::swap(retired_, taken);  // retired_ keeps a reserved capacity
    return taken;
  }
  // Frees (or lets go of) the retired snapshots here, on the calling thread.
  void release_retired() { take_retired(); }

 private:
  static constexpr std::size_t kMaxRetired = 256;
  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> current_;
  std::atomic<std::uint64_t> generation_{0};
  mutable std::vector<std::shared_ptr<const Snapshot>> retired_;
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

}  // namespace discodns::query
