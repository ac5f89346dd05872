#include "server/tcp_server.hpp"

#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <exception>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "common/log.hpp"
#include "server/transfer_hook.hpp"

namespace discodns::server {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

constexpr std::size_t kFrameHeader = 2;
constexpr std::size_t kMinMessage = 12;  // a DNS header; anything shorter is not a query
constexpr std::size_t kInSize = kFrameHeader + 65535;
// Room for at least two maximal answers, so pipelined queries go out in one write.
constexpr std::size_t kOutSize = 2 * (kFrameHeader + query::kMaxResponseSize);
constexpr std::chrono::milliseconds kAcceptRetry{100};

}  // namespace

// What sessions share with the server; sessions keep it alive, so a session that outlives the
// TcpServer object (its handlers are destroyed with the io_context) still has it.
struct TcpServer::Shared {
  Shared(const common::Clock& c, const query::Limits& l, const TcpOptions& o)
      : clock(c), limits(l), options(o) {}
  const common::Clock& clock;
  query::Limits limits;
  TcpOptions options;
  TransferHandler* transfers = nullptr;  // set before start; null = transfers refused
  std::atomic<unsigned> open{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> backoffs{0};
};

class TcpServer::Session : public std::enable_shared_from_this<Session> {
  using Clock = asio::steady_timer::clock_type;

 public:
  Session(Worker& worker, tcp::socket socket, std::shared_ptr<Shared> shared)
      : worker_(worker),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        shared_(std::move(shared)),
        in_(std::make_unique_for_overwrite<std::uint8_t[]>(kInSize)),
        out_(std::make_unique_for_overwrite<std::uint8_t[]>(kOutSize)) {}

  ~Session() { shared_->open.fetch_sub(1, std::memory_order_relaxed); }

  // On the worker's thread.
  void start() {
    bump(worker_.counters().tcp_sessions);
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    read();
  }

 private:
  // The idle timeout bounds the wait for a whole query, not for each segment: a timer re-armed
  // on every byte would let a client trickling one byte a second hold a connection slot for
  // hours (slowloris). Between queries it starts when the wait starts; for a partial query,
  // when its first bytes arrived.
  void read() {
    if (in_len_ == 0) message_deadline_ = Clock::now() + shared_->options.idle_timeout;
    arm_at(message_deadline_);
    socket_.async_read_some(
        asio::buffer(in_.get() + in_len_, kInSize - in_len_),
        [self = shared_from_this()](const error_code& ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const error_code& ec, std::size_t n) {
    if (ec) return close();
    in_len_ += n;
    guarded([this] { process(); });
  }

  // Answers every complete frame in the input, in order, into one output run.
  void process() {
    WorkerCounters& counters = worker_.counters();
    const catalog::Snapshot* snapshot = worker_.snapshot();
    common::Nanos now = shared_->clock.now_ns();
    std::size_t pos = 0;
    out_len_ = 0;
    bool bad = false;
    while (in_len_ - pos >= kFrameHeader) {
      std::size_t length = (std::size_t{in_[pos]} << 8) | in_[pos + 1];
      if (length < kMinMessage) {  // not a DNS message: the stream cannot be trusted further
        bad = true;
        break;
      }
      if (in_len_ - pos - kFrameHeader < length) break;  // rest still in flight
      if (out_len_ + kFrameHeader + query::kMaxResponseSize > kOutSize) break;  // after this write
      bump(counters.tcp_queries);
      std::span<const std::uint8_t> message(in_.get() + pos + kFrameHeader, length);
      pos += kFrameHeader + length;
      if (snapshot == nullptr) {
        bump(counters.tcp_dropped);
        continue;
      }
      if (shared_->transfers != nullptr && is_transfer_query(message)) {
        stream_ = shared_->transfers->start(message, client_address_);
        if (stream_) {
          bump(counters.tcp_responses);
          break;  // the stream's messages go out first; later queries wait in the input
        }
      }
      answer_one(message, *snapshot, now);
    }
    if (pos > 0) {
      std::memmove(in_.get(), in_.get() + pos, in_len_ - pos);
      in_len_ -= pos;
      // What is left began in this read: the next query's deadline starts now.
      if (in_len_ > 0) message_deadline_ = Clock::now() + shared_->options.idle_timeout;
    }
    close_after_write_ = bad;
    if (stream_) fill_from_stream();
    if (out_len_ > 0) return write();
    if (bad) return close();
    read();
  }

  // One query's answer, framed, appended to the output (or counted as dropped).
  void answer_one(std::span<const std::uint8_t> message, const catalog::Snapshot& snapshot,
                  common::Nanos now) {
    WorkerCounters& counters = worker_.counters();
    query::QueryContext context;
    context.transport = query::Transport::kTcp;
    context.rotation = worker_.next_rotation();
    context.client_address = client_address_;
    std::uint8_t* frame = out_.get() + out_len_;
    const std::span<std::uint8_t> answer(frame + kFrameHeader, query::kMaxResponseSize);
    auto started = std::chrono::steady_clock::now();
    query::Outcome outcome =
        query::answer(message, snapshot, now, shared_->limits, context, answer);
    const std::chrono::nanoseconds took = std::chrono::steady_clock::now() - started;
    count_latency(counters, took.count(), 1);
    std::size_t size = outcome.respond ? outcome.size : 0;
    if (size != 0 && outcome.signed_query && shared_->transfers != nullptr)
      size = shared_->transfers->sign_answer(message, answer, size);
    if (size == 0) {
      bump(counters.tcp_dropped);
      return;
    }
    append_frame(size);
    bump(counters.tcp_responses);
    count_answer(counters, outcome.rcode, outcome.qtype);
    worker_.note_miss(outcome, message);
    worker_.sample_query(context, message, outcome);
  }

  void write() {
    arm(shared_->options.write_timeout);
    asio::async_write(
        socket_, asio::buffer(out_.get(), out_len_),
        [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(const error_code& ec) {
    if (ec) return close();
    if (stream_) {
      guarded([this] {
        out_len_ = 0;
        fill_from_stream();
        if (out_len_ > 0) return write();
        has_complete_frame() ? process() : read();  // the transfer is complete
      });
      return;
    }
    if (close_after_write_) return close();
    // Frames left behind because the output was full are answered before reading more.
    guarded([this] { has_complete_frame() ? process() : read(); });
  }

  // The transfer's next messages, as many as fit after what is already in the output.
  void fill_from_stream() {
    while (stream_ && out_len_ + kFrameHeader + query::kMaxResponseSize <= kOutSize) {
      std::size_t size =
          stream_->next({out_.get() + out_len_ + kFrameHeader, query::kMaxResponseSize});
      if (size == 0) stream_.reset();  // the transfer is complete
      if (size != 0) append_frame(size);
    }
  }

  // The `size`-byte message written after a frame header at out_len_ joins the output.
  void append_frame(std::size_t size) {
    out_.get()[out_len_] = static_cast<std::uint8_t>(size >> 8);
    out_.get()[out_len_ + 1] = static_cast<std::uint8_t>(size);
    out_len_ += kFrameHeader + size;
  }

  bool has_complete_frame() const {
    if (in_len_ < kFrameHeader) return false;
    std::size_t length = (std::size_t{in_[0]} << 8) | in_[1];
    return length < kMinMessage || in_len_ - kFrameHeader >= length;
  }

  void arm(std::chrono::milliseconds timeout) { arm_at(Clock::now() + timeout); }

  void arm_at(Clock::time_point deadline) {
    timer_.expires_at(deadline);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      // A re-armed timer's old wait may already be queued with success: check the expiry.
      if (!ec && self->timer_.expiry() <= asio::steady_timer::clock_type::now()) self->close();
    });
  }

  // The catch boundary of a session: an exception ends this connection only.
  template <typename F>
  void guarded(F&& step) {
    try {
      step();
    } catch (const std::exception& e) {
      bump(worker_.counters().errors);
      spdlog::error("tcp {}: session: {}", worker_.index(), e.what());
      close();
    }
  }

  void close() {
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

 public:
  void set_client_address(const asio::ip::address& address) {
    const std::size_t size = address.is_v4() ? 4 : 16;
    if (size == 4) std::memcpy(client_bytes_.data(), address.to_v4().to_bytes().data(), size);
    if (size == 16) std::memcpy(client_bytes_.data(), address.to_v6().to_bytes().data(), size);
    client_address_ = {client_bytes_.data(), size};
  }

 private:
  Worker& worker_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<std::uint8_t[]> in_;
  std::size_t in_len_ = 0;
  Clock::time_point message_deadline_{};  // the query being read must be complete by then
  std::unique_ptr<std::uint8_t[]> out_;
  std::size_t out_len_ = 0;
  bool close_after_write_ = false;
  std::unique_ptr<MessageStream> stream_;  // a zone transfer being sent
  std::array<std::uint8_t, 16> client_bytes_{};
  std::span<const std::uint8_t> client_address_;
};

// Accepts on worker 0's thread. One acceptor per address (rather than one per worker with
// SO_REUSEPORT) keeps the connection cap exact and stop simple, and needs no SO_REUSEPORT on
// TCP, so a second discodns on the same port fails its TCP bind instead of silently sharing;
// DNS over TCP is a small share of the traffic, and the sessions themselves are spread over
// all workers.
class TcpServer::Listener {
 public:
  Listener(WorkerPool& pool, std::shared_ptr<Shared> shared)
      : pool_(pool), shared_(std::move(shared)), acceptor_(pool[0].io()), retry_(pool[0].io()) {}

  tcp::endpoint bind(const tcp::endpoint& endpoint) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    if (endpoint.address().is_v6()) acceptor_.set_option(asio::ip::v6_only(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    return acceptor_.local_endpoint();
  }

  tcp::endpoint adopt(int fd) {
    sockaddr_storage local{};
    socklen_t size = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size);
    acceptor_.assign(local.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd);
    return acceptor_.local_endpoint();
  }

  void start() { accept(); }

  void close() {
    error_code ignored;
    retry_.cancel();
    acceptor_.close(ignored);
  }

 private:
  void accept() {
    Worker& target = pool_[next_++ % pool_.size()];
    acceptor_.async_accept(target.io(), [this, &target](const error_code& ec, tcp::socket socket) {
      on_accept(ec, std::move(socket), target);
    });
  }

  void on_accept(const error_code& ec, tcp::socket socket, Worker& target) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors (EMFILE, ENFILE), of buffers or memory (ENOBUFS, ENOMEM) and the
      // like: the connection stays queued, so accepting again at once would spin. Back off
      // briefly; one warning per run of failures.
      shared_->backoffs.fetch_add(1, std::memory_order_relaxed);
      if (!backing_off_)
        spdlog::warn("tcp accept: {}; pausing accepts 100 ms at a time", ec.message());
      backing_off_ = true;
      retry_.expires_after(kAcceptRetry);
      retry_.async_wait([this](const error_code& e) {
        if (!e) accept();
      });
      return;
    }
    backing_off_ = false;
    if (shared_->open.load(std::memory_order_relaxed) >= shared_->options.max_connections) {
      error_code ignored;
      socket.close(ignored);
      shared_->rejected.fetch_add(1, std::memory_order_relaxed);
    } else {
      shared_->open.fetch_add(1, std::memory_order_relaxed);
      error_code peer_ec;
      auto peer = socket.remote_endpoint(peer_ec);
      auto session = std::make_shared<Session>(target, std::move(socket), shared_);
      if (!peer_ec) session->set_client_address(peer.address());
      // The session's socket and timer belong to the target worker: start it there.
      asio::post(target.io(), [session] { session->start(); });
    }
    accept();
  }

  WorkerPool& pool_;
  std::shared_ptr<Shared> shared_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  bool backing_off_ = false;
  std::size_t next_ = 0;
};

TcpServer::TcpServer(WorkerPool& pool, const common::Clock& clock, const query::Limits& limits,
                     const TcpOptions& options)
    : pool_(pool), shared_(std::make_shared<Shared>(clock, limits, options)) {}

TcpServer::~TcpServer() = default;

tcp::endpoint TcpServer::bind(const tcp::endpoint& endpoint) {
  auto listener = std::make_unique<Listener>(pool_, shared_);
  tcp::endpoint bound = listener->bind(endpoint);
  listeners_.push_back(std::move(listener));
  endpoints_.push_back(bound);
  return bound;
}

void TcpServer::adopt(int fd) {
  auto listener = std::make_unique<Listener>(pool_, shared_);
  tcp::endpoint bound = listener->adopt(fd);
  listeners_.push_back(std::move(listener));
  endpoints_.push_back(bound);
}

void TcpServer::unbind_last() {
  if (listeners_.empty()) return;
  listeners_.back()->close();
  listeners_.pop_back();
  endpoints_.pop_back();
}

void TcpServer::start() {
  for (auto& l : listeners_)
    l->start();
}

void TcpServer::close() {
  for (auto& l : listeners_)
    l->close();
  listeners_.clear();
}

void TcpServer::set_transfer_handler(TransferHandler* handler) {
  shared_->transfers = handler;
}

unsigned TcpServer::open_connections() const {
  return shared_->open.load(std::memory_order_relaxed);
}

std::uint64_t TcpServer::accept_backoffs() const {
  return shared_->backoffs.load(std::memory_order_relaxed);
}

std::uint64_t TcpServer::rejected_connections() const {
  return shared_->rejected.load(std::memory_order_relaxed);
}

}  // namespace discodns::server
