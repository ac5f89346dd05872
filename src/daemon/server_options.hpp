// [server] (and [log] query_sample) turned into the server's options: server/ knows nothing of
// the config.
#pragma once

#include "config/config.hpp"
#include "server/server.hpp"

namespace discodns::daemon {

// limits.cookie_secret is left zero: the caller picks a random one.
server::ServerOptions server_options_from(const config::Config& config);

}  // namespace discodns::daemon
