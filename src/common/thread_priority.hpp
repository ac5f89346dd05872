// Queries first, gently. The threads that follow the registry and build snapshots run at nice
// 10: on a contended core a query worker outweighs each of them about nine to one (CFS weights
// 1024 and 110), yet they are never starved, by our workers or by anything else on the host
// (SCHED_IDLE or nice 19 were tried: a busy neighbour then held registry updates back for
// seconds).
// What bounds their CPU is the update loop's own rest after each build (daemon.cpp).
#pragma once

namespace discodns::common {

inline constexpr int kBackgroundNice = 10;

// Sets the calling thread's nice value to kBackgroundNice (Linux: per thread). Best effort:
// returns false if the kernel refused.
bool make_current_thread_background();

// Names the calling thread for top -H, perf and /proc/PID/task/*/comm (at most 15 bytes).
void name_current_thread(const char* name);

}  // namespace discodns::common
