// systemd socket activation (sd_listen_fds(3)) without libsystemd: the sockets a .socket unit
// opened for us arrive as descriptors 3, 4, … with $LISTEN_FDS and $LISTEN_PID set. They
// replace [server] listen, so port 53 is bound by systemd and the service needs no privilege.
#pragma once

#include <optional>
#include <vector>

namespace discodns::server {

struct InheritedSockets {
  std::vector<int> udp;  // bound datagram sockets (AF_INET or AF_INET6)
  std::vector<int> tcp;  // listening stream sockets
};

// The sockets passed to this process, or nothing when $LISTEN_FDS is unset or names another
// process. Unsets the variables (children must not take them) and marks each descriptor
// close-on-exec. Throws std::runtime_error for a descriptor that is neither a bound UDP nor a
// listening TCP socket (a .socket unit with a FIFO or a Unix socket is a configuration error).
// getenv and unsetenv race with any other thread's getenv (libcurl, glibc's resolver), so it
// must run while the process has one thread: it throws std::logic_error otherwise (main calls
// it first).
std::optional<InheritedSockets> take_inherited_sockets();

}  // namespace discodns::server
