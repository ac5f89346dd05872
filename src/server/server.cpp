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

// The config refuses what the engine's inline copies could not hold.
static_assert(query::kMaxTxtLength == config::kMaxTxtLength);
static_assert(query::kMaxNsidLength == config::kMaxNsidLength);

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

ServerOptions options_from_config(const config::Config& config) {
  const config::ServerConfig& server = config.server;
  ServerOptions o;
  o.query_sample = config.log.query_sample;
  o.listen = server.listen;
  o.workers = server.workers;
  o.limits.our_payload_size = server.udp_payload_size;
  o.limits.max_address_records = server.max_address_records;
  auto idle_100ms = server.tcp_idle_timeout.count() / 100;
  o.limits.tcp_idle_timeout_100ms = static_cast<std::uint16_t>(
      std::clamp<long long>(static_cast<long long>(idle_100ms), 0, 65535));
  o.limits.identity.assign(server.identity);
  o.limits.version.assign(server.version);
  o.limits.nsid.assign(server.nsid);
  o.tcp.idle_timeout = server.tcp_idle_timeout;
  // A client that does not read its answers for as long as an idle one would be closed.
  o.tcp.write_timeout = server.tcp_idle_timeout;
  o.tcp.max_connections = server.tcp_max_connections;
  o.rate_limit.responses_per_second = server.rrl_responses_per_second;
  o.rate_limit.slip = server.rrl_slip;
  o.rate_limit.ipv4_prefix = server.rrl_ipv4_prefix;
  o.rate_limit.ipv6_prefix = server.rrl_ipv6_prefix;
  return o;
}

Server::Server(const ServerOptions& options, const catalog::SnapshotStore& store,
               const common::Clock& clock)
    : options_(options),
      pool_(options.workers, store),
      udp_(pool_, clock, options_.limits, options_.rate_limit),
      tcp_(pool_, clock, options_.limits, options_.tcp) {
  pool_.set_query_sample(options_.query_sample);
  pool_.set_miss_hook(options_.on_miss);
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

void Server::bind(const config::ListenAddress& listen) {
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
