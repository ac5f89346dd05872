// TCP (RFC 7766): one acceptor per listen address; each accepted connection is handed to the
// next worker round-robin and lives on that worker's thread as a session: 2-byte length
// framing, several queries per connection, pipelined queries answered in order, an idle
// timeout between queries and a write timeout, and a cap on open connections (connections
// beyond it are accepted and closed at once, and counted).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "common/clock.hpp"
#include "query/engine.hpp"
#include "server/workers.hpp"

namespace discodns::server {

class TransferHandler;

struct TcpOptions {
  std::chrono::milliseconds idle_timeout{10'000};
  std::chrono::milliseconds write_timeout{10'000};
  unsigned max_connections = 1024;
};

class TcpServer {
 public:
  TcpServer(WorkerPool& pool, const common::Clock& clock, const query::Limits& limits,
            const TcpOptions& options);
  ~TcpServer();
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  // Opens, binds and listens on `endpoint` (port 0 = any free port); returns the bound
  // endpoint. Throws boost::system::system_error.
  boost::asio::ip::tcp::endpoint bind(const boost::asio::ip::tcp::endpoint& endpoint);
  // Accepts on a listening socket opened by someone else (systemd), taking ownership of `fd`.
  void adopt(int fd);
  // Closes the acceptor opened by the last bind (the port-0 pick gives a port up).
  void unbind_last();
  // AXFR and IXFR queries go to `handler` (which outlives the server). Before start().
  void set_transfer_handler(TransferHandler* handler);
  // Starts accepting. Call before the workers run.
  void start();
  // Closes the acceptors. Only while the workers are stopped.
  void close();

  const std::vector<boost::asio::ip::tcp::endpoint>& endpoints() const { return endpoints_; }
  unsigned open_connections() const;
  std::uint64_t rejected_connections() const;
  // Accept errors (EMFILE, ENFILE, ENOBUFS, ENOMEM, ...) that paused accepting for 100 ms.
  std::uint64_t accept_backoffs() const;

  struct Shared;
  class Listener;
  class Session;

 private:
  WorkerPool& pool_;
  std::shared_ptr<Shared> shared_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<boost::asio::ip::tcp::endpoint> endpoints_;
};

}  // namespace discodns::server
