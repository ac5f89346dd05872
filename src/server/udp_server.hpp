// UDP: on every worker, one socket per listen address, all bound to the same address with
// SO_REUSEPORT so the kernel spreads queries over the workers. A socket's loop: async_wait
// until readable, drain with recvmmsg batches into the worker's preallocated slots, answer
// each with query::answer, send the batch with sendmmsg (on wildcard sockets, each reply from
// the address its query was sent to), wait again. Nothing is allocated per query and the
// clock is read once per batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "common/clock.hpp"
#include "query/engine.hpp"
#include "server/rate_limiter.hpp"
#include "server/workers.hpp"

namespace discodns::server {

class TransferHandler;

class UdpServer {
 public:
  UdpServer(WorkerPool& pool, const common::Clock& clock, const query::Limits& limits,
            const RateLimitOptions& rate_limit = {});
  ~UdpServer();
  UdpServer(const UdpServer&) = delete;
  UdpServer& operator=(const UdpServer&) = delete;

  // Opens and binds one socket per worker on `endpoint`, whose port must not be 0. Throws
  // boost::system::system_error; on failure nothing of this call stays open.
  void bind(const boost::asio::ip::udp::endpoint& endpoint);
  // Serves a socket bound by someone else (systemd), taking ownership of `fd`. Every worker
  // gets a duplicate of it: systemd's socket cannot join a SO_REUSEPORT group of ours (the
  // kernel requires one owner uid), so the workers share one socket and its queue.
  void adopt(int fd);
  // Answers to TSIG-signed queries are signed by `handler` (which outlives the server).
  void set_transfer_handler(TransferHandler* handler);
  // Starts the receive loops. Call before the workers run (or from their threads).
  void start();
  // Closes every socket. Only while the workers are stopped.
  void close();

  const std::vector<boost::asio::ip::udp::endpoint>& endpoints() const { return endpoints_; }

  struct Batch;
  class Socket;

 private:
  WorkerPool& pool_;
  const common::Clock& clock_;
  query::Limits limits_;
  std::vector<std::unique_ptr<Batch>> batches_;  // one per worker, shared by its sockets
  std::vector<std::unique_ptr<Socket>> sockets_;
  std::vector<boost::asio::ip::udp::endpoint> endpoints_;
};

}  // namespace discodns::server
