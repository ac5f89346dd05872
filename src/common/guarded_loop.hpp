// A catch boundary for one pass of a background thread's loop: an exception is logged,
// counted per thread (discodns_background_errors_total), and followed by a short pause, so the
// loop goes on, cannot spin on a fault that repeats, and never reaches std::terminate.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <iterator>
#include <thread>

namespace discodns::common {

// The background threads, in the order of kBackgroundThreadNames.
enum class BackgroundThread : std::uint8_t {
  kAdmin,
  kRegistry,
  kFile,
  kUpdate,
  kReclaimer,
  kState,
  kWatchdog,
};
inline constexpr const char* kBackgroundThreadNames[] = {
    "admin", "registry", "file", "update", "reclaimer", "state", "watchdog"};
inline constexpr std::size_t kBackgroundThreads = std::size(kBackgroundThreadNames);

// Long enough that a fault on every pass costs little CPU and a log line a second at most.
inline constexpr std::chrono::milliseconds kBackgroundErrorPause{1000};

// Logs `what` (an error line naming the thread) and counts it. Never throws.
void note_background_error(BackgroundThread thread, const char* what) noexcept;
// Exceptions caught so far on that kind of thread, process-wide (for /metrics).
std::uint64_t background_errors(BackgroundThread thread) noexcept;

// Runs pass(); true when it returned normally. On an exception: note it, sleep `pause`,
// return false. Call it without holding a lock that others need during the pause.
template <class F>
bool guarded_pass(BackgroundThread thread, F&& pass,
                  std::chrono::milliseconds pause = kBackgroundErrorPause) {
  try {
    pass();
    return true;
  } catch (const std::exception& e) {
    note_background_error(thread, e.what());
  } catch (...) {
    note_background_error(thread, "an exception of unknown type");
  }
  std::this_thread::sleep_for(pause);
  return false;
}

}  // namespace discodns::common
