#include "daemon/transfer_options.hpp"

#include <algorithm>

#include <boost/asio/ip/address.hpp>

#include "config/parse.hpp"

namespace discodns::daemon {

std::uint32_t transfer_ttl(const config::Config& config) {
  auto ttl = config.transfer.ttl.value_or(config.ttl.max).count();
  return static_cast<std::uint32_t>(std::clamp<long long>(ttl, 0, 2147483647));
}

std::vector<boost::asio::ip::udp::endpoint> notify_targets(const config::Config& config) {
  std::vector<boost::asio::ip::udp::endpoint> out;
  for (const std::string& text : config.transfer.notify) {
    config::ListenAddress address;
    if (config::parse_listen(text, address)) continue;  // a refusal: the loader stopped it
    out.emplace_back(boost::asio::ip::make_address(address.host), address.port);
  }
  return out;
}

std::optional<transfer::PrimaryOptions> primary_options_from(const config::Config& config) {
  const config::TransferConfig& t = config.transfer;
  if (t.allow.empty()) return std::nullopt;
  transfer::PrimaryOptions o;
  for (const std::string& prefix : t.allow) {
    if (auto parsed = common::parse_address_prefix(prefix)) o.allow.push_back(*parsed);
  }
  if (t.tsig) o.key = transfer::TsigKey{t.tsig->name, t.tsig->algorithm, t.tsig->secret};
  o.synthesized_ttl = transfer_ttl(config);
  o.journal.max_changes = t.journal_changes;
  o.journal.max_bytes = t.journal_bytes;
  return o;
}

}  // namespace discodns::daemon
