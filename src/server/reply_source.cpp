#include "server/reply_source.hpp"

#include <cerrno>
#include <cstring>

#include <boost/system/system_error.hpp>

namespace discodns::server {

void enable_reply_source(int fd, int family) {
  int on = 1;
  int result = family == AF_INET6 ? ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on)
                                  : ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
  if (result != 0)
    throw boost::system::system_error(errno, boost::system::system_category(), "PKTINFO");
}

namespace {

template <typename Info>
std::size_t write_control(int level, int type, const Info& info, ReplySourceControl& out) {
  msghdr carrier{};
  carrier.msg_control = out.bytes;
  carrier.msg_controllen = CMSG_SPACE(sizeof(Info));
  cmsghdr* c = CMSG_FIRSTHDR(&carrier);
  c->cmsg_level = level;
  c->cmsg_type = type;
  c->cmsg_len = CMSG_LEN(sizeof(Info));
  std::memcpy(CMSG_DATA(c), &info, sizeof(Info));
  return CMSG_SPACE(sizeof(Info));
}

}  // namespace

std::size_t reply_source_control(const msghdr& received, ReplySourceControl& out) {
  auto& header = const_cast<msghdr&>(received);  // the CMSG macros take non-const pointers
  for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      // ipi_spec_dst is the local address the datagram reached (the interface's own for a
      // broadcast); no interface, so the reply is routed like any other (asymmetric routes).
      in_pktinfo reply{};
      reply.ipi_spec_dst = info.ipi_spec_dst;
      return write_control(IPPROTO_IP, IP_PKTINFO, reply, out);
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      // A link-local address means nothing without its interface; others route freely.
      if (!IN6_IS_ADDR_LINKLOCAL(&info.ipi6_addr)) info.ipi6_ifindex = 0;
      return write_control(IPPROTO_IPV6, IPV6_PKTINFO, info, out);
    }
  }
  return 0;
}

}  // namespace discodns::server
