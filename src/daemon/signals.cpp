#include "daemon/signals.hpp"

#include <pthread.h>
#include <signal.h>

#include <ctime>
#include <initializer_list>

namespace discodns::daemon {
namespace {

sigset_t signal_set(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals)
    sigaddset(&set, s);
  return set;
}

}  // namespace

void block_stop_signals() {
  sigset_t set = signal_set({SIGTERM, SIGINT, SIGHUP});
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Writes to a closed TCP peer must fail with EPIPE, not kill the process.
  signal(SIGPIPE, SIG_IGN);
}

int wait_for_signal() {
  sigset_t set = signal_set({SIGTERM, SIGINT, SIGHUP});
  int received = 0;
  while (sigwait(&set, &received) != 0) {
  }
  return received;
}

bool wait_for_stop_signal(std::chrono::milliseconds timeout) {
  sigset_t set = signal_set({SIGTERM, SIGINT});
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return false;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec wait{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    if (sigtimedwait(&set, nullptr, &wait) > 0) return true;  // EINTR, EAGAIN: look again
  }
}

}  // namespace discodns::daemon
