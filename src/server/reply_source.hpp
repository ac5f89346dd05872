// Replies from the address a query was sent to, on UDP sockets bound to a wildcard address:
// asks the kernel for each datagram's destination (IP_PKTINFO, IPV6_RECVPKTINFO) and turns it
// into the source of the reply. Without it a multi-homed host answers from whatever address
// routing picks, and resolvers drop the reply as coming from the wrong server.
#pragma once

#include <sys/socket.h>

#include <cstddef>

#include <netinet/in.h>

namespace discodns::server {

// Room for one destination-info control message, either family.
inline constexpr std::size_t kReplySourceControlSize = CMSG_SPACE(sizeof(in6_pktinfo));

struct alignas(cmsghdr) ReplySourceControl {
  unsigned char bytes[kReplySourceControlSize];
};

// Makes the kernel report each datagram's destination on `fd`, an AF_INET or AF_INET6 socket
// (on a dual-stack AF_INET6 socket, IPv4 datagrams are reported as v4-mapped addresses).
// Throws boost::system::system_error.
void enable_reply_source(int fd, int family);

// Writes into `out` the control message that makes a reply to `received` leave from the
// address it was sent to; returns its length, or 0 when `received` carries no destination
// (the kernel then picks the source as it would without this).
std::size_t reply_source_control(const msghdr& received, ReplySourceControl& out);

}  // namespace discodns::server
