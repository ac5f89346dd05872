#include "server/server.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/system/system_error.hpp>

#include "common/log.hpp"

namespace discodns::server {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

// Port 0: how many free ports to try before giving up.
constexpr int kPortPickAttempts = 8;

template <typename Endpoint>
std::string endpoint_text(const Endpoint& e) {
  std::string host = e.address().to_string();
  if (e.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(e.port());
}

}  // namespace

std::string to_string(const udp::endpoint& endpoint) {
  return endpoint_text(endpoint);
}
std::string to_string(const tcp::endpoint& endpoint) {
  return endpoint_text(endpoint);
}

Server::Server(const ServerOptions& options, const query::SnapshotStore& store,
               const common::Clock& clock)
    : options_(options),
      pool_(options.workers, store),
      udp_(pool_, clock, options_.limits, options_.rate_limit),
      tcp_(pool_, clock, options_.limits, options_.tcp) {
  pool_.set_query_sample(options_.query_sample);
  pool_.set_miss_hook(options_.on_miss);
  tcp_.set_transfer_handler(options_.transfers);
  udp_.set_transfer_handler(options_.transfers);
  if (!options_.inherited.udp.empty()) {
    adopt(options_.inherited);
    return;
  }
  for (const auto& listen : options_.listen)
    bind(listen);
}

void Server::adopt(const InheritedSockets& sockets) {
  try {
    for (int fd : sockets.udp)
      udp_.adopt(fd);
    for (int fd : sockets.tcp)
      tcp_.adopt(fd);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(std::string("socket activation: ") + e.what());
  }
}

Server::~Server() {
  stop();
}

void Server::bind(const ListenAddress& listen) {
  std::string where = listen.host.find(':') != std::string::npos
                          ? "[" + listen.host + "]:" + std::to_string(listen.port)
                          : listen.host + ":" + std::to_string(listen.port);
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(listen.host, ec);
  if (ec) throw std::runtime_error("listen " + where + ": not an IP address");
  try {
    if (listen.port != 0) {
      udp_.bind(udp::endpoint(address, listen.port));
      tcp_.bind(tcp::endpoint(address, listen.port));
      return;
    }
    // Port 0: TCP picks a free port first, then every worker's UDP socket binds to it. This
    // order, not UDP first: the kernel's free-port pick for a SO_REUSEPORT UDP socket skips
    // ports it could share, so it may pick a port another process of this user (a parallel
    // test) already serves, and join its group; TCP binds without SO_REUSEPORT never share.
    for (int attempt = 1;; ++attempt) {
      tcp::endpoint bound = tcp_.bind(tcp::endpoint(address, 0));
      try {
        udp_.bind(udp::endpoint(address, bound.port()));
        return;
      } catch (const boost::system::system_error& e) {
        tcp_.unbind_last();
        if (e.code() != asio::error::address_in_use || attempt == kPortPickAttempts) throw;
      }
    }
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("listen " + where + ": " + e.code().message());
  }
}

void Server::start() {
  if (started_) return;
  started_ = true;
  udp_.start();
  tcp_.start();
  pool_.start();
}

void Server::stop() {
  if (stopped_) return;
  stopped_ = true;
  // Threads first, so no handler runs while the sockets close; then sockets; then the
  // io_contexts, whose destruction ends the remaining sessions.
  pool_.stop();
  tcp_.close();
  udp_.close();
  pool_.release();
}

}  // namespace discodns::server
