#include "catalog/snapshot.hpp"

#include <algorithm>

#include "wire/name.hpp"

namespace discodns::catalog {

Snapshot::Found Snapshot::find(std::string_view name) const {
  const std::size_t hash = NameHash{}(name);
  if (zone) {
    std::uint32_t node = zone->find(name, hash);
    if (node != kNone) return {zone.get(), node, false};
  }
  // Walk up from the name itself: the first service met is the closest enclosing one.
  for (std::string_view suffix = name; suffix.size() > apex.size();
       suffix = wire::parent_of(suffix)) {
    std::size_t suffix_hash = suffix.size() == name.size() ? hash : NameHash{}(suffix);
    const auto* service = services.find(HashedName{suffix, suffix_hash});
    if (service == nullptr) continue;
    std::uint32_t node = (*service)->find(name, hash);
    if (node != kNone) return {service->get(), node, false};
    break;  // below a service, not in it: only an ancestor of a deeper service can exist
  }
  if (empty_names.contains(HashedName{name, hash})) return {nullptr, kNone, true};
  return {};
}

Snapshot::RRsetView Snapshot::view(const Block& block, const RRset& set, common::Nanos now) const {
  RRsetView v;
  if (!set.synthesized) {
    v.ttl = set.static_ttl;
    v.now = now;
    return v;
  }
  const RegionState* region = region_of(block);
  v.now = region != nullptr && region->frozen_now_ns != 0 ? region->frozen_now_ns : now;
  const Record* first = &block.records[set.first_record];
  for (std::uint32_t i = 0; i < set.record_count && !v.fresh_only; ++i) {
    v.fresh_only = !is_late(first[i].renew_ns, v.now, ttl);
  }
  // RFC 2181 §5.2: one TTL per RRset, the smallest of its members.
  v.ttl = ttl.max_s;
  for (std::uint32_t i = 0; i < set.record_count; ++i) {
    if (included(first[i], v)) {
      v.ttl = std::min(v.ttl, instance_ttl(first[i].renew_ns, v.now, ttl));
    }
  }
  if (region != nullptr && region->stale) v.ttl = std::min(v.ttl, ttl.stale_ttl_s);
  return v;
}

}  // namespace discodns::catalog
