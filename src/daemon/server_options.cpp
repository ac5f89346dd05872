#include "daemon/server_options.hpp"

#include <algorithm>

namespace discodns::daemon {

// The config refuses what the engine's inline copies could not hold.
static_assert(query::kMaxTxtLength == config::kMaxTxtLength);
static_assert(query::kMaxNsidLength == config::kMaxNsidLength);

server::ServerOptions server_options_from(const config::Config& config) {
  const config::ServerConfig& server = config.server;
  server::ServerOptions o;
  o.query_sample = config.log.query_sample;
  for (const config::ListenAddress& l : server.listen)
    o.listen.push_back({l.host, l.port});
  o.workers = server.workers;
  o.limits.our_payload_size = server.udp_payload_size;
  o.limits.max_address_records = server.max_address_records;
  auto idle_100ms = server.tcp_idle_timeout.count() / 100;
  o.limits.tcp_idle_timeout_100ms = static_cast<std::uint16_t>(
      std::clamp<long long>(static_cast<long long>(idle_100ms), 0, 65535));
  o.limits.identity.assign(server.identity);
  o.limits.version.assign(server.version);
  o.limits.nsid.assign(server.nsid);
  o.limits.transfers = !config.transfer.allow.empty();
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

}  // namespace discodns::daemon
