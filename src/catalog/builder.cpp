#include "catalog/builder.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

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
  std::uint16_t region = std::numeric_limits<std::uint16_t>::max();
  std::vector<std::pair<std::uint16_t, PendingRRset>> rrsets;  // few per node: a vector

  PendingRRset& rrset(std::uint16_t type) {
    for (auto& [t, set] : rrsets) {
      if (t == type) return set;
    }
    return rrsets.emplace_back(type, PendingRRset{}).second;
  }
};

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
      return 6;
  }
}

struct Address {
  std::uint16_t type;
  Bytes bytes;
};

std::optional<Address> parse_ip(const std::string& host) {
  std::uint8_t buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1)
    return Address{wire::type::kA, Bytes(buf, buf + 4)};
  if (inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    return Address{wire::type::kAaaa, Bytes(buf, buf + 16)};
  }
  return std::nullopt;
}

Bytes txt_rdata(const std::vector<std::string>& strings) {
  Bytes out;
  for (const auto& s : strings) {
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

class Builder {
 public:
  Builder(const BuildInput& input, BuildStats& stats) : in_(input), stats_(stats) {}

  std::shared_ptr<const Snapshot> run() {
    add_static();
    // Service names first, so an instance name never takes a name a service needs
    // (the service name wins, design.md §2), whatever the order of the data.
    for (std::size_t r = 0; r < in_.regions.size(); ++r)
      add_region(r, /*names_only=*/true);
    for (std::size_t r = 0; r < in_.regions.size(); ++r)
      add_region(r, /*names_only=*/false);
    add_empty_non_terminals();
    return flatten();
  }

 private:
  void add_static() {
    const StaticZone& zone = *in_.zone;
    for (const auto& rec : zone.records) {
      PendingNode& node = nodes_[rec.owner];
      node.kind = rec.owner == zone.apex ? NodeKind::kApex : NodeKind::kStatic;
      PendingRRset& set = node.rrset(rec.type);
      // RFC 2181 §5.2: one TTL per RRset; the smallest one written wins.
      set.static_ttl = set.records.empty() ? rec.ttl : std::min(set.static_ttl, rec.ttl);
      PendingRecord pr;
      pr.rdata = Bytes(rec.rdata.begin(), rec.rdata.end());
      if (rec.type == wire::type::kSoa && in_.serial != 0) patch_serial(pr.rdata, in_.serial);
      if (rec.type == wire::type::kNs) pr.target = std::string(pr.rdata.begin(), pr.rdata.end());
      set.records.push_back(std::move(pr));
    }
  }

  void add_region(std::size_t region_index, bool names_only) {
    const RegionData& region = in_.regions[region_index];
    if (!region.data) return;
    auto region_label = key_label(region.region);
    if (!region_label) return;
    std::string region_suffix = wire::wire_label(*region_label) + in_.zone->apex;
    const auto& all = region.data->instances;
    // Instances are sorted by (appid, env, zone, hostname): walk one (appid, env, zone) group
    // at a time.
    for (std::size_t begin = 0; begin < all.size();) {
      std::size_t end = begin + 1;
      while (end < all.size() && all[end].appid == all[begin].appid &&
             all[end].env == all[begin].env && all[end].zone == all[begin].zone) {
        ++end;
      }
      std::span group(all.data() + begin, end - begin);
      if (names_only) {
        if (auto name = service_name(group.front(), region_suffix)) service_names_.insert(*name);
      } else {
        add_service(static_cast<std::uint16_t>(region_index), region_suffix, group);
      }
      begin = end;
    }
  }

  void add_service(std::uint16_t region, const std::string& region_suffix,
                   std::span<const registry::Instance> group) {
    auto name = service_name(group.front(), region_suffix);
    if (!name) {
      stats_.invalid_names += group.size();
      return;
    }
    const std::string& service = *name;
    if (nodes_.contains(service)) {
      // Static names win; two appids equal but for case share one name: the first wins.
      stats_.shadowed_names += group.size();
      return;
    }
    PendingNode& service_node = nodes_[service];
    service_node.kind = NodeKind::kService;
    service_node.region = region;
    ++stats_.services;

    // Instance labels, unique inside the service.
    std::map<std::string, int> label_uses;
    for (const auto& inst : group)
      label_uses[hostname_label(inst.hostname)]++;

    // Service A/AAAA: one record per distinct address of the usable (UP) instances; its
    // renew time is the newest of the instances that carry it.
    std::map<std::pair<std::uint16_t, Bytes>, common::Nanos> addresses;
    std::map<std::string, std::vector<PendingRecord>> srv_by_scheme;

    for (const auto& inst : group) {
      std::string label = hostname_label(inst.hostname);
      if (label_uses[label] > 1) {
        label = disambiguated_label(label, inst.hostname);
        ++stats_.hostname_collisions;
      }
      std::string host_name = wire::wire_label(label) + service;
      bool up = inst.status == registry::Status::kUp;
      bool host_served = host_name.size() <= wire::kMaxNameLength &&
                         !service_names_.contains(host_name) && !nodes_.contains(host_name);
      PendingNode* host_node = nullptr;
      if (host_served) {
        host_node = &nodes_[host_name];
        host_node->kind = NodeKind::kInstance;
        host_node->region = region;
        ++stats_.instances;
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
      PendingRRset& set = service_node.rrset(key.first);
      set.synthesized = true;
      set.records.push_back({key.second, renew, {}});
    }
    for (auto& [scheme, records] : srv_by_scheme) {
      std::string name = wire::wire_label("_" + scheme) + wire::wire_label("_tcp") + service;
      if (name.size() > wire::kMaxNameLength || nodes_.contains(name)) continue;
      PendingNode& node = nodes_[name];
      node.kind = NodeKind::kSrv;
      node.region = region;
      PendingRRset& set = node.rrset(wire::type::kSrv);
      set.synthesized = true;
      set.records = std::move(records);
    }
  }

  // SOA RDATA is MNAME RNAME SERIAL ...: the served serial follows the data (design.md §3).
  static void patch_serial(Bytes& rdata, std::uint32_t serial) {
    std::size_t pos = 0;
    for (int name = 0; name < 2; ++name) {
      while (pos < rdata.size() && rdata[pos] != 0)
        pos += rdata[pos] + 1;
      ++pos;
    }
    if (pos + 4 <= rdata.size()) wire::put_u32(&rdata[pos], serial);
  }

  // appid.env.zone.region.domain in lower-cased wire form, or nullopt if not a valid name.
  static std::optional<std::string> service_name(const registry::Instance& inst,
                                                 const std::string& region_suffix) {
    auto app = appid_labels(inst.appid);
    auto env = key_label(inst.env);
    auto zone = key_label(inst.zone);
    if (!app || !env || !zone) return std::nullopt;
    std::string name = *app + wire::wire_label(*env) + wire::wire_label(*zone) + region_suffix;
    if (name.size() > wire::kMaxNameLength) return std::nullopt;
    return name;
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
    std::vector<std::string> missing;
    const std::string& apex = in_.zone->apex;
    for (const auto& [name, node] : nodes_) {
      std::string_view n = name;
      while (n.size() > apex.size()) {
        n = wire::parent_of(n);
        if (!nodes_.contains(std::string(n))) missing.emplace_back(n);
      }
    }
    for (auto& name : missing)
      nodes_.try_emplace(std::move(name));
  }

  std::shared_ptr<const Snapshot> flatten() {
    // A stable node order (by name) so that equal inputs give byte-identical snapshots.
    std::vector<std::pair<const std::string, PendingNode>*> ordered;
    ordered.reserve(nodes_.size());
    for (auto& entry : nodes_)
      ordered.push_back(&entry);
    std::sort(ordered.begin(), ordered.end(),
              [](const auto* a, const auto* b) { return a->first < b->first; });
    auto snap = std::make_shared<Snapshot>();
    const StaticZone& zone = *in_.zone;
    snap->apex = zone.apex;
    snap->serial = in_.serial;
    snap->ttl = in_.ttl;
    snap->negative_ttl = std::min(zone.soa_ttl, zone.soa_minimum);
    for (const auto& region : in_.regions) {
      RegionState state;
      state.label = region.region;
      state.last_good_ns = region.last_good_ns;
      if (region.last_good_ns == 0 && region.data) {
        for (const auto& inst : region.data->instances) {
          state.frozen_now_ns = std::max(state.frozen_now_ns, inst.renew_ns);
        }
      }
      snap->regions.push_back(std::move(state));
    }

    snap->nodes.reserve(nodes_.size());
    snap->names.reserve(nodes_.size());
    snap->index.reserve(nodes_.size());
    for (auto* entry : ordered) {
      const std::string& name = entry->first;
      PendingNode& pending = entry->second;
      auto index = static_cast<std::uint32_t>(snap->nodes.size());
      snap->index.emplace(name, index);
      snap->names.push_back(name);
      Node node;
      node.kind = pending.kind;
      node.region = pending.region;
      node.first_rrset = static_cast<std::uint32_t>(snap->rrsets.size());
      std::vector<std::pair<std::uint16_t, PendingRRset*>> sets;
      for (auto& [type, set] : pending.rrsets)
        sets.emplace_back(type, &set);
      std::stable_sort(sets.begin(), sets.end(), [](const auto& a, const auto& b) {
        return type_rank(a.first) < type_rank(b.first);
      });
      for (auto& [type, set] : sets) {
        RRset out;
        out.type = type;
        out.synthesized = set->synthesized;
        out.static_ttl = set->static_ttl;
        out.first_record = static_cast<std::uint32_t>(snap->records.size());
        out.record_count = static_cast<std::uint32_t>(set->records.size());
        out.target_rdata_offset = type == wire::type::kSrv ? 6 : 0;
        for (auto& pr : set->records) {
          Record rec;
          rec.rdata_offset = static_cast<std::uint32_t>(snap->rdata.size());
          rec.rdata_length = static_cast<std::uint16_t>(pr.rdata.size());
          rec.renew_ns = pr.renew_ns;
          snap->rdata.insert(snap->rdata.end(), pr.rdata.begin(), pr.rdata.end());
          snap->records.push_back(rec);
          targets_.push_back(std::move(pr.target));
        }
        if (type == wire::type::kSoa && pending.kind == NodeKind::kApex) {
          snap->soa_rrset = static_cast<std::uint32_t>(snap->rrsets.size());
        }
        snap->rrsets.push_back(out);
      }
      node.rrset_count = static_cast<std::uint16_t>(snap->rrsets.size() - node.first_rrset);
      snap->nodes.push_back(node);
    }
    snap->apex_node = snap->find(zone.apex);

    // Additional-section targets (SRV targets, in-zone NS names), by node index.
    for (std::size_t i = 0; i < snap->records.size(); ++i) {
      if (!targets_[i].empty()) snap->records[i].target_node = snap->find(targets_[i]);
    }
    // Zone cuts: a static NS RRset below the apex delegates everything at and under it.
    for (std::uint32_t i = 0; i < snap->nodes.size(); ++i) {
      Node& node = snap->nodes[i];
      if (node.kind == NodeKind::kStatic && snap->rrset(node, wire::type::kNs) != nullptr) {
        for (std::uint32_t j = 0; j < snap->nodes.size(); ++j) {
          if (wire::is_at_or_below(snap->names[j], snap->names[i])) {
            Node& below = snap->nodes[j];
            // The closest cut to the apex wins.
            if (below.delegation == kNone ||
                snap->names[below.delegation].size() > snap->names[i].size()) {
              below.delegation = i;
            }
          }
        }
      }
    }
    stats_.names = snap->nodes.size();
    return snap;
  }

  const BuildInput& in_;
  BuildStats& stats_;
  std::unordered_map<std::string, PendingNode> nodes_;
  std::unordered_set<std::string> service_names_;
  std::vector<std::string> targets_;  // parallel to snap->records during flatten
};

}  // namespace

std::shared_ptr<const Snapshot> build_snapshot(const BuildInput& input, BuildStats* stats) {
  BuildStats local;
  Builder builder(input, stats ? *stats : local);
  auto snap = builder.run();
  return snap;
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
