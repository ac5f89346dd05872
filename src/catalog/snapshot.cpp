// The query path's reads of a Snapshot: where a name lives, the TTL and freshness view of an
// RRset, and which registry region a name falls under.
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
    std::uint32_t node = service->block->find(name, hash);
    if (node != kNone) return {service->block.get(), node, false};
    break;  // below a service, not in it: only an ancestor of a deeper service can exist
  }
  if (empty_names.contains(HashedName{name, hash})) return {nullptr, kNone, true};
  return {};
}

Snapshot::RRsetView Snapshot::view(const Block& block, const RRset& set, common::Nanos now) const {
  RRsetView v;
  if (!set.synthesized) {
    v.ttl = set.static_ttl;
    return v;
  }
  const RegionState* region = region_of(block);
  if (region != nullptr && region->frozen_now_ns != 0) now = region->frozen_now_ns;
  v.first_slot = block.fresh_base + set.first_record;
  for (std::uint32_t i = 0; i < set.record_count && !v.fresh_only; ++i)
    v.fresh_only = fresh.at(v.first_slot + i) != kLate;
  // RFC 2181 §5.2: one TTL per RRset, the smallest of its members.
  v.ttl = ttl.max_s;
  for (std::uint32_t i = 0; i < set.record_count; ++i) {
    if (included(v, i)) v.ttl = std::min(v.ttl, ttl_at(fresh.at(v.first_slot + i), now, ttl));
  }
  if (region != nullptr && region->stale) v.ttl = std::min(v.ttl, ttl.stale_ttl_s);
  return v;
}

Snapshot::NameRegion Snapshot::region_of(std::string_view name) const {
  NameRegion found;
  if (name.size() <= apex.size()) return found;
  std::uint32_t below = 0;
  while (wire::parent_of(name).size() > apex.size()) {
    name = wire::parent_of(name);
    ++below;
  }
  std::string_view label = name.substr(1, static_cast<unsigned char>(name[0]));
  for (std::size_t i = 0; i < regions.size(); ++i) {
    const std::string& region = regions[i].label;
    if (region.size() == label.size() &&
        std::equal(label.begin(), label.end(), region.begin(),
                   [](char a, char b) { return a == wire::ascii_lower(b); })) {
      found.index = static_cast<std::uint16_t>(i);
      found.labels_below = below;
      return found;
    }
  }
  return found;
}

}  // namespace discodns::catalog
