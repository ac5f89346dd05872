// Socket options Asio has no portable name for.
#pragma once

namespace discodns::server {

// SO_REUSEPORT: several sockets (one per worker) share one address; the kernel spreads
// incoming datagrams over them by a hash of the sender. Throws boost::system::system_error.
void set_reuse_port(int fd);

}  // namespace discodns::server
