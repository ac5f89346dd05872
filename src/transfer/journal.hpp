// The IXFR journal: the deltas of the most recent publishes, oldest first, each following the
// one before it, bounded by count and by bytes. A journal never changes: the update thread
// makes a new one per publish (sharing the deltas) and JournalStore hands the current one to
// transfer sessions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "catalog/zone_delta.hpp"

namespace discodns::transfer {

struct JournalLimits {
  std::size_t max_changes = 100;
  std::size_t max_bytes = 16u << 20;
};

class Journal {
 public:
  // This journal plus `delta`, trimmed to `limits` from the oldest. A delta that does not
  // follow the newest one (a gap: a publish without a delta) starts the journal afresh.
  std::shared_ptr<const Journal> with(std::shared_ptr<const catalog::ZoneDelta> delta,
                                      const JournalLimits& limits) const;

  // The deltas that take a secondary at `serial` to `target`, in order; empty when the
  // journal does not reach back to `serial` (or `target` is not one of its serials).
  std::vector<const catalog::ZoneDelta*> chain(std::uint32_t serial, std::uint32_t target) const;

  std::size_t size() const { return deltas_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  std::deque<std::shared_ptr<const catalog::ZoneDelta>> deltas_;
  std::size_t bytes_ = 0;
};

// One writer (the update thread), readers on worker threads; taken once per IXFR.
class JournalStore {
 public:
  JournalStore() : current_(std::make_shared<Journal>()) {}
  void publish(std::shared_ptr<const Journal> journal) {
    std::lock_guard lock(mutex_);
    current_ = std::move(journal);
  }
  std::shared_ptr<const Journal> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Journal> current_;
};

}  // namespace discodns::transfer
