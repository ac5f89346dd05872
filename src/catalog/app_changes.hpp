// What changed between two versions of one source's registry data, app by app, and whether an
// app changed in shape (what answers are compiled from) or only in its renew/observed times
// (what freshness slots are computed from). Versions share the apps and shards that did not
// change (registry::RegistryData), so only the others are compared.
#pragma once

#include <cstddef>

#include "registry/model.hpp"

namespace discodns::catalog {

// Same instances in the same order (same_shape) with the same renew and observed times.
inline bool same_times(const registry::AppInstances& a, const registry::AppInstances& b) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].renew_ns != b[i].renew_ns || a[i].observed_ns != b[i].observed_ns) return false;
  }
  return true;
}

// Calls f(app, before, after, shape_changed) for every app whose instances differ between two
// shards (both sorted by key; null = empty; before/after null: the app is new/gone).
// shape_changed is false when they differ in renew/observed times only.
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
      f(bi->first, bi->second.get(), nullptr, true);
      ++bi;
    } else if (bi == b.end() || ai->first < bi->first) {
      f(ai->first, nullptr, ai->second.get(), true);
      ++ai;
    } else {
      if (bi->second != ai->second) {
        const registry::AppInstances& x = *bi->second;
        const registry::AppInstances& y = *ai->second;
        if (!registry::same_shape(x, y)) {
          f(ai->first, &x, &y, true);
        } else if (!same_times(x, y)) {
          f(ai->first, &x, &y, false);
        }
      }
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
