// Queries first. The threads that follow the registry and build snapshots run under Linux's
// SCHED_IDLE policy: when a core has spare time they run at full speed, but they never preempt
// a query worker when they wake (as a nice-19 thread still would, for a slice of up to a few
// ms: enough to overflow a busy socket's queue), and a saturated worker keeps ~99.7 % of its
// core (SCHED_IDLE weighs 3 against 1024) while registry changes still flow, batched into
// fewer snapshot builds. Falls back to nice 19 where SCHED_IDLE is refused.
#pragma once

namespace discodns::common {

inline constexpr int kBackgroundNice = 19;

// Moves the calling thread to SCHED_IDLE, else to kBackgroundNice (Linux: per thread). Best
// effort: returns false if the kernel refused both.
bool make_current_thread_background();

// Names the calling thread for top -H, perf and /proc/PID/task/*/comm (at most 15 bytes).
void name_current_thread(const char* name);

}  // namespace discodns::common
