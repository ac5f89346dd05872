#include "common/cpu_budget.hpp"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace discodns::common {
namespace {

std::optional<std::string> read_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<long long> read_number(const std::filesystem::path& file) {
  auto text = read_file(file);
  if (!text) return std::nullopt;
  long long value = 0;
  const char* first = text->data();
  auto [end, error] = std::from_chars(first, first + text->size(), value);
  if (error != std::errc{} || end == first) return std::nullopt;
  return value;
}

void tighten(std::optional<double>& best, std::optional<double> quota) {
  if (quota && (!best || *quota < *best)) best = quota;
}

// The cgroup path of `controller` in /proc/self/cgroup ("0::/a/b" for v2, "4:cpu,cpuacct:/a").
std::optional<std::string> own_cgroup(std::string_view controller) {
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string_view controllers = std::string_view(line).substr(first + 1, second - first - 1);
    bool match = controller.empty() ? controllers.empty() : false;
    for (std::size_t pos = 0; !controller.empty() && pos <= controllers.size();) {
      auto comma = controllers.find(',', pos);
      if (controllers.substr(pos, comma - pos) == controller) match = true;
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
    if (match) return line.substr(second + 1);
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> cpu_max_quota(std::string_view cpu_max) {
  auto space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view quota = cpu_max.substr(0, space);
  std::string_view period = cpu_max.substr(space + 1);
  while (!period.empty() && (period.back() == '\n' || period.back() == ' '))
    period.remove_suffix(1);
  long long q = 0;
  long long p = 0;
  if (std::from_chars(quota.data(), quota.data() + quota.size(), q).ec != std::errc{} ||
      std::from_chars(period.data(), period.data() + period.size(), p).ec != std::errc{}) {
    return std::nullopt;  // "max": no quota
  }
  return cfs_quota(q, p);
}

std::optional<double> cfs_quota(long long quota_us, long long period_us) {
  if (quota_us <= 0 || period_us <= 0) return std::nullopt;
  return static_cast<double>(quota_us) / static_cast<double>(period_us);
}

std::optional<double> cgroup_cpu_quota(const std::filesystem::path& root, std::string_view path) {
  std::optional<double> best;
  std::filesystem::path relative = std::filesystem::path(std::string(path)).relative_path();
  // From the process's own cgroup up to the root: a parent's limit binds its children too.
  for (std::filesystem::path at = relative;; at = at.parent_path()) {
    if (auto text = read_file(root / at / "cpu.max")) tighten(best, cpu_max_quota(*text));
    for (const char* v1 : {"cpu", "cpu,cpuacct"}) {
      auto quota = read_number(root / v1 / at / "cpu.cfs_quota_us");
      auto period = read_number(root / v1 / at / "cpu.cfs_period_us");
      if (quota && period) tighten(best, cfs_quota(*quota, *period));
    }
    if (at.empty()) break;
  }
  return best;
}

unsigned usable_cpus() {
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) cpus = std::max(1, CPU_COUNT(&set));
  // The v2 hierarchy and v1's cpu controller may place us differently (hybrid hosts).
  std::optional<double> quota;
  for (std::string_view controller : {"", "cpu"}) {
    if (auto path = own_cgroup(controller))
      tighten(quota, cgroup_cpu_quota("/sys/fs/cgroup", *path));
  }
  if (quota) cpus = std::min(cpus, std::max(1u, static_cast<unsigned>(std::floor(*quota))));
  return cpus;
}

}  // namespace discodns::common
