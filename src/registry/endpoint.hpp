// Instance addresses as discovery writes them, "scheme://host:port", parsed into an Endpoint
// (the way back is registry::endpoint_url, in model.hpp).
#pragma once

#include <string>
#include <string_view>

#include "registry/model.hpp"

namespace discodns::registry {

// "scheme://host:port", IPv6 as "[addr]:port", port 1..65535, the scheme lower-cased. A path,
// query or fragment after the authority is ignored: DNS can only carry host and port. false
// for anything else (userinfo, spaces, a bad port or host).
bool parse_endpoint(std::string_view text, Endpoint& out);

}  // namespace discodns::registry
