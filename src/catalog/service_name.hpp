// The DNS name of a service: appid.env.zone.region.domain, from a registry key, discovery's
// zone and the region's suffix (design.md §2).
#pragma once

#include <optional>
#include <string>

#include "registry/model.hpp"

namespace discodns::catalog {

// appid.env.zone.region.domain in lower-cased wire form, or nullopt if not a valid name.
std::optional<std::string> service_name(const registry::AppKey& key, const std::string& zone_key,
                                        const std::string& region_suffix);
// The same into `out` (cleared first; its capacity reused); false: not a valid name.
bool service_name_into(std::string& out, const registry::AppKey& key, const std::string& zone_key,
                       const std::string& region_suffix);

}  // namespace discodns::catalog
