// How a snapshot is built: the zone file becomes one block; registry instances, grouped by
// (appid, env, zone) under their region, become one block per service, reused from the
// previous snapshot when the group's instances are unchanged; then the empty non-terminals
// above the services and the delegation points are listed.
#include "catalog/builder.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "catalog/labels.hpp"
#include "common/siphash.hpp"
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
std::optional<std::string> service_name(const registry::Instance& inst,
                                        const std::string& region_suffix) {
  auto app = appid_labels(inst.appid);
  auto env = key_label(inst.env);
  auto zone = key_label(inst.zone);
  if (!app || !env || !zone) return std::nullopt;
  std::string name = *app + wire::wire_label(*env) + wire::wire_label(*zone) + region_suffix;
  if (name.size() > wire::kMaxNameLength) return std::nullopt;
  return name;
}

// 128 bits of SipHash over every field a block is built from. Runs for every service on every
// build (that is how an unchanged one is found), so it reuses one buffer and hashes once.
std::array<std::uint64_t, 2> digest_of(std::span<const registry::Instance> group) {
  thread_local std::string buf;
  buf.clear();
  auto add = [&](std::string_view s) {
    std::uint32_t n = static_cast<std::uint32_t>(s.size());
    buf.append(reinterpret_cast<const char*>(&n), sizeof n);
    buf.append(s);
  };
  auto add_int = [&](std::int64_t v) { buf.append(reinterpret_cast<const char*>(&v), sizeof v); };
  for (const auto& inst : group) {
    add(inst.appid);
    add(inst.env);
    add(inst.zone);
    add(inst.region);
    add(inst.hostname);
    add(inst.version);
    add_int(static_cast<std::int64_t>(inst.status));
    add_int(inst.weight);
    add_int(inst.renew_ns);
    add_int(static_cast<std::int64_t>(inst.endpoints.size()));
    for (const auto& ep : inst.endpoints) {
      add(ep.scheme);
      add(ep.host);
      add_int(ep.port);
    }
    add_int(static_cast<std::int64_t>(inst.metadata.size()));
    for (const auto& [k, v] : inst.metadata) {
      add(k);
      add(v);
    }
  }
  static const std::array<std::uint8_t, 16> kKey = {1, 2,  3,  4,  5,  6,  7,  8,
                                                    9, 10, 11, 12, 13, 14, 15, 16};
  return common::siphash24_128(kKey,
                               {reinterpret_cast<const std::uint8_t*>(buf.data()), buf.size()});
}

// Pending nodes -> a Block with names in a stable order (equal inputs, equal bytes).
std::shared_ptr<Block> flatten(PendingNodes& pending, std::uint16_t region) {
  auto block = std::make_shared<Block>();
  block->region = region;
  std::vector<std::pair<const std::string, PendingNode>*> ordered;
  ordered.reserve(pending.size());
  for (auto& entry : pending)
    ordered.push_back(&entry);
  std::sort(ordered.begin(), ordered.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  block->nodes.reserve(ordered.size());
  block->names.reserve(ordered.size());
  block->index.reserve(ordered.size());
  std::vector<const std::string*> targets;  // parallel to block->records
  for (auto* entry : ordered) {
    auto index = static_cast<std::uint32_t>(block->nodes.size());
    block->index.emplace(entry->first, index);
    block->names.push_back(entry->first);
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
      for (auto& pr : set.records) {
        Record rec;
        rec.rdata_offset = static_cast<std::uint32_t>(block->rdata.size());
        rec.rdata_length = static_cast<std::uint16_t>(pr.rdata.size());
        rec.renew_ns = pr.renew_ns;
        block->rdata.insert(block->rdata.end(), pr.rdata.begin(), pr.rdata.end());
        block->records.push_back(rec);
        targets.push_back(&pr.target);
      }
      block->rrsets.push_back(out);
    }
    node.rrset_count = static_cast<std::uint16_t>(block->rrsets.size() - node.first_rrset);
    block->nodes.push_back(node);
  }
  // Additional-section targets inside the block (SRV targets, in-zone NS names).
  for (std::size_t i = 0; i < block->records.size(); ++i) {
    if (!targets[i]->empty()) block->records[i].target_node = block->find(*targets[i]);
  }
  return block;
}

class Builder {
 public:
  Builder(const BuildInput& input, BuildStats& stats) : in_(input), stats_(stats) {}

  std::shared_ptr<const Snapshot> run() {
    snap_ = std::make_shared<Snapshot>();
    const StaticZone& zone = *in_.zone;
    snap_->apex = zone.apex;
    snap_->serial = in_.serial;
    snap_->built_ns = in_.built_ns;
    snap_->ttl = in_.ttl;
    snap_->negative_ttl = std::min(zone.soa_ttl, zone.soa_minimum);
    add_zone_block();
    collect_groups();
    add_service_blocks();
    add_empty_non_terminals();
    stats_.names += snap_->zone->nodes.size() + snap_->empty_names.size();
    return snap_;
  }

 private:
  struct Group {
    std::string name;
    std::uint16_t region;
    std::span<const registry::Instance> instances;
    std::array<std::uint64_t, 2> digest;
  };

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

  // Instances are sorted by (appid, env, zone, hostname): one (appid, env, zone) group at a
  // time becomes one service.
  void collect_groups() {
    for (std::size_t r = 0; r < in_.regions.size(); ++r) {
      const RegionData& region = in_.regions[r];
      RegionState state;
      state.label = region.region;
      state.last_good_ns = region.last_good_ns;
      state.stale = region.stale;
      auto label = key_label(region.region);
      if (region.data && label) {
        std::string suffix = wire::wire_label(*label) + in_.zone->apex;
        const auto& all = region.data->instances;
        for (std::size_t begin = 0; begin < all.size();) {
          std::size_t end = begin + 1;
          while (end < all.size() && all[end].appid == all[begin].appid &&
                 all[end].env == all[begin].env && all[end].zone == all[begin].zone) {
            ++end;
          }
          std::span group(all.data() + begin, end - begin);
          auto name = service_name(group.front(), suffix);
          if (!name) {
            stats_.invalid_names += group.size();
          } else if (snap_->zone->find(*name) != kNone || service_names_.contains(*name)) {
            // Static names win; appids equal but for case share one name: the first wins.
            stats_.shadowed_names += group.size();
          } else {
            service_names_.insert(*name);
            groups_.push_back(
                {std::move(*name), static_cast<std::uint16_t>(r), group, digest_of(group)});
          }
          begin = end;
        }
        // File sources are served as of their newest renew time (README "TTLs").
        if (region.frozen_time) {
          for (const auto& inst : all)
            state.frozen_now_ns = std::max(state.frozen_now_ns, inst.renew_ns);
        }
      }
      snap_->regions.push_back(std::move(state));
    }
    // Host names avoid service names, so a block depends on the set of service names too:
    // a new generation whenever that set changes forces its blocks to be rebuilt.
    const Snapshot* prev = in_.previous.get();
    bool same_names = prev != nullptr && prev->services.size() == service_names_.size() &&
                      std::all_of(groups_.begin(), groups_.end(),
                                  [&](const Group& g) { return prev->services.contains(g.name); });
    snap_->service_names_generation =
        prev == nullptr ? 1 : prev->service_names_generation + (same_names ? 0 : 1);
  }

  void add_service_blocks() {
    snap_->services.reserve(groups_.size());
    const Snapshot* prev = in_.previous.get();
    for (const Group& g : groups_) {
      std::shared_ptr<const Block> block;
      if (prev != nullptr) {
        auto it = prev->services.find(g.name);
        if (it != prev->services.end() && it->second->region == g.region &&
            it->second->names_generation == snap_->service_names_generation &&
            it->second->source_digest == g.digest) {
          block = it->second;
          ++stats_.blocks_reused;
        }
      }
      if (!block) {
        block = build_service(g);
        ++stats_.blocks_built;
      }
      stats_.instances += g.instances.size();
      stats_.names += block->nodes.size();
      snap_->instances += g.instances.size();
      snap_->services.emplace(g.name, std::move(block));
      ++stats_.services;
    }
  }

  std::shared_ptr<const Block> build_service(const Group& g) {
    const std::string& service = g.name;
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
        ++stats_.hostname_collisions;
      }
      std::string host_name = wire::wire_label(label) + service;
      bool up = inst.status == registry::Status::kUp;
      PendingNode* host_node = nullptr;
      if (host_name.size() <= wire::kMaxNameLength && !service_names_.contains(host_name) &&
          snap_->zone->find(host_name) == kNone && !nodes.contains(host_name)) {
        host_node = &nodes[host_name];
        host_node->kind = NodeKind::kInstance;
        add_txt(*host_node, inst);
      } else {
        ++stats_.shadowed_names;
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
    block->source_digest = g.digest;
    block->names_generation = snap_->service_names_generation;
    return block;
  }

  void add_txt(PendingNode& node, const registry::Instance& inst) {
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

  // RFC 8020: every ancestor of a served name down to the apex exists.
  void add_empty_non_terminals() {
    const std::string& apex = in_.zone->apex;
    auto add_ancestors = [&](std::string_view name) {
      while (name.size() > apex.size()) {
        name = wire::parent_of(name);
        if (name.size() <= apex.size()) break;
        if (!snap_->empty_names.emplace(name).second) break;  // the rest is already there
      }
    };
    for (const auto& [name, block] : snap_->services)
      add_ancestors(name);
    for (const auto& name : snap_->zone->names)
      add_ancestors(name);
  }

  const BuildInput& in_;
  BuildStats& stats_;
  std::shared_ptr<Snapshot> snap_;
  std::vector<Group> groups_;
  NameSet service_names_;
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
