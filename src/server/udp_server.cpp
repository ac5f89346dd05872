#include "server/udp_server.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>

#include <boost/asio/ip/v6_only.hpp>

#include "common/log.hpp"
#include "server/reply_source.hpp"
#include "server/socket_options.hpp"
#include "server/transfer_hook.hpp"

namespace discodns::server {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

constexpr std::size_t kBatchSize = 32;
// A DNS query over UDP is small; anything larger arrives with MSG_TRUNC and is dropped. An
// answer never exceeds our EDNS payload size (at most 4096). Small slots keep a batch's
// buffers in cache.
constexpr std::size_t kReceiveSize = 4096;
constexpr std::size_t kSendSize = 4096;
// Batches drained per wake-up before yielding to the worker's other sockets and sessions.
constexpr int kMaxRoundsPerWake = 8;

bool is_wildcard(const sockaddr_storage& local) {
  if (local.ss_family == AF_INET)
    return reinterpret_cast<const sockaddr_in&>(local).sin_addr.s_addr == htonl(INADDR_ANY);
  if (local.ss_family == AF_INET6)
    return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6&>(local).sin6_addr);
  return false;
}

}  // namespace

// Receive and response slots of one worker, used by all its sockets in turn (they run on the
// same thread, one batch at a time). Pages are only touched as far as packets reach.
struct UdpServer::Batch {
  explicit Batch(const RateLimitOptions& rate_limit)
      : limiter(rate_limit),
        rx(std::make_unique_for_overwrite<std::uint8_t[]>(kBatchSize * kReceiveSize)),
        tx(std::make_unique_for_overwrite<std::uint8_t[]>(kBatchSize * kSendSize)) {}
  RateLimiter limiter;  // per worker: its sockets run on its thread only
  std::unique_ptr<std::uint8_t[]> rx;
  std::unique_ptr<std::uint8_t[]> tx;
  std::array<mmsghdr, kBatchSize> in{};
  std::array<iovec, kBatchSize> in_iov{};
  std::array<sockaddr_storage, kBatchSize> peers{};
  std::array<ReplySourceControl, kBatchSize> destinations{};  // wildcard sockets only
  std::array<mmsghdr, kBatchSize> out{};
  std::array<iovec, kBatchSize> out_iov{};
  std::array<ReplySourceControl, kBatchSize> sources{};
  TransferHandler* transfers = nullptr;  // signs answers to TSIG-signed queries
};

class UdpServer::Socket {
 public:
  // `reply_source`: the socket is bound to a wildcard address and its kernel reports each
  // datagram's destination (enable_reply_source), which the reply must leave from.
  Socket(Worker& worker, Batch& batch, udp::socket socket, bool reply_source,
         const common::Clock& clock, const query::Limits& limits)
      : worker_(worker),
        batch_(batch),
        socket_(std::move(socket)),
        reply_source_(reply_source),
        clock_(clock),
        limits_(limits) {}

  void start() {
    socket_.non_blocking(true);
    wait();
  }
  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }
  udp::endpoint local_endpoint() const { return socket_.local_endpoint(); }

 private:
  void wait() {
    socket_.async_wait(udp::socket::wait_read,
                       [this](const boost::system::error_code& ec) { on_readable(ec); });
  }

  void on_readable(const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted || !socket_.is_open()) return;
    if (ec) spdlog::warn("udp {}: wait: {}", worker_.index(), ec.message());
    // Re-armed on every way out, even one no catch below sees: a socket left unwaited is
    // never read again while SO_REUSEPORT keeps sending it a share of the clients.
    struct Rearm {
      Socket* socket;
      ~Rearm() { socket->wait(); }
    } rearm{this};
    // One catch boundary per batch: whatever happens, the socket keeps being served.
    try {
      for (int round = 0; round < kMaxRoundsPerWake; ++round) {
        int received = receive();
        if (received <= 0) break;
        answer_and_send(static_cast<std::size_t>(received));
        if (static_cast<std::size_t>(received) < kBatchSize) break;
      }
    } catch (const std::exception& e) {
      bump(worker_.counters().errors);
      spdlog::error("udp {}: batch: {}", worker_.index(), e.what());
    }
  }

  int receive() {
    Batch& b = batch_;
    for (std::size_t i = 0; i < kBatchSize; ++i) {
      b.in_iov[i] = {b.rx.get() + i * kReceiveSize, kReceiveSize};
      msghdr& h = b.in[i].msg_hdr;
      h = {};
      h.msg_name = &b.peers[i];
      h.msg_namelen = sizeof(sockaddr_storage);
      h.msg_iov = &b.in_iov[i];
      h.msg_iovlen = 1;
      if (reply_source_) {
        h.msg_control = b.destinations[i].bytes;
        h.msg_controllen = sizeof b.destinations[i].bytes;
      }
      b.in[i].msg_len = 0;
    }
    for (;;) {
      int n = ::recvmmsg(socket_.native_handle(), b.in.data(), kBatchSize, MSG_DONTWAIT, nullptr);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        spdlog::warn("udp {}: recvmmsg: {}", worker_.index(), std::strerror(errno));
      return 0;
    }
  }

  void answer_and_send(std::size_t received) {
    Batch& b = batch_;
    WorkerCounters& counters = worker_.counters();
    bump(counters.udp_queries, received);
    const catalog::Snapshot* snapshot = worker_.snapshot();
    if (snapshot == nullptr) {  // not serving before the first snapshot (start() waits for one)
      bump(counters.udp_dropped, received);
      return;
    }
    common::Nanos now = clock_.now_ns();
    auto started = std::chrono::steady_clock::now();
    std::size_t count = 0;
    for (std::size_t i = 0; i < received; ++i) {
      const msghdr& in = b.in[i].msg_hdr;
      if ((in.msg_flags & MSG_TRUNC) != 0) {
        bump(counters.udp_dropped);
        continue;
      }
      query::QueryContext context;
      context.transport = query::Transport::kUdp;
      context.rotation = worker_.next_rotation();
      context.client_address = client_address(b.peers[i]);
      std::span<std::uint8_t> out(b.tx.get() + count * kSendSize, kSendSize);
      query::Outcome outcome = query::answer({b.rx.get() + i * kReceiveSize, b.in[i].msg_len},
                                             *snapshot, now, limits_, context, out);
      if (!outcome.respond) {
        bump(counters.udp_dropped);
        continue;
      }
      std::size_t size = outcome.size;
      if (outcome.signed_query && b.transfers != nullptr) {
        std::span<const std::uint8_t> query(b.rx.get() + i * kReceiveSize, b.in[i].msg_len);
        size = b.transfers->sign_answer(query, out, size);
        if (size == 0) continue;
      }
      if (b.limiter.enabled() && !pass_rate_limit(context.client_address, out, size, now)) continue;
      if (outcome.truncated) bump(counters.udp_truncated);
      count_answer(counters, outcome.rcode, outcome.qtype);
      worker_.note_miss(outcome, {b.rx.get() + i * kReceiveSize, b.in[i].msg_len});
      worker_.sample_query(context, {b.rx.get() + i * kReceiveSize, b.in[i].msg_len}, outcome);
      queue_reply(i, count++, out.first(size));
    }
    send(count);
    count_latency(counters,
                  std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count(),
                  count);
  }

  // RRL: false when the answer is to be dropped; a slip turns it into an empty TC=1 reply.
  bool pass_rate_limit(std::span<const std::uint8_t> client, std::span<std::uint8_t> out,
                       std::size_t& size, common::Nanos now) {
    WorkerCounters& counters = worker_.counters();
    switch (batch_.limiter.check(client, out.first(size), now)) {
      case RateLimiter::Verdict::kSend:
        return true;
      case RateLimiter::Verdict::kSlip:
        bump(counters.udp_slipped);
        size = RateLimiter::slip_reply(out.first(size));
        return true;
      case RateLimiter::Verdict::kDrop:
        bump(counters.udp_rate_limited);
        return false;
    }
    return true;
  }

  // Slot `slot` of the outgoing batch: `reply` to the sender of datagram i, on a wildcard
  // socket from the address that datagram was sent to.
  void queue_reply(std::size_t i, std::size_t slot, std::span<std::uint8_t> reply) {
    Batch& b = batch_;
    const msghdr& in = b.in[i].msg_hdr;
    b.out_iov[slot] = {reply.data(), reply.size()};
    msghdr& h = b.out[slot].msg_hdr;
    h = {};
    h.msg_name = &b.peers[i];
    h.msg_namelen = in.msg_namelen;
    h.msg_iov = &b.out_iov[slot];
    h.msg_iovlen = 1;
    if (reply_source_) {
      h.msg_controllen = reply_source_control(in, b.sources[slot]);
      if (h.msg_controllen != 0) h.msg_control = b.sources[slot].bytes;
    }
  }

  void send(std::size_t count) {
    Batch& b = batch_;
    WorkerCounters& counters = worker_.counters();
    std::size_t done = 0;
    while (done < count) {
      int n = ::sendmmsg(socket_.native_handle(), b.out.data() + done,
                         static_cast<unsigned>(count - done), MSG_DONTWAIT);
      if (n > 0) {
        bump(counters.udp_responses, static_cast<std::uint64_t>(n));
        done += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
        // The send buffer is full: dropping beats blocking every other client.
        bump(counters.udp_dropped, count - done);
        return;
      }
      // This one destination failed (e.g. unreachable); skip it and go on with the rest.
      bump(counters.udp_dropped);
      ++done;
    }
  }

  static std::span<const std::uint8_t> client_address(const sockaddr_storage& peer) {
    if (peer.ss_family == AF_INET) {
      const auto& v4 = reinterpret_cast<const sockaddr_in&>(peer);
      return {reinterpret_cast<const std::uint8_t*>(&v4.sin_addr), 4};
    }
    if (peer.ss_family == AF_INET6) {
      const auto& v6 = reinterpret_cast<const sockaddr_in6&>(peer);
      return {reinterpret_cast<const std::uint8_t*>(&v6.sin6_addr), 16};
    }
    return {};
  }

  Worker& worker_;
  Batch& batch_;
  udp::socket socket_;
  bool reply_source_;
  const common::Clock& clock_;
  const query::Limits& limits_;
};

UdpServer::UdpServer(WorkerPool& pool, const common::Clock& clock, const query::Limits& limits,
                     const RateLimitOptions& rate_limit)
    : pool_(pool), clock_(clock), limits_(limits) {
  for (std::size_t i = 0; i < pool_.size(); ++i)
    batches_.push_back(std::make_unique<Batch>(rate_limit));
}

UdpServer::~UdpServer() = default;

void UdpServer::set_transfer_handler(TransferHandler* handler) {
  for (auto& b : batches_)
    b->transfers = handler;
}

void UdpServer::bind(const udp::endpoint& endpoint) {
  std::vector<std::unique_ptr<Socket>> opened;
  for (std::size_t i = 0; i < pool_.size(); ++i) {
    udp::socket socket(pool_[i].io());
    socket.open(endpoint.protocol());
    set_reuse_port(socket.native_handle());
    set_udp_buffers(socket.native_handle());
    if (endpoint.address().is_v6()) socket.set_option(asio::ip::v6_only(true));
    bool wildcard = endpoint.address().is_unspecified();
    if (wildcard) enable_reply_source(socket.native_handle(), endpoint.protocol().family());
    socket.bind(endpoint);
    opened.push_back(std::make_unique<Socket>(pool_[i], *batches_[i], std::move(socket), wildcard,
                                              clock_, limits_));
  }
  for (auto& s : opened)
    sockets_.push_back(std::move(s));
  endpoints_.push_back(endpoint);
}

void UdpServer::adopt(int fd) {
  sockaddr_storage local{};
  socklen_t size = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size) != 0) {
    int error = errno;
    ::close(fd);
    throw boost::system::system_error(error, boost::system::system_category(), "getsockname");
  }
  udp protocol = local.ss_family == AF_INET6 ? udp::v6() : udp::v4();
  set_udp_buffers(fd);
  // systemd's sockets are wildcard ones unless the unit names an address (ours does not).
  bool wildcard = is_wildcard(local);
  try {
    if (wildcard) enable_reply_source(fd, local.ss_family);
  } catch (...) {
    ::close(fd);
    throw;
  }
  std::vector<std::unique_ptr<Socket>> opened;
  for (std::size_t i = 0; i < pool_.size(); ++i) {
    int copy = i + 1 == pool_.size() ? fd : ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
      int error = errno;
      ::close(fd);
      throw boost::system::system_error(error, boost::system::system_category(), "dup");
    }
    udp::socket socket(pool_[i].io());
    socket.assign(protocol, copy);
    opened.push_back(std::make_unique<Socket>(pool_[i], *batches_[i], std::move(socket), wildcard,
                                              clock_, limits_));
  }
  endpoints_.push_back(opened.front()->local_endpoint());
  for (auto& s : opened)
    sockets_.push_back(std::move(s));
}

void UdpServer::start() {
  for (auto& s : sockets_)
    s->start();
}

void UdpServer::close() {
  for (auto& s : sockets_)
    s->close();
  sockets_.clear();
}

}  // namespace discodns::server
