// How a snapshot is built: the zone file becomes one block; registry instances, grouped by
// (appid, env, zone) under their region, become one block per service; the empty
// non-terminals above services and zone names are counted, and the delegation points listed.
// An incremental build starts from the previous snapshot and touches only the apps whose data
// changed (RegistryData shares the others between versions): an app whose instances changed
// only in their renew/observed times keeps its blocks and gets new freshness slots; any other
// change recompiles the app's blocks (catalog/compile). A full build starts from nothing.
#include "catalog/builder.hpp"

#include <algorithm>
#include <set>

#include "catalog/app_changes.hpp"
#include "catalog/compile.hpp"
#include "catalog/labels.hpp"
#include "catalog/serial.hpp"
#include "catalog/service_name.hpp"
#include "wire/name.hpp"
#include "wire/types.hpp"

namespace discodns::catalog {
namespace {

class Builder {
 public:
  Builder(const BuildInput& input, BuildStats& stats) : in_(input), stats_(stats) {}

  // An incremental build when the previous snapshot was built from the same zone and regions;
  // otherwise, or when a change touches a name two services compete for, a full one.
  std::shared_ptr<const BuildState> run() {
    start();
    if (!incremental()) {
      start();  // drop what an abandoned incremental attempt did
      full();
    }
    build_pending();
    snap_->counts = {};
    for (std::size_t r = 0; r < snap_->region_counts.size(); ++r) {
      const auto& source = state_->sources[r];
      snap_->region_counts[r].skipped_instances = source ? source->skipped_instances : 0;
      snap_->counts += snap_->region_counts[r];
    }
    snap_->counts.services = snap_->services.size();
    snap_->counts.names += snap_->zone->nodes.size() + snap_->empty_names.size();
    static_cast<ServedCounts&>(stats_) = snap_->counts;
    state_->snapshot = snap_;
    return state_;
  }

 private:
  struct Group {
    std::string name;
    std::uint16_t region;
    const registry::AppKey* app;
    std::span<const registry::AppInstance> instances;
  };

  // A new snapshot with the zone block, the regions' state and no services yet.
  void start() {
    snap_ = std::make_shared<Snapshot>();
    state_ = std::make_shared<BuildState>();
    pending_.clear();
    dirty_parents_.clear();
    suffixes_.clear();
    incremental_ = false;
    stats_ = {};
    const StaticZone& zone = *in_.zone;
    snap_->apex = zone.apex;
    snap_->serial = in_.serial;
    snap_->built_ns = in_.built_ns;
    snap_->ttl = in_.ttl;
    snap_->negative_ttl = std::min(zone.soa_ttl, zone.soa_minimum);
    state_->zone_source = in_.zone;
    add_zone_block();
    rules_.clear();
    snap_->region_counts.assign(in_.regions.size(), {});
    for (const RegionData& region : in_.regions) {
      RegionState state;
      state.label = region.region;
      state.last_good_ns = region.last_good_ns;
      state.stale = region.stale;
      bool served = region.data && key_label(region.region);
      // File sources are served as of their newest renew time (README "TTLs").
      if (served && region.frozen_time) {
        region.data->for_each_app([&](const registry::AppKey&, const auto& instances) {
          for (const auto& inst : instances)
            state.frozen_now_ns = std::max(state.frozen_now_ns, inst.renew_ns);
        });
      }
      if (!region.frozen_time) state.reconcile_interval_ns = region.reconcile_interval_ns;
      rules_.push_back({in_.ttl, state.reconcile_interval_ns, state.frozen_now_ns});
      snap_->regions.push_back(std::move(state));
      state_->sources.push_back(served ? region.data : nullptr);
      suffixes_.push_back(served ? wire::wire_label(*key_label(region.region)) + zone.apex : "");
    }
  }

  void full() {
    for (std::uint32_t n = 0; n < snap_->zone->nodes.size(); ++n)
      add_ancestors(snap_->zone->name(n));
    for (std::size_t r = 0; r < state_->sources.size(); ++r) {
      if (!state_->sources[r]) continue;
      // In (appid, env, zone) order: of two services with one name, the first one wins.
      for (const auto& app : state_->sources[r]->sorted()) {
        for_each_zone(*app.second, [&](std::span<const registry::AppInstance> group) {
          add_group(static_cast<std::uint16_t>(r), *app.first, group);
        });
      }
    }
  }

  // Looks only at the apps whose data is not the very object the previous snapshot was built
  // from: removes their old services, adds their new ones, and rebuilds the services whose
  // host names they may shadow. false: a full build is needed.
  bool incremental() {
    const BuildState* prev = in_.previous.get();
    if (prev == nullptr || !reusable(*prev)) return false;
    incremental_ = true;
    const Snapshot& before = *prev->snapshot;
    snap_->services = before.services;  // shares every shard until written
    snap_->empty_names = before.empty_names;
    snap_->fresh = before.fresh;  // shares every chunk until written
    snap_->region_counts = before.region_counts;
    state_->contested = prev->contested;
    std::vector<Change> changes;
    if (!find_changes(*prev, changes)) return false;
    // When most apps changed shape, undoing and redoing each costs more than starting from
    // nothing. Apps that only renewed cost little either way (a reconcile renews them all).
    std::size_t apps = 0;
    for (const auto& source : state_->sources)
      apps += source ? source->apps() : 0;
    if (changes.size() > apps / 2 + 16) return false;
    for (const Change& c : changes) {
      if (c.before == nullptr) continue;
      bool removed = true;
      for_each_zone(*c.before, [&](std::span<const registry::AppInstance> group) {
        removed = removed && remove_group(c.region, *c.app, group);
      });
      if (!removed) return false;
    }
    for (const Change& c : changes) {
      if (c.after == nullptr) continue;
      bool added = true;
      for_each_zone(*c.after, [&](std::span<const registry::AppInstance> group) {
        added = added && add_group(c.region, *c.app, group);
      });
      if (!added) return false;
    }
    return rebuild_dirty_parents();
  }

  // Whether `prev` was built from the same zone and regions, with freshness computed the same
  // way (TTL settings, reconcile intervals, a file's time; otherwise every slot changes), and
  // without so many dead slots that its table wants compacting.
  bool reusable(const BuildState& prev_state) const {
    const Snapshot& prev = *prev_state.snapshot;
    if (prev_state.sources.size() != state_->sources.size() || prev.ttl != in_.ttl ||
        (prev_state.zone_source != in_.zone && *prev_state.zone_source != *in_.zone)) {
      return false;
    }
    for (std::size_t r = 0; r < prev.regions.size(); ++r) {
      const RegionState& before = prev.regions[r];
      const RegionState& after = snap_->regions[r];
      if (before.label != after.label || before.frozen_now_ns != after.frozen_now_ns ||
          before.reconcile_interval_ns != after.reconcile_interval_ns ||
          (prev_state.sources[r] == nullptr) != (state_->sources[r] == nullptr)) {
        return false;
      }
    }
    const std::uint32_t live = prev.fresh.size() - prev.fresh.dead();
    return prev.fresh.dead() <= live / 2 + 16 * FreshnessTable::kChunkSize;
  }

  struct Change {
    std::uint16_t region;
    const registry::AppKey* app;
    const registry::AppInstances* before;  // null: new app
    const registry::AppInstances* after;   // null: app gone
  };

  // The apps whose data differs from what `prev` was built from. Those that changed in shape
  // go to `changes` (compiled again); those whose renew/observed times alone moved get new
  // freshness slots right away, while their instances are in the cache. false: a full build
  // is needed.
  bool find_changes(const BuildState& prev, std::vector<Change>& changes) {
    bool ok = true;
    for (std::size_t r = 0; r < state_->sources.size(); ++r) {
      if (!state_->sources[r]) continue;  // not served, then or now
      auto region = static_cast<std::uint16_t>(r);
      for_each_changed_app(*prev.sources[r], *state_->sources[r],
                           [&](const registry::AppKey& app, const registry::AppInstances* b,
                               const registry::AppInstances* a, bool shape) {
                             if (shape) {
                               changes.push_back({region, &app, b, a});
                             } else {
                               ok = refresh_app(region, app, *a) && ok;
                             }
                           });
    }
    return ok;
  }

  // A change of renew/observed times alone: the app's blocks stay, their slots are rewritten.
  // false: a block is not what this build assumes (a full build is needed).
  bool refresh_app(std::uint16_t region, const registry::AppKey& app,
                   const registry::AppInstances& instances) {
    bool ok = true;
    for_each_zone(instances, [&](std::span<const registry::AppInstance> group) {
      const bool named =
          service_name_into(name_buffer_, app, group.front().zone, suffixes_[region]);
      const ServiceOrigin* origin = named ? origin_of(name_buffer_) : nullptr;
      // No block: an invalid or shadowed name, or one compiled anyway in this build.
      if (origin == nullptr) return;
      const ServiceOrigin& o = *origin;
      // Another app's block (appids equal but for case): this app's group is not served.
      if (o.region != region || o.app != app || o.discovery_zone != group.front().zone) return;
      if (o.instances != group.size()) {
        ok = false;
        return;
      }
      fill_freshness(o, group, rules_[region], snap_->fresh);
      ++stats_.blocks_refreshed;
    });
    return ok;
  }

  // Claims the group's service name (compiled later, in build_pending). false: an
  // incremental build met a name already taken by another service.
  bool add_group(std::uint16_t region, const registry::AppKey& app,
                 std::span<const registry::AppInstance> group) {
    ServedCounts& counts = snap_->region_counts[region];
    auto name = service_name(app, group.front().zone, suffixes_[region]);
    if (!name) {
      counts.invalid_names += group.size();
      return true;
    }
    if (snap_->zone->find(*name) != kNone) {  // static names win
      counts.shadowed_names += group.size();
      return true;
    }
    if (snap_->services.contains(*name)) {
      // Appids equal but for case share one name: the first one wins.
      if (incremental_) return false;
      counts.shadowed_names += group.size();
      state_->contested.insert(*name);
      return true;
    }
    snap_->services.writable(*name);  // null until compiled
    add_ancestors(*name);
    mark_parent(*name);
    pending_.push_back({std::move(*name), region, &app, group});
    return true;
  }

  // Undoes what add_group did for a group of the previous data. false: a full build is needed.
  bool remove_group(std::uint16_t region, const registry::AppKey& app,
                    std::span<const registry::AppInstance> group) {
    ServedCounts& counts = snap_->region_counts[region];
    auto name = service_name(app, group.front().zone, suffixes_[region]);
    if (!name) {
      counts.invalid_names -= group.size();
      return true;
    }
    if (snap_->zone->find(*name) != kNone) {
      counts.shadowed_names -= group.size();
      return true;
    }
    if (state_->contested.contains(*name)) return false;
    const ServiceOrigin* origin = origin_of(*name);
    if (origin == nullptr || origin->region != region || origin->app != app ||
        origin->discovery_zone != group.front().zone) {
      return false;  // not built the way this build assumes: start again from scratch
    }
    uncount(*origin);
    snap_->services.erase(*name);
    remove_ancestors(*name);
    mark_parent(*name);
    return true;
  }

  // A service's host names give way to service names (a.b.env... as a service wins over host
  // a of service b.env...), so adding or removing a service rebuilds its parent service.
  void mark_parent(std::string_view name) {
    if (!incremental_) return;
    std::string_view parent = wire::parent_of(name);
    if (parent.size() > in_.zone->apex.size()) dirty_parents_.emplace(parent);
  }

  bool rebuild_dirty_parents() {
    for (const auto& parent : dirty_parents_) {
      const ServiceOrigin* origin = origin_of(parent);
      if (origin == nullptr) continue;  // none, or being built anyway
      const ServiceOrigin& old = *origin;
      const auto* apps =
          state_->sources[old.region]->shard(registry::RegistryData::shard_of(old.app));
      auto entry =
          apps != nullptr ? apps->find(old.app) : registry::RegistryData::Apps::const_iterator{};
      if (apps == nullptr || entry == apps->end()) return false;
      const registry::AppInstances* instances = entry->second.instances.get();
      auto [first, last] =
          std::equal_range(instances->begin(), instances->end(), old.discovery_zone,
                           [](const auto& x, const auto& y) { return zone_of(x) < zone_of(y); });
      if (first == last) return false;
      uncount(old);
      // The data's own copy of the key lives as long as the snapshot.
      pending_.push_back({parent, old.region, &entry->first,
                          std::span(&*first, static_cast<std::size_t>(last - first))});
    }
    return true;
  }
  static const std::string& zone_of(const registry::AppInstance& i) { return i.zone; }
  static const std::string& zone_of(const std::string& zone) { return zone; }

  void uncount(const ServiceOrigin& origin) {
    ServedCounts& counts = snap_->region_counts[origin.region];
    counts.names -= origin.block->nodes.size();
    counts.instances -= origin.instances;
    counts.hostname_collisions -= origin.hostname_collisions;
    counts.shadowed_names -= origin.shadowed_names;
    snap_->fresh.release(static_cast<std::uint32_t>(origin.block->records.size()));
  }

  void build_pending() {
    for (const Group& g : pending_) {
      ServedCounts& counts = snap_->region_counts[g.region];
      std::shared_ptr<const ServiceOrigin> origin =
          compile_service(g.name, g.region, *g.app, g.instances, *snap_, snap_->fresh);
      fill_freshness(*origin, g.instances, rules_[g.region], snap_->fresh);
      counts.names += origin->block->nodes.size();
      counts.instances += origin->instances;
      counts.hostname_collisions += origin->hostname_collisions;
      counts.shadowed_names += origin->shadowed_names;
      std::shared_ptr<const Block> block = origin->block;
      snap_->services.writable(g.name) = {std::move(block), std::move(origin)};
    }
    stats_.incremental = incremental_;
    stats_.blocks_built = pending_.size();
    stats_.blocks_reused = snap_->services.size() - pending_.size();
  }

  void add_zone_block() {
    const StaticZone& zone = *in_.zone;
    for (const auto& rec : zone.records) {
      if (rec.type == wire::type::kNs && rec.owner != zone.apex) snap_->cuts.push_back(rec.owner);
    }
    auto block = compile_zone(zone, in_.serial);
    std::uint32_t apex = block->find(zone.apex);
    if (apex != kNone) {
      const RRset* soa = block->rrset(block->nodes[apex], wire::type::kSoa);
      if (soa != nullptr) snap_->soa_rrset = static_cast<std::uint32_t>(soa - block->rrsets.data());
    }
    std::sort(snap_->cuts.begin(), snap_->cuts.end());
    snap_->cuts.erase(std::unique(snap_->cuts.begin(), snap_->cuts.end()), snap_->cuts.end());
    snap_->zone = std::move(block);
  }

  void add_ancestors(std::string_view name) {
    count_ancestors(snap_->empty_names, name, in_.zone->apex.size());
  }
  void remove_ancestors(std::string_view name) {
    uncount_ancestors(snap_->empty_names, name, in_.zone->apex.size());
  }

  // What the service block of `name` was compiled from; null: no such block, or one this
  // build has claimed and not compiled yet.
  const ServiceOrigin* origin_of(std::string_view name) const {
    const ServiceEntry* entry = snap_->services.find(name);
    return entry == nullptr ? nullptr : static_cast<const ServiceOrigin*>(entry->origin.get());
  }

  const BuildInput& in_;
  BuildStats& stats_;
  std::shared_ptr<Snapshot> snap_;
  std::shared_ptr<BuildState> state_;
  std::vector<std::string> suffixes_;  // per region: region.apex in wire form, "" if not served
  std::vector<FreshnessRule> rules_;   // per region: how its instances' good_until is computed
  std::vector<Group> pending_;         // services to compile
  std::string name_buffer_;            // refresh_app's service names, one allocation a build
  std::set<std::string> dirty_parents_;
  bool incremental_ = false;
};

}  // namespace

std::shared_ptr<const BuildState> build(const BuildInput& input, BuildStats* stats) {
  BuildStats local;
  Builder builder(input, stats ? *stats : local);
  return builder.run();
}

std::shared_ptr<const Snapshot> build_snapshot(const BuildInput& input, BuildStats* stats) {
  return build(input, stats)->snapshot;
}

}  // namespace discodns::catalog
