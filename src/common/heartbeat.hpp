// A progress counter that a loop bumps once per pass and the watchdog reads: one relaxed
// atomic, no lock and no allocation, so query workers may bump it too.
#pragma once

#include <atomic>
#include <cstdint>

namespace discodns::common {

class Heartbeat {
 public:
  void beat() noexcept { beats_.fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t count() const noexcept { return beats_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> beats_{0};
};

}  // namespace discodns::common
