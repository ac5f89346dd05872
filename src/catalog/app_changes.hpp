// What changed between two versions of one source's registry data, app by app, and whether an
// app changed in shape (what answers are compiled from) or only in its renew/observed times
// (what freshness slots are computed from). Versions share the apps and shards that did not
// change (registry::RegistryData), so only the others are compared.
#pragma once

#include <cstddef>

#include "registry/model.hpp"

namespace discodns::catalog {

// Calls f(app, before, after, shape_changed) for every app whose instances differ between two
// shards (both sorted by key; null = empty; before/after null: the app is new/gone).
// shape_changed is false when they differ in renew/observed times only, which RegistryData
// recorded when the data was set (StoredApp::shape): no instance is compared here.
template <class F>
void diff_shard(const registry::RegistryData::Apps* before,
                const registry::RegistryData::Apps* after, F&& f) {
  static const registry::RegistryData::Apps kEmpty;
  const auto& b = before ? *before : kEmpty;
  const auto& a = after ? *after : kEmpty;
  auto bi = b.begin();
  auto ai = a.begin();
  while (bi != b.end() || ai != a.end()) {
    if (ai == a.end() || (bi != b.end() && bi->first < ai->first)) {
      f(bi->first, bi->second.instances.get(), nullptr, true);
      ++bi;
    } else if (bi == b.end() || ai->first < bi->first) {
      f(ai->first, nullptr, ai->second.instances.get(), true);
      ++ai;
    } else {
      const registry::StoredApp& x = bi->second;
      const registry::StoredApp& y = ai->second;
      if (x.instances != y.instances)
        f(ai->first, x.instances.get(), y.instances.get(), x.shape != y.shape);
      ++bi;
      ++ai;
    }
  }
}

// diff_shard over every shard the two versions do not share.
template <class F>
void for_each_changed_app(const registry::RegistryData& before, const registry::RegistryData& after,
                          F&& f) {
  if (&before == &after) return;
  for (std::size_t i = 0; i < registry::RegistryData::kShards; ++i) {
    if (!after.shares_shard(before, i)) diff_shard(before.shard(i), after.shard(i), f);
  }
}

}  // namespace discodns::catalog
