// How a snapshot is built: the zone file becomes one block; registry instances, grouped by
// (appid, env, zone) under their region, become one block per service; the empty
// non-terminals above services and zone names are counted, and the delegation points listed.
// An incremental build starts from the previous snapshot and touches only the apps whose data
// changed (RegistryData shares the others between versions); a full build starts from nothing.
#include "catalog/builder.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "catalog/labels.hpp"
#include "wire/bytes.hpp"
#include "wire/name.hpp"
#include "wire/types.hpp"

namespace discodns::catalog {
namespace {

using Bytes = std::vector<std::uint8_t>;

struct PendingRecord {
  Bytes rdata;
  common::Nanos renew_ns = 0;
  std::string target;  // SRV/NS target name (lower-cased wire), resolved to a node at the end
};

struct PendingRRset {
  bool synthesized = false;
  std::uint32_t static_ttl = 0;
  std::vector<PendingRecord> records;
};

struct PendingNode {
  NodeKind kind = NodeKind::kEmpty;
  std::vector<std::pair<std::uint16_t, PendingRRset>> rrsets;  // few per node: a vector

  PendingRRset& rrset(std::uint16_t type) {
    for (auto& [t, set] : rrsets) {
      if (t == type) return set;
    }
    return rrsets.emplace_back(type, PendingRRset{}).second;
  }
};

using PendingNodes = std::unordered_map<std::string, PendingNode>;

// RRsets at a node are kept in this order, so ANY (RFC 8482) returns the most useful one.
int type_rank(std::uint16_t t) {
  switch (t) {
    case wire::type::kSoa:
      return 0;
    case wire::type::kNs:
      return 1;
    case wire::type::kA:
      return 2;
    case wire::type::kAaaa:
      return 3;
    case wire::type::kSrv:
      return 4;
    case wire::type::kTxt:
      return 5;
    default:
      return 6 + t;
  }
}

struct Address {
  std::uint16_t type;
  Bytes bytes;
};

std::optional<Address> parse_ip(const std::string& host) {
  std::uint8_t buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) {
    return Address{wire::type::kA, Bytes(buf, buf + 4)};
  }
  if (inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    return Address{wire::type::kAaaa, Bytes(buf, buf + 16)};
  }
  return std::nullopt;
}

Bytes txt_rdata(const std::vector<std::string>& strings) {
  Bytes out;
  for (const auto& s : strings) {
    if (out.size() + 256 > 65000) break;  // stays one RDATA, whatever the metadata
    std::size_t n = std::min<std::size_t>(s.size(), 255);
    out.push_back(static_cast<std::uint8_t>(n));
    out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return out;
}

Bytes srv_rdata(std::uint16_t weight, std::uint16_t port, const std::string& target) {
  Bytes out(6);
  wire::put_u16(&out[0], 0);  // priority: all endpoints equal (no locality yet)
  wire::put_u16(&out[2], weight);
  wire::put_u16(&out[4], port);
  out.insert(out.end(), target.begin(), target.end());
  return out;
}

// SOA RDATA is MNAME RNAME SERIAL ...: the served serial follows the data (design.md §3).
void patch_serial(Bytes& rdata, std::uint32_t serial) {
  std::size_t pos = 0;
  for (int name = 0; name < 2; ++name) {
    while (pos < rdata.size() && rdata[pos] != 0)
      pos += rdata[pos] + 1;
    ++pos;
  }
  if (pos + 4 <= rdata.size()) wire::put_u32(&rdata[pos], serial);
}

// appid.env.zone.region.domain in lower-cased wire form, or nullopt if not a valid name.
std::optional<std::string> service_name(const registry::AppKey& key, const std::string& zone_key,
                                        const std::string& region_suffix) {
  auto app = appid_labels(key.appid);
  auto env = key_label(key.env);
  auto zone = key_label(zone_key);
  if (!app || !env || !zone) return std::nullopt;
  std::string name = *app + wire::wire_label(*env) + wire::wire_label(*zone) + region_suffix;
  if (name.size() > wire::kMaxNameLength) return std::nullopt;
  return name;
}

// Pending nodes -> a Block with names in a stable order (equal inputs, equal bytes), every
// array sized exactly.
std::shared_ptr<Block> flatten(PendingNodes& pending, std::uint16_t region) {
  auto block = std::make_shared<Block>();
  block->region = region;
  std::vector<std::pair<const std::string, PendingNode>*> ordered;
  ordered.reserve(pending.size());
  std::size_t name_bytes = 0, rrsets = 0, records = 0, rdata = 0;
  for (auto& entry : pending) {
    ordered.push_back(&entry);
    name_bytes += entry.first.size();
    rrsets += entry.second.rrsets.size();
    for (const auto& [type, set] : entry.second.rrsets) {
      records += set.records.size();
      for (const auto& r : set.records)  // synthesized SRV targets are not stored (below)
        rdata += r.rdata.size() - (type == wire::type::kSrv ? r.target.size() : 0);
    }
  }
  std::sort(ordered.begin(), ordered.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  block->nodes.reserve(ordered.size());
  block->name_offsets.reserve(ordered.size() + 1);
  block->name_bytes.reserve(name_bytes);
  block->rrsets.reserve(rrsets);
  block->records.reserve(records);
  block->rdata.reserve(rdata);
  std::size_t slots = 2;
  while (slots < 2 * ordered.size())
    slots *= 2;
  block->slots.assign(slots, 0);
  for (std::uint32_t index = 0; index < ordered.size(); ++index) {
    const std::string& name = ordered[index]->first;
    block->name_offsets.push_back(static_cast<std::uint32_t>(block->name_bytes.size()));
    block->name_bytes += name;
    for (std::size_t i = NameHash{}(name) & (slots - 1);; i = (i + 1) & (slots - 1)) {
      if (block->slots[i] == 0) {
        block->slots[i] = index + 1;
        break;
      }
    }
  }
  block->name_offsets.push_back(static_cast<std::uint32_t>(block->name_bytes.size()));
  for (auto* entry : ordered) {
    PendingNode& pnode = entry->second;
    Node node;
    node.kind = pnode.kind;
    node.first_rrset = static_cast<std::uint32_t>(block->rrsets.size());
    std::sort(pnode.rrsets.begin(), pnode.rrsets.end(),
              [](const auto& a, const auto& b) { return type_rank(a.first) < type_rank(b.first); });
    for (auto& [type, set] : pnode.rrsets) {
      RRset out;
      out.type = type;
      out.synthesized = set.synthesized;
      out.static_ttl = set.static_ttl;
      out.first_record = static_cast<std::uint32_t>(block->records.size());
      out.record_count = static_cast<std::uint32_t>(set.records.size());
      out.target_rdata_offset = type == wire::type::kSrv ? 6 : 0;
      out.target_by_reference = type == wire::type::kSrv;
      for (auto& pr : set.records) {
        Record rec;
        rec.renew_ns = pr.renew_ns;
        // Additional-section targets inside the block (SRV targets, in-zone NS names).
        std::uint32_t target = pr.target.empty() ? kNone : block->find(pr.target);
        if (target < kNoTarget) rec.target_node = static_cast<std::uint16_t>(target);
        std::size_t stored = pr.rdata.size();
        if (out.target_by_reference && rec.target_node != kNoTarget) stored -= pr.target.size();
        rec.rdata_offset = static_cast<std::uint32_t>(block->rdata.size());
        rec.rdata_length = static_cast<std::uint16_t>(stored);
        block->rdata.insert(block->rdata.end(), pr.rdata.begin(),
                            pr.rdata.begin() + static_cast<std::ptrdiff_t>(stored));
        block->records.push_back(rec);
      }
      block->rrsets.push_back(out);
    }
    node.rrset_count = static_cast<std::uint16_t>(block->rrsets.size() - node.first_rrset);
    block->nodes.push_back(node);
  }
  return block;
}

// Calls f(group) for each run of instances with the same zone (instances are sorted by
// zone, hostname): one service each.
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

class Builder {
 public:
  Builder(const BuildInput& input, BuildStats& stats) : in_(input), stats_(stats) {}

  // An incremental build when the previous snapshot was built from the same zone and regions;
  // otherwise, or when a change touches a name two services compete for, a full one.
  std::shared_ptr<const Snapshot> run() {
    start();
    if (!incremental()) {
      start();  // drop what an abandoned incremental attempt did
      full();
    }
    build_pending();
    snap_->counts.services = snap_->services.size();
    snap_->counts.names += snap_->zone->nodes.size() + snap_->empty_names.size();
    static_cast<ServedCounts&>(stats_) = snap_->counts;
    return snap_;
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
    snap_->zone_source = in_.zone;
    add_zone_block();
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
      snap_->regions.push_back(std::move(state));
      snap_->sources.push_back(served ? region.data : nullptr);
      suffixes_.push_back(served ? wire::wire_label(*key_label(region.region)) + zone.apex : "");
    }
  }

  void full() {
    for (std::uint32_t n = 0; n < snap_->zone->nodes.size(); ++n)
      add_ancestors(snap_->zone->name(n));
    for (std::size_t r = 0; r < snap_->sources.size(); ++r) {
      if (!snap_->sources[r]) continue;
      // In (appid, env, zone) order: of two services with one name, the first one wins.
      for (const auto& app : snap_->sources[r]->sorted()) {
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
    const Snapshot* prev = in_.previous.get();
    if (prev == nullptr || prev->sources.size() != snap_->sources.size() ||
        (prev->zone_source != in_.zone && *prev->zone_source != *in_.zone)) {
      return false;
    }
    for (std::size_t r = 0; r < prev->regions.size(); ++r) {
      if (prev->regions[r].label != snap_->regions[r].label) return false;
      if ((prev->sources[r] == nullptr) != (snap_->sources[r] == nullptr)) return false;
    }
    incremental_ = true;
    snap_->services = prev->services;  // shares every shard until written
    snap_->empty_names = prev->empty_names;
    snap_->contested = prev->contested;
    snap_->counts = prev->counts;
    snap_->counts.names -= prev->zone->nodes.size() + prev->empty_names.size();
    struct Change {
      std::uint16_t region;
      const registry::AppKey* app;
      const registry::AppInstances* before;  // null: new app
      const registry::AppInstances* after;   // null: app gone
    };
    std::vector<Change> changes;
    for (std::size_t r = 0; r < snap_->sources.size(); ++r) {
      const registry::RegistryData* before = prev->sources[r].get();
      const registry::RegistryData* after = snap_->sources[r].get();
      if (before == after) continue;
      for (std::size_t i = 0; i < registry::RegistryData::kShards; ++i) {
        if (after->shares_shard(*before, i)) continue;
        diff_shard(before->shard(i), after->shard(i),
                   [&](const registry::AppKey& app, const registry::AppInstances* b,
                       const registry::AppInstances* a) {
                     changes.push_back({static_cast<std::uint16_t>(r), &app, b, a});
                   });
      }
    }
    // When most apps changed (a reconcile after every instance renewed), undoing and redoing
    // each costs more than starting from nothing.
    std::size_t apps = 0;
    for (const auto& source : snap_->sources)
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

  // Calls f(app, before, after) for every app whose instances differ between two shards
  // (both sorted by key; null = empty).
  template <class F>
  static void diff_shard(const registry::RegistryData::Apps* before,
                         const registry::RegistryData::Apps* after, F&& f) {
    static const registry::RegistryData::Apps kEmpty;
    const auto& b = before ? *before : kEmpty;
    const auto& a = after ? *after : kEmpty;
    auto bi = b.begin();
    auto ai = a.begin();
    while (bi != b.end() || ai != a.end()) {
      if (ai == a.end() || (bi != b.end() && bi->first < ai->first)) {
        f(bi->first, bi->second.get(), nullptr);
        ++bi;
      } else if (bi == b.end() || ai->first < bi->first) {
        f(ai->first, nullptr, ai->second.get());
        ++ai;
      } else {
        if (bi->second != ai->second && *bi->second != *ai->second) {
          f(ai->first, bi->second.get(), ai->second.get());
        }
        ++bi;
        ++ai;
      }
    }
  }

  // Claims the group's service name (compiled later, in build_pending). false: an
  // incremental build met a name already taken by another service.
  bool add_group(std::uint16_t region, const registry::AppKey& app,
                 std::span<const registry::AppInstance> group) {
    ServedCounts& counts = snap_->counts;
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
      snap_->contested.insert(*name);
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
    ServedCounts& counts = snap_->counts;
    auto name = service_name(app, group.front().zone, suffixes_[region]);
    if (!name) {
      counts.invalid_names -= group.size();
      return true;
    }
    if (snap_->zone->find(*name) != kNone) {
      counts.shadowed_names -= group.size();
      return true;
    }
    if (snap_->contested.contains(*name)) return false;
    const auto* block = snap_->services.find(*name);
    if (block == nullptr || *block == nullptr || (*block)->region != region ||
        (*block)->app != app || (*block)->zone_key != group.front().zone) {
      return false;  // not built the way this build assumes: start again from scratch
    }
    uncount(**block);
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
      const auto* block = snap_->services.find(parent);
      if (block == nullptr || *block == nullptr) continue;  // none, or being built anyway
      const Block& old = **block;
      const auto* apps =
          snap_->sources[old.region]->shard(registry::RegistryData::shard_of(old.app));
      auto entry =
          apps != nullptr ? apps->find(old.app) : registry::RegistryData::Apps::const_iterator{};
      if (apps == nullptr || entry == apps->end()) return false;
      const registry::AppInstances* instances = entry->second.get();
      auto [first, last] =
          std::equal_range(instances->begin(), instances->end(), old.zone_key,
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

  void uncount(const Block& block) {
    ServedCounts& counts = snap_->counts;
    counts.names -= block.nodes.size();
    counts.instances -= block.instances;
    counts.hostname_collisions -= block.hostname_collisions;
    counts.shadowed_names -= block.shadowed_names;
  }

  void build_pending() {
    ServedCounts& counts = snap_->counts;
    for (const Group& g : pending_) {
      std::shared_ptr<const Block> block = build_service(g);
      counts.names += block->nodes.size();
      counts.instances += block->instances;
      counts.hostname_collisions += block->hostname_collisions;
      counts.shadowed_names += block->shadowed_names;
      snap_->services.writable(g.name) = std::move(block);
    }
    stats_.incremental = incremental_;
    stats_.blocks_built = pending_.size();
    stats_.blocks_reused = snap_->services.size() - pending_.size();
  }

  void add_zone_block() {
    const StaticZone& zone = *in_.zone;
    PendingNodes nodes;
    for (const auto& rec : zone.records) {
      PendingNode& node = nodes[rec.owner];
      node.kind = rec.owner == zone.apex ? NodeKind::kApex : NodeKind::kStatic;
      PendingRRset& set = node.rrset(rec.type);
      // RFC 2181 §5.2: one TTL per RRset; the smallest one written wins.
      set.static_ttl = set.records.empty() ? rec.ttl : std::min(set.static_ttl, rec.ttl);
      PendingRecord pr;
      pr.rdata = Bytes(rec.rdata.begin(), rec.rdata.end());
      if (rec.type == wire::type::kSoa && in_.serial != 0) patch_serial(pr.rdata, in_.serial);
      if (rec.type == wire::type::kNs) {
        pr.target = std::string(pr.rdata.begin(), pr.rdata.end());
        if (rec.owner != zone.apex) snap_->cuts.push_back(rec.owner);
      }
      set.records.push_back(std::move(pr));
    }
    auto block = flatten(nodes, kNoRegion);
    std::uint32_t apex = block->find(zone.apex);
    if (apex != kNone) {
      const RRset* soa = block->rrset(block->nodes[apex], wire::type::kSoa);
      if (soa != nullptr) snap_->soa_rrset = static_cast<std::uint32_t>(soa - block->rrsets.data());
    }
    std::sort(snap_->cuts.begin(), snap_->cuts.end());
    snap_->cuts.erase(std::unique(snap_->cuts.begin(), snap_->cuts.end()), snap_->cuts.end());
    snap_->zone = std::move(block);
  }

  std::shared_ptr<const Block> build_service(const Group& g) {
    const std::string& service = g.name;
    std::uint32_t collisions = 0;
    std::uint32_t shadowed = 0;
    PendingNodes nodes;
    PendingNode& service_node = nodes[service];
    service_node.kind = NodeKind::kService;

    // Instance labels, unique inside the service.
    std::map<std::string, int> label_uses;
    for (const auto& inst : g.instances)
      label_uses[hostname_label(inst.hostname)]++;

    // Service A/AAAA: one record per distinct address of the UP instances, renewed as the
    // newest instance that carries it.
    std::map<std::pair<std::uint16_t, Bytes>, common::Nanos> addresses;
    std::map<std::string, std::vector<PendingRecord>> srv_by_scheme;

    for (const auto& inst : g.instances) {
      std::string label = hostname_label(inst.hostname);
      if (label_uses[label] > 1) {
        label = disambiguated_label(label, inst.hostname);
        ++collisions;
      }
      std::string host_name = wire::wire_label(label) + service;
      bool up = inst.status == registry::Status::kUp;
      PendingNode* host_node = nullptr;
      if (host_name.size() <= wire::kMaxNameLength && !snap_->services.contains(host_name) &&
          snap_->zone->find(host_name) == kNone && !nodes.contains(host_name)) {
        host_node = &nodes[host_name];
        host_node->kind = NodeKind::kInstance;
        add_txt(*host_node, inst);
      } else {
        ++shadowed;
      }
      std::set<Bytes> host_addresses;
      for (const auto& ep : inst.endpoints) {
        auto ip = parse_ip(ep.host);
        std::string target;
        if (ip) {
          if (host_node && host_addresses.insert(ip->bytes).second) {
            PendingRRset& set = host_node->rrset(ip->type);
            set.synthesized = true;
            set.records.push_back({ip->bytes, inst.renew_ns, {}});
          }
          if (up) {
            auto& renew = addresses[{ip->type, ip->bytes}];
            renew = std::max(renew, inst.renew_ns);
          }
          if (host_node) target = host_name;
        } else if (auto name = wire::text_to_wire(ep.host)) {
          target = *name;  // a registered DNS name is a fine SRV target as it is
        }
        auto scheme = key_label(ep.scheme);
        if (!up || target.empty() || !scheme || ep.port == 0) continue;
        srv_by_scheme[*scheme].push_back(
            {srv_rdata(inst.weight, ep.port, target), inst.renew_ns, ip ? target : std::string()});
      }
    }
    for (auto& [key, renew] : addresses) {
      PendingRRset& set = nodes[service].rrset(key.first);
      set.synthesized = true;
      set.records.push_back({key.second, renew, {}});
    }
    for (auto& [scheme, records] : srv_by_scheme) {
      std::string tcp = wire::wire_label("_tcp") + service;
      std::string name = wire::wire_label("_" + scheme) + tcp;
      if (name.size() > wire::kMaxNameLength || nodes.contains(name)) continue;
      nodes.try_emplace(tcp);  // empty non-terminal inside the block
      PendingNode& node = nodes[name];
      node.kind = NodeKind::kSrv;
      PendingRRset& set = node.rrset(wire::type::kSrv);
      set.synthesized = true;
      set.records = std::move(records);
    }
    auto block = flatten(nodes, g.region);
    block->app = *g.app;
    block->zone_key = g.instances.front().zone;
    block->instances = static_cast<std::uint32_t>(g.instances.size());
    block->hostname_collisions = collisions;
    block->shadowed_names = shadowed;
    return block;
  }

  void add_txt(PendingNode& node, const registry::AppInstance& inst) {
    std::vector<std::string> strings;
    strings.push_back("hostname=" + inst.hostname);
    strings.push_back(std::string("status=") +
                      (inst.status == registry::Status::kUp ? "up" : "waiting"));
    strings.push_back("version=" + inst.version);
    strings.push_back("zone=" + inst.zone);
    if (!inst.region.empty()) strings.push_back("region=" + inst.region);
    for (const auto& ep : inst.endpoints) {
      strings.push_back("addr=" + ep.scheme + "://" +
                        (ep.host.find(':') != std::string::npos ? "[" + ep.host + "]" : ep.host) +
                        ":" + std::to_string(ep.port));
    }
    for (const auto& [k, v] : inst.metadata)
      strings.push_back(k + "=" + v);
    PendingRRset& set = node.rrset(wire::type::kTxt);
    set.synthesized = true;
    set.records.push_back({txt_rdata(strings), inst.renew_ns, {}});
  }

  // RFC 8020: every ancestor of a served name down to the apex exists; each counts the names
  // below it so that removing one service removes exactly the ancestors only it needed.
  void add_ancestors(std::string_view name) {
    const std::size_t apex = in_.zone->apex.size();
    for (name = wire::parent_of(name); name.size() > apex; name = wire::parent_of(name))
      ++snap_->empty_names.writable(name);
  }
  void remove_ancestors(std::string_view name) {
    const std::size_t apex = in_.zone->apex.size();
    for (name = wire::parent_of(name); name.size() > apex; name = wire::parent_of(name)) {
      if (!snap_->empty_names.contains(name)) continue;
      if (--snap_->empty_names.writable(name) == 0) snap_->empty_names.erase(name);
    }
  }

  const BuildInput& in_;
  BuildStats& stats_;
  std::shared_ptr<Snapshot> snap_;
  std::vector<std::string> suffixes_;  // per region: region.apex in wire form, "" if not served
  std::vector<Group> pending_;         // services to compile
  std::set<std::string> dirty_parents_;
  bool incremental_ = false;
};

}  // namespace

std::shared_ptr<const Snapshot> build_snapshot(const BuildInput& input, BuildStats* stats) {
  BuildStats local;
  Builder builder(input, stats ? *stats : local);
  return builder.run();
}

std::uint32_t next_serial(std::uint32_t previous, std::uint32_t zone_file_serial,
                          common::Nanos now_ns) {
  auto now_s = static_cast<std::uint32_t>(now_ns / common::kNanosPerSecond);
  std::uint32_t candidate = previous + 1;
  // RFC 1982 comparison: take the larger in sequence-space terms.
  auto greater = [](std::uint32_t a, std::uint32_t b) {
    return a != b && static_cast<std::int32_t>(a - b) > 0;
  };
  if (greater(now_s, candidate)) candidate = now_s;
  if (greater(zone_file_serial, candidate)) candidate = zone_file_serial;
  return candidate;
}

}  // namespace discodns::catalog
