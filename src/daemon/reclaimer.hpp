// Reclaimer: frees, on a background thread of its own, what the update thread lets go of (old
// snapshots, old registry versions), and hands the memory back to the kernel (malloc_trim), so
// that a reconcile's garbage (100,000 instances' strings when every app renewed) never delays
// the thread that publishes the next change.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace discodns::daemon {

class Reclaimer {
 public:
  Reclaimer();
  ~Reclaimer();
  Reclaimer(const Reclaimer&) = delete;
  Reclaimer& operator=(const Reclaimer&) = delete;

  // Takes `held` (null is fine): if it was the last reference, the object is freed on the
  // reclaimer's thread, soon.
  void drop(std::shared_ptr<const void> held);
  template <class T>
  void drop_all(std::vector<std::shared_ptr<const T>>& held) {
    for (auto& p : held)
      drop(std::move(p));
    held.clear();
  }
  // Frees everything dropped so far, then stops the thread (later drops free at once).
  // Idempotent.
  void stop();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<const void>> dropped_;  // guarded by mutex_
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace discodns::daemon
