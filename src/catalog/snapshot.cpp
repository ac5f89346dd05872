#include "catalog/snapshot.hpp"

#include <algorithm>

namespace discodns::catalog {

Snapshot::RRsetView Snapshot::view(const RRset& set, const Node& node, common::Nanos now) const {
  RRsetView v;
  if (!set.synthesized) {
    v.ttl = set.static_ttl;
    v.now = now;
    return v;
  }
  const RegionState* region = node.region < regions.size() ? &regions[node.region] : nullptr;
  v.now = region != nullptr && region->frozen_now_ns != 0 ? region->frozen_now_ns : now;
  const Record* first = &records[set.first_record];
  for (std::uint32_t i = 0; i < set.record_count && !v.fresh_only; ++i) {
    v.fresh_only = !is_late(first[i].renew_ns, v.now, ttl);
  }
  // RFC 2181 §5.2: one TTL per RRset, the smallest of its members.
  v.ttl = ttl.max_s;
  for (std::uint32_t i = 0; i < set.record_count; ++i) {
    if (included(first[i], v)) v.ttl = std::min(v.ttl, instance_ttl(first[i].renew_ns, v.now, ttl));
  }
  if (region != nullptr && region->stale) v.ttl = std::min(v.ttl, ttl.stale_ttl_s);
  return v;
}

}  // namespace discodns::catalog
