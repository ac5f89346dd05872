// [transfer] turned into transfer::PrimaryOptions: transfer/ knows nothing of the config.
#pragma once

#include <optional>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "config/config.hpp"
#include "transfer/primary.hpp"

namespace discodns::daemon {

// nullopt when transfers are off (no transfer.allow).
std::optional<transfer::PrimaryOptions> primary_options_from(const config::Config& config);

// transfer.notify as endpoints (the config checked them).
std::vector<boost::asio::ip::udp::endpoint> notify_targets(const config::Config& config);

// transfer.ttl, or ttl.max when unset.
std::uint32_t transfer_ttl(const config::Config& config);

}  // namespace discodns::daemon
