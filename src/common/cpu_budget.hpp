// How many CPUs this process may really use: the CPUs it may run on (sched_getaffinity) and
// the cgroup CPU quota (v2 cpu.max or v1 cpu.cfs_quota_us, the tightest one on the way up to
// the root), so that `workers = 0` in a container limited to 2 CPUs on a 64-core host starts
// 2 query threads, not 64 that the kernel throttles.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace discodns::common {

// The quota in CPUs of one cgroup v2 `cpu.max` text ("max 100000" -> none, "150000 100000"
// -> 1.5), or of v1 quota/period values (quota -1 -> none). Malformed -> none.
std::optional<double> cpu_max_quota(std::string_view cpu_max);
std::optional<double> cfs_quota(long long quota_us, long long period_us);

// The tightest quota of the cgroup `path` (as /proc/self/cgroup names it) and its ancestors,
// read below `root` (normally /sys/fs/cgroup): v2 files first, then v1's cpu controller.
std::optional<double> cgroup_cpu_quota(const std::filesystem::path& root, std::string_view path);

// min(affinity CPUs, floor(quota)), at least 1.
unsigned usable_cpus();

}  // namespace discodns::common
