// Socket options Asio has no portable name for.
#pragma once

namespace discodns::server {

// SO_REUSEPORT: several sockets (one per worker) share one address; the kernel spreads
// incoming datagrams over them by a hash of the sender. Throws boost::system::system_error.
void set_reuse_port(int fd);

// Large UDP buffers: a burst of queries waits in the kernel instead of being dropped while
// the worker answers the previous batch. Best effort: without CAP_NET_ADMIN the kernel caps
// it at net.core.*mem_max.
void set_udp_buffers(int fd);

}  // namespace discodns::server
