// Queries first. The threads that follow the registry and build snapshots run at the lowest
// CPU priority (nice 19): when a core is idle they run at full speed, and when queries
// saturate it, the workers keep ~97 % of it (nice 19 weighs 15 against nice 0's 1024 in
// Linux's CFS) while registry changes still flow, batched into fewer snapshot builds
// (tests/bench/propagation.py: 100 changes/s on a saturated core still gave 12 builds/s).
#pragma once

namespace discodns::common {

inline constexpr int kBackgroundNice = 19;

// Lowers the calling thread's priority to kBackgroundNice (Linux: per thread). Best effort:
// returns false if the kernel refused.
bool make_current_thread_background();

// Names the calling thread for top -H, perf and /proc/PID/task/*/comm (at most 15 bytes).
void name_current_thread(const char* name);

}  // namespace discodns::common
