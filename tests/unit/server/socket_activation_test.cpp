// take_inherited_sockets runs only while the process has one thread: getenv/unsetenv race with
// any other thread's getenv (issue 13).
#include "server/socket_activation.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

namespace discodns::server {
namespace {

TEST(SocketActivation, RefusedOnceAnotherThreadExists) {
  std::atomic<bool> done{false};
  std::thread other([&] {
    while (!done.load())
      std::this_thread::yield();
  });
  EXPECT_THROW(take_inherited_sockets(), std::logic_error);
  done = true;
  other.join();
}

TEST(SocketActivation, NotForUsUnsetsTheVariablesAndReturnsNothing) {
  ::setenv("LISTEN_PID", std::to_string(::getpid() + 1).c_str(), 1);
  ::setenv("LISTEN_FDS", "2", 1);
  EXPECT_EQ(take_inherited_sockets(), std::nullopt);
  EXPECT_EQ(std::getenv("LISTEN_PID"), nullptr);
  EXPECT_EQ(std::getenv("LISTEN_FDS"), nullptr);
}

}  // namespace
}  // namespace discodns::server
