// Services and their names: an app's instances grouped by discovery zone (one service each),
// the DNS name appid.env.zone.region.domain of each (design.md §2), and the empty
// non-terminals above service names (RFC 8020).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "catalog/snapshot.hpp"
#include "wire/name.hpp"

#include "registry/model.hpp"

namespace discodns::catalog {

// appid.env.zone.region.domain in lower-cased wire form, or nullopt if not a valid name.
std::optional<std::string> service_name(const registry::AppKey& key, const std::string& zone_key,
                                        const std::string& region_suffix);
// The same into `out` (cleared first; its capacity reused); false: not a valid name.
bool service_name_into(std::string& out, const registry::AppKey& key, const std::string& zone_key,
                       const std::string& region_suffix);

// Calls f(group) for each run of instances with the same discovery zone (an app's instances
// are sorted by zone, hostname): one service each.
template <class F>
void for_each_zone(const registry::AppInstances& instances, F&& f) {
  for (std::size_t begin = 0; begin < instances.size();) {
    std::size_t end = begin + 1;
    while (end < instances.size() && instances[end].zone == instances[begin].zone)
      ++end;
    f(std::span(instances.data() + begin, end - begin));
    begin = end;
  }
}

// RFC 8020: every ancestor of a served name down to the apex (`apex_size` octets of wire
// name) exists; each counts the names below it, so that removing one service removes
// exactly the ancestors only it needed.
inline void count_ancestors(NameShards<std::uint32_t>& ancestors, std::string_view name,
                            std::size_t apex_size) {
  for (name = wire::parent_of(name); name.size() > apex_size; name = wire::parent_of(name))
    ++ancestors.writable(name);
}
inline void uncount_ancestors(NameShards<std::uint32_t>& ancestors, std::string_view name,
                              std::size_t apex_size) {
  for (name = wire::parent_of(name); name.size() > apex_size; name = wire::parent_of(name)) {
    if (!ancestors.contains(name)) continue;
    if (--ancestors.writable(name) == 0) ancestors.erase(name);
  }
}

}  // namespace discodns::catalog
