#include "daemon/fd_limit.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/log.hpp"

namespace discodns::daemon {
namespace {

// An unlimited hard limit cannot be the soft one: the kernel caps descriptors at nr_open.
rlim_t nr_open() {
  std::ifstream in("/proc/sys/fs/nr_open");
  unsigned long long value = 0;
  return (in >> value) ? static_cast<rlim_t>(value) : rlim_t{1} << 20;
}

}  // namespace

void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  rlim_t target = limit.rlim_max == RLIM_INFINITY ? nr_open() : limit.rlim_max;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur >= target) {
    spdlog::debug("open files limit: {} (already the hard limit)", limit.rlim_cur);
    return;
  }
  rlim_t was = limit.rlim_cur;
  limit.rlim_cur = target;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    spdlog::warn("cannot raise the open files limit from {} to {}: {}", was, target,
                 std::strerror(errno));
    return;
  }
  spdlog::info("open files limit raised from {} to {} (the hard limit)", was, target);
}

}  // namespace discodns::daemon
