// The DNS servers of the process: the worker pool plus UDP and TCP on every listen address.
// Construction binds every socket (or adopts those systemd passed) (so errors surface at start-up,
// as exceptions); start() runs the workers; stop() ends them. Owned by daemon::Daemon.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include "common/clock.hpp"
#include "query/engine.hpp"
#include "query/store.hpp"
#include "server/socket_activation.hpp"
#include "server/tcp_server.hpp"
#include "server/transfer_hook.hpp"
#include "server/udp_server.hpp"
#include "server/workers.hpp"

namespace discodns::server {

struct ListenAddress {
  std::string host;         // IPv4 or IPv6 literal, no brackets
  std::uint16_t port = 53;  // 0 = pick a free port (tests)
};

struct ServerOptions {
  std::vector<ListenAddress> listen;
  InheritedSockets inherited;  // from systemd; when it has sockets, `listen` is not used
  unsigned workers = 0;        // 0 = one per hardware thread
  query::Limits limits;
  TcpOptions tcp;
  RateLimitOptions rate_limit;
  unsigned query_sample = 0;             // [log] query_sample
  MissHook on_miss;                      // names below a region no app answers; empty = none
  TransferHandler* transfers = nullptr;  // AXFR/IXFR over TCP; null = refused (outlives us)
};

class Server {
 public:
  // Binds every listen address; throws std::runtime_error("listen HOST:PORT: reason").
  Server(const ServerOptions& options, const query::SnapshotStore& store,
         const common::Clock& clock);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();
  void stop();  // idempotent

  // Bound addresses, in listen order (ports resolved when the config said 0).
  const std::vector<boost::asio::ip::udp::endpoint>& udp_endpoints() const {
    return udp_.endpoints();
  }
  const std::vector<boost::asio::ip::tcp::endpoint>& tcp_endpoints() const {
    return tcp_.endpoints();
  }
  std::size_t workers() const { return pool_.size(); }
  CounterTotals counters() const { return pool_.totals(); }
  std::vector<std::uint64_t> queries_per_worker() const { return pool_.queries_per_worker(); }
  unsigned tcp_open_connections() const { return tcp_.open_connections(); }
  std::uint64_t tcp_rejected_connections() const { return tcp_.rejected_connections(); }
  std::uint64_t tcp_accept_backoffs() const { return tcp_.accept_backoffs(); }
  const common::Heartbeat& worker_heartbeat(std::size_t i) const { return pool_[i].heartbeat(); }

 private:
  void bind(const ListenAddress& listen);
  void adopt(const InheritedSockets& sockets);

  ServerOptions options_;
  WorkerPool pool_;
  UdpServer udp_;
  TcpServer tcp_;
  bool started_ = false;
  bool stopped_ = false;
};

// "127.0.0.1:53", "[::1]:53".
std::string to_string(const boost::asio::ip::udp::endpoint& endpoint);
std::string to_string(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace discodns::server
