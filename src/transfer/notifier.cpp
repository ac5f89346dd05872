// Notifier's thread: an io_context with one UDP socket per address family, a timer woken at
// the schedule's next wakeup (sends what is due) and a receive loop per socket (answers).
#include "transfer/notifier.hpp"

#include <array>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/log.hpp"
#include "common/thread_priority.hpp"
#include "transfer/notify_message.hpp"

namespace discodns::transfer {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using boost::system::error_code;

// A NOTIFY is at most 12 + 255 + 4 bytes; the rest is room for a TSIG RR (tsig.hpp keeps 512).
constexpr std::size_t kSendSize = 1024;
// An answer is the NOTIFY echoed, plus a TSIG RR when signed.
constexpr std::size_t kReceiveSize = 4096;

// The monotonic clock in nanoseconds: the schedule's time and the timer's agree.
common::Nanos steady_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Message ids from the kernel's random source, so that an off-path attacker cannot guess them.
std::function<std::uint16_t()> random_ids() {
  auto engine = std::make_shared<std::mt19937>(std::random_device{}());
  return [engine] { return static_cast<std::uint16_t>((*engine)() & 0xFFFF); };
}

}  // namespace

class Notifier::Loop {
 public:
  Loop(std::vector<udp::endpoint> targets, std::string apex_wire, NotifyOptions options,
       NotifyTsig tsig)
      : targets_(std::move(targets)),
        apex_wire_(std::move(apex_wire)),
        options_(options),
        tsig_(std::move(tsig)),
        schedule_(targets_.size(), options, random_ids()),
        status_(targets_.size()),
        given_up_seen_(targets_.size(), 0) {
    open_sockets();
    for (Socket& socket : sockets_)
      receive(socket);
    thread_ = std::thread([this] { run(); });
  }

  ~Loop() { stop(); }

  void stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  void notify(std::uint32_t serial) {
    asio::post(io_, [this, serial] {
      schedule_.set_serial(serial, steady_now());
      pump();
    });
  }

  std::vector<NotifyCounters> status() const {
    std::lock_guard lock(status_mutex_);
    return status_;
  }

  const std::vector<udp::endpoint>& targets() const { return targets_; }

 private:
  struct Socket {
    Socket(asio::io_context& io, bool is_v6) : socket(io), v6(is_v6) {}
    udp::socket socket;
    bool v6;
    udp::endpoint sender;
    std::array<std::uint8_t, kReceiveSize> buffer{};
  };

  void run() {
    common::name_current_thread("dd-notify");
    // No handler throws on purpose; one that still does left a socket unread or the timer
    // unarmed. Stop loudly rather than silently never notify again (as the query workers do).
    try {
      io_.run();
    } catch (const std::exception& e) {
      die(e.what());
    } catch (...) {
      die("an exception of unknown type");
    }
  }

  [[noreturn]] static void die(const char* what) noexcept {
    try {
      spdlog::critical("notify: uncaught exception, aborting: {}", what);
      spdlog::default_logger()->flush();
    } catch (...) {
    }
    std::abort();
  }

  // One socket per family the targets use; loopback when all of that family are loopback.
  void open_sockets() {
    sockets_.reserve(2);
    for (const bool v6 : {false, true}) {
      bool used = false;
      bool all_loopback = true;
      for (const udp::endpoint& target : targets_) {
        if (target.address().is_v6() != v6) continue;
        used = true;
        all_loopback = all_loopback && target.address().is_loopback();
      }
      if (!used) continue;
      const udp protocol = v6 ? udp::v6() : udp::v4();
      asio::ip::address local;
      if (v6)
        local = all_loopback ? asio::ip::address(asio::ip::address_v6::loopback())
                             : asio::ip::address(asio::ip::address_v6::any());
      else
        local = all_loopback ? asio::ip::address(asio::ip::address_v4::loopback())
                             : asio::ip::address(asio::ip::address_v4::any());
      Socket& socket = sockets_.emplace_back(io_, v6);
      socket.socket.open(protocol);
      if (v6) socket.socket.set_option(asio::ip::v6_only(true));
      socket.socket.bind(udp::endpoint(local, 0));
      socket.socket.non_blocking(true);  // a full send buffer loses a message, never the thread
    }
  }

  Socket* socket_for(const udp::endpoint& target) {
    for (Socket& socket : sockets_)
      if (socket.v6 == target.address().is_v6()) return &socket;
    return nullptr;
  }

  void receive(Socket& socket) {
    socket.socket.async_receive_from(
        asio::buffer(socket.buffer), socket.sender,
        [this, &socket](const error_code& ec, std::size_t size) { on_receive(socket, ec, size); });
  }

  void on_receive(Socket& socket, const error_code& ec, std::size_t size) {
    if (ec == asio::error::operation_aborted || !socket.socket.is_open()) return;
    // Any other error (an ICMP error surfacing, say) concerns one datagram: keep receiving.
    if (ec)
      spdlog::debug("notify: receive: {}", ec.message());
    else
      on_datagram(socket, size);
    receive(socket);
  }

  void on_datagram(const Socket& socket, std::size_t size) {
    const std::span<const std::uint8_t> message(socket.buffer.data(), size);
    const std::optional<NotifyAnswer> answer = read_notify_answer(message);
    if (!answer) return;
    bool verified = false;
    for (std::size_t target = 0; target < targets_.size(); ++target) {
      if (targets_[target] != socket.sender) continue;
      if (!verified && tsig_.verify && !tsig_.verify(message)) {
        spdlog::debug("notify {}: answer's TSIG does not verify; dropped", describe(target));
        return;
      }
      verified = true;
      schedule_.on_response(target, answer->id, answer->rcode, steady_now());
    }
    if (verified) pump();
  }

  // Sends what is due, publishes the counters and sets the timer for the next wakeup.
  void pump() {
    for (const NotifySchedule::Send& send : schedule_.due(steady_now()))
      transmit(send);
    publish();
    arm();
  }

  void transmit(const NotifySchedule::Send& send) {
    std::size_t size = build_notify(send_buffer_, send.id, apex_wire_, send.serial);
    if (size != 0 && tsig_.sign) size = tsig_.sign(send_buffer_, size);
    const udp::endpoint& target = targets_[send.target];
    Socket* socket = socket_for(target);
    if (size == 0 || socket == nullptr) {
      spdlog::warn("notify {}: cannot build or sign the NOTIFY for serial {}",
                   describe(send.target), send.serial);
      return;  // the attempt times out and is retried
    }
    error_code ec;
    socket->socket.send_to(asio::buffer(send_buffer_.data(), size), target, 0, ec);
    if (ec) spdlog::debug("notify {}: send: {}", describe(send.target), ec.message());
    spdlog::debug("notify {}: serial {} id {} attempt {}", describe(send.target), send.serial,
                  send.id, send.attempt);
  }

  void publish() {
    std::lock_guard lock(status_mutex_);
    for (std::size_t target = 0; target < targets_.size(); ++target) {
      const NotifyCounters& counters = schedule_.counters(target);
      if (counters.given_up != given_up_seen_[target]) {
        given_up_seen_[target] = counters.given_up;
        spdlog::warn(
            "notify {}: not acknowledged after {} attempts; giving up until the next serial",
            describe(target), options_.max_attempts);
      }
      status_[target] = counters;
    }
  }

  void arm() {
    const std::optional<common::Nanos> wakeup = schedule_.next_wakeup();
    if (!wakeup) {
      timer_.cancel();
      return;
    }
    // Re-arming cancels the wait before; its handler sees operation_aborted and does nothing.
    timer_.expires_at(
        asio::steady_timer::time_point(std::chrono::duration_cast<asio::steady_timer::duration>(
            std::chrono::nanoseconds(*wakeup))));
    timer_.async_wait([this](const error_code& ec) {
      if (!ec) pump();
    });
  }

  std::string describe(std::size_t target) const {
    const udp::endpoint& endpoint = targets_[target];
    return endpoint.address().to_string() + "#" + std::to_string(endpoint.port());
  }

  // The io_context first: it outlives the sockets and the timer that use it.
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  asio::steady_timer timer_{io_};
  std::vector<udp::endpoint> targets_;
  std::string apex_wire_;
  NotifyOptions options_;
  NotifyTsig tsig_;
  NotifySchedule schedule_;
  std::vector<Socket> sockets_;  // stable: filled before the first receive, never resized after
  std::array<std::uint8_t, kSendSize> send_buffer_{};

  mutable std::mutex status_mutex_;
  std::vector<NotifyCounters> status_;  // copies of the schedule's counters, for status()
  std::vector<std::uint64_t> given_up_seen_;
  std::thread thread_;
};

Notifier::Notifier(std::vector<udp::endpoint> targets, std::string apex_wire, NotifyOptions options,
                   NotifyTsig tsig)
    : loop_(std::make_unique<Loop>(std::move(targets), std::move(apex_wire), options,
                                   std::move(tsig))) {}

Notifier::~Notifier() = default;

void Notifier::notify(std::uint32_t serial) {
  loop_->notify(serial);
}

std::vector<NotifyCounters> Notifier::status() const {
  return loop_->status();
}

const std::vector<udp::endpoint>& Notifier::targets() const {
  return loop_->targets();
}

void Notifier::stop() {
  loop_->stop();
}

}  // namespace discodns::transfer
