#include "server/socket_options.hpp"

#include <sys/socket.h>

#include <cerrno>

#include <boost/system/system_error.hpp>

namespace discodns::server {

void set_reuse_port(int fd) {
  int on = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
    throw boost::system::system_error(errno, boost::system::system_category(), "SO_REUSEPORT");
}

void set_udp_buffers(int fd) {
  int size = 4 << 20;
  // The FORCE variants pass net.core.*mem_max (Debian's default is 208 KiB, ~300 queries) but
  // need CAP_NET_ADMIN; without it, the plain option gets what the sysctl allows.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

}  // namespace discodns::server
