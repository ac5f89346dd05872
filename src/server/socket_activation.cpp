#include "server/socket_activation.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace discodns::server {
namespace {

constexpr int kFirstListenFd = 3;  // SD_LISTEN_FDS_START
constexpr long kMaxListenFds = 1024;

int socket_option(int fd, int option) {
  int value = 0;
  socklen_t size = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, option, &value, &size) != 0) return -1;
  return value;
}

bool parse_count(const char* text, long& out) {
  if (text == nullptr || *text == '\0') return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtol(text, &end, 10);
  return errno == 0 && *end == '\0';
}

// Threads of this process (/proc/self/task); 0 when /proc is not there to tell.
std::size_t thread_count() {
  std::error_code error;
  std::size_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/task", error), end; !error && it != end;
       it.increment(error))
    ++n;
  return error ? 0 : n;
}

}  // namespace

std::optional<InheritedSockets> take_inherited_sockets() {
  if (thread_count() > 1)
    throw std::logic_error("socket activation: $LISTEN_* must be taken before any thread starts");
  long pid = 0;
  long count = 0;
  bool for_us = parse_count(std::getenv("LISTEN_PID"), pid) && pid == ::getpid() &&
                parse_count(std::getenv("LISTEN_FDS"), count) && count > 0;
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (!for_us) return std::nullopt;
  if (count > kMaxListenFds)
    throw std::runtime_error("socket activation: LISTEN_FDS=" + std::to_string(count) +
                             " is not a sane number of sockets");
  InheritedSockets sockets;
  for (int fd = kFirstListenFd; fd < kFirstListenFd + count; ++fd) {
    std::string which = "socket activation: descriptor " + std::to_string(fd);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    sockaddr_storage local{};
    socklen_t size = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size) != 0)
      throw std::runtime_error(which + " is not a socket: " + std::strerror(errno));
    if (local.ss_family != AF_INET && local.ss_family != AF_INET6)
      throw std::runtime_error(which + " is not an IPv4 or IPv6 socket");
    int type = socket_option(fd, SO_TYPE);
    if (type == SOCK_DGRAM) {
      sockets.udp.push_back(fd);
    } else if (type == SOCK_STREAM && socket_option(fd, SO_ACCEPTCONN) == 1) {
      sockets.tcp.push_back(fd);
    } else {
      throw std::runtime_error(which + " is neither a UDP socket nor a listening TCP socket");
    }
  }
  if (sockets.udp.empty())
    throw std::runtime_error("socket activation: no UDP socket passed (ListenDatagram= missing)");
  return sockets;
}

}  // namespace discodns::server
