// Clock: wall time in nanoseconds since the Unix epoch (the unit discovery uses for
// renew timestamps). Injected everywhere time matters so TTL logic is testable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace discodns::common {

using Nanos = std::int64_t;
inline constexpr Nanos kNanosPerSecond = 1'000'000'000;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Nanos now_ns() const = 0;
};

class SystemClock final : public Clock {
 public:
  Nanos now_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// For tests: time moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Nanos start) : now_(start) {}
  Nanos now_ns() const override { return now_.load(); }
  void set(Nanos t) { now_.store(t); }
  void advance(Nanos d) { now_.fetch_add(d); }

 private:
  std::atomic<Nanos> now_;
};

inline Nanos wall_now_ns() {
  return SystemClock{}.now_ns();
}

}  // namespace discodns::common
