#include "daemon/reclaimer.hpp"

#include <malloc.h>

#include <chrono>
#include <utility>

#include "common/guarded_loop.hpp"
#include "common/thread_priority.hpp"

namespace discodns::daemon {

Reclaimer::Reclaimer() {
  thread_ = std::thread([this] {
    common::name_current_thread("dd-reclaim");
    common::make_current_thread_background();
    run();
  });
}

Reclaimer::~Reclaimer() {
  stop();
}

void Reclaimer::drop(std::shared_ptr<const void> held) {
  if (!held) return;
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) dropped_.push_back(std::move(held));
  }
  wake_.notify_one();
}  // stopped: `held` goes here, on the caller's thread

void Reclaimer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Reclaimer::run() {
  using Steady = std::chrono::steady_clock;
  std::vector<std::shared_ptr<const void>> batch;
  bool trim_due = false;
  Steady::time_point next_trim{};
  std::unique_lock lock(mutex_);
  for (;;) {
    auto work = [this] { return stopping_ || !dropped_.empty(); };
    if (trim_due) {
      wake_.wait_until(lock, next_trim, work);
    } else {
      wake_.wait(lock, work);
    }
    std::swap(batch, dropped_);
    const bool last = stopping_;
    lock.unlock();
    common::guarded_pass(common::BackgroundThread::kReclaimer, [&] {
      trim_due |= !batch.empty();
      batch.clear();  // the frees, outside the lock: drop() never waits for them
      // What was freed goes back to the kernel, at most once a second (malloc_trim walks the
      // whole heap: tens of milliseconds at 100k instances).
      if (trim_due && Steady::now() >= next_trim) {
        ::malloc_trim(0);
        next_trim = Steady::now() + std::chrono::seconds(1);
        trim_due = false;
      }
    });
    lock.lock();
    if (last && dropped_.empty()) return;
  }
}

}  // namespace discodns::daemon
