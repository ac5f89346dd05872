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
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

}  // namespace discodns::server
