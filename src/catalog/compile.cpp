// Compiling names into Blocks: records are first collected per name (Pending*), then laid out
// in a block's flat arrays in a stable order (equal inputs, equal bytes). A service block also
// records which of its instances each record's freshness comes from (ServiceOrigin).
#include "catalog/compile.hpp"

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

// The instances (indices into the service's instances) a record's freshness comes from.
struct Sources {
  std::uint32_t first = kNone;
  std::vector<std::uint32_t> more;  // a service address more than one instance carries

  void add(std::uint32_t instance) {
    if (first == kNone) {
      first = instance;
    } else if (first != instance && (more.empty() || more.back() != instance)) {
      more.push_back(instance);  // instances come in order: a repeat is the last one added
    }
  }
};

struct PendingRecord {
  Bytes rdata;
  Sources sources;     // synthesized records only
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
  void add_synthesized(std::uint16_t type, PendingRecord record) {
    PendingRRset& set = rrset(type);
    set.synthesized = true;
    set.records.push_back(std::move(record));
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

Bytes txt_of(const registry::AppInstance& inst) {
  std::vector<std::string> strings;
  strings.push_back("hostname=" + inst.hostname);
  strings.push_back(std::string("status=") +
                    (inst.status == registry::Status::kUp ? "up" : "waiting"));
  strings.push_back("version=" + inst.version);
  strings.push_back("zone=" + inst.zone);
  if (!inst.region.empty()) strings.push_back("region=" + inst.region);
  for (const auto& ep : inst.endpoints) {
    strings.push_back("addr=" + registry::endpoint_url(ep));
  }
  for (const auto& [k, v] : inst.metadata)
    strings.push_back(k + "=" + v);
  return txt_rdata(strings);
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

using Ordered = std::vector<std::pair<const std::string, PendingNode>*>;

// Names in order, back to back, and the open-addressing index over them.
void lay_out_names(Block& block, const Ordered& ordered, std::size_t name_bytes) {
  block.name_offsets.reserve(ordered.size() + 1);
  block.name_bytes.reserve(name_bytes);
  std::size_t slots = 2;
  while (slots < 2 * ordered.size())
    slots *= 2;
  block.slots.assign(slots, 0);
  for (std::uint32_t index = 0; index < ordered.size(); ++index) {
    const std::string& name = ordered[index]->first;
    block.name_offsets.push_back(static_cast<std::uint32_t>(block.name_bytes.size()));
    block.name_bytes += name;
    for (std::size_t i = NameHash{}(name) & (slots - 1);; i = (i + 1) & (slots - 1)) {
      if (block.slots[i] == 0) {
        block.slots[i] = index + 1;
        break;
      }
    }
  }
  block.name_offsets.push_back(static_cast<std::uint32_t>(block.name_bytes.size()));
}

// `origin`: null for the zone file's records, which have no freshness.
void add_record(Block& block, const RRset& set, const PendingRecord& pr, ServiceOrigin* origin) {
  Record rec;
  // Additional-section targets inside the block (SRV targets, in-zone NS names).
  std::uint32_t target = pr.target.empty() ? kNone : block.find(pr.target);
  if (target < kNoTarget) rec.target_node = static_cast<std::uint16_t>(target);
  std::size_t stored = pr.rdata.size();
  if (set.target_by_reference && rec.target_node != kNoTarget) stored -= pr.target.size();
  rec.rdata_offset = static_cast<std::uint32_t>(block.rdata.size());
  rec.rdata_length = static_cast<std::uint16_t>(stored);
  block.rdata.insert(block.rdata.end(), pr.rdata.begin(),
                     pr.rdata.begin() + static_cast<std::ptrdiff_t>(stored));
  block.records.push_back(rec);
  if (origin == nullptr) return;
  const Sources& s = pr.sources;
  if (s.more.empty()) {
    origin->fresh_sources.push_back(s.first);
    return;
  }
  origin->fresh_sources.push_back(kSharedSources |
                                  static_cast<std::uint32_t>(origin->shared_sources.size()));
  origin->shared_sources.push_back(static_cast<std::uint32_t>(1 + s.more.size()));
  origin->shared_sources.push_back(s.first);
  origin->shared_sources.insert(origin->shared_sources.end(), s.more.begin(), s.more.end());
}

// Pending nodes -> a Block with names in a stable order, every array sized exactly; a service
// block's record sources go to `origin`.
std::shared_ptr<Block> flatten(PendingNodes& pending, std::uint16_t region, ServiceOrigin* origin) {
  auto block = std::make_shared<Block>();
  block->region = region;
  Ordered ordered;
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
  block->rrsets.reserve(rrsets);
  block->records.reserve(records);
  block->rdata.reserve(rdata);
  if (origin != nullptr) origin->fresh_sources.reserve(records);
  lay_out_names(*block, ordered, name_bytes);
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
      for (const auto& pr : set.records)
        add_record(*block, out, pr, origin);
      block->rrsets.push_back(out);
    }
    node.rrset_count = static_cast<std::uint16_t>(block->rrsets.size() - node.first_rrset);
    block->nodes.push_back(node);
  }
  return block;
}

// What build_service collects while it walks the instances.
struct ServiceRecords {
  PendingNodes nodes;
  // Service A/AAAA: one record per distinct address of the UP instances.
  std::map<std::pair<std::uint16_t, Bytes>, Sources> addresses;
  std::map<std::string, std::vector<PendingRecord>> srv_by_scheme;
  // (scheme, rdata) -> position in srv_by_scheme: one SRV per (port, target) (RFC 2181 §5), so
  // an instance listing one port on its IPv4 and its IPv6 address counts once, not twice.
  std::map<std::pair<std::string, Bytes>, std::size_t> srv_index;
  std::uint32_t shadowed = 0;

  void add_srv(const std::string& scheme, PendingRecord record, std::uint32_t instance) {
    auto& records = srv_by_scheme[scheme];
    auto [it, added] = srv_index.try_emplace({scheme, record.rdata}, records.size());
    if (added) {
      records.push_back(std::move(record));
    } else {
      records[it->second].sources.add(instance);  // the same record: fresh while either is
    }
  }
};

// One instance's host name (A, AAAA, TXT), its share of the service addresses and its SRVs.
void add_instance(ServiceRecords& out, const registry::AppInstance& inst, std::uint32_t index,
                  const std::string& host_name, const Snapshot& snap) {
  bool up = inst.status == registry::Status::kUp;
  PendingNode* host_node = nullptr;
  if (host_name.size() <= wire::kMaxNameLength && !snap.services.contains(host_name) &&
      snap.zone->find(host_name) == kNone && !out.nodes.contains(host_name)) {
    host_node = &out.nodes[host_name];
    host_node->kind = NodeKind::kInstance;
    host_node->add_synthesized(wire::type::kTxt, {txt_of(inst), {index, {}}, {}});
  } else {
    ++out.shadowed;
  }
  std::set<Bytes> host_addresses;
  for (const auto& ep : inst.endpoints) {
    auto ip = parse_ip(ep.host);
    std::string target;
    if (ip) {
      if (host_node && host_addresses.insert(ip->bytes).second)
        host_node->add_synthesized(ip->type, {ip->bytes, {index, {}}, {}});
      if (up) out.addresses[{ip->type, ip->bytes}].add(index);
      if (host_node) target = host_name;
    } else if (auto name = wire::text_to_wire(ep.host)) {
      target = *name;  // a registered DNS name is a fine SRV target as it is
    }
    auto scheme = key_label(ep.scheme);
    if (!up || target.empty() || !scheme || ep.port == 0) continue;
    out.add_srv(*scheme,
                {srv_rdata(inst.weight, ep.port, target), {index, {}}, ip ? target : std::string()},
                index);
  }
}

}  // namespace

std::shared_ptr<Block> compile_zone(const StaticZone& zone, std::uint32_t serial) {
  PendingNodes nodes;
  for (const auto& rec : zone.records) {
    PendingNode& node = nodes[rec.owner];
    node.kind = rec.owner == zone.apex ? NodeKind::kApex : NodeKind::kStatic;
    PendingRRset& set = node.rrset(rec.type);
    // RFC 2181 §5.2: one TTL per RRset; the smallest one written wins.
    set.static_ttl = set.records.empty() ? rec.ttl : std::min(set.static_ttl, rec.ttl);
    PendingRecord pr;
    pr.rdata = Bytes(rec.rdata.begin(), rec.rdata.end());
    if (rec.type == wire::type::kSoa && serial != 0) patch_serial(pr.rdata, serial);
    if (rec.type == wire::type::kNs) pr.target = std::string(pr.rdata.begin(), pr.rdata.end());
    set.records.push_back(std::move(pr));
  }
  return flatten(nodes, kNoRegion, nullptr);
}

std::shared_ptr<ServiceOrigin> compile_service(const std::string& service, std::uint16_t region,
                                               const registry::AppKey& app,
                                               std::span<const registry::AppInstance> instances,
                                               const Snapshot& snap, FreshnessTable& fresh) {
  ServiceRecords out;
  out.nodes[service].kind = NodeKind::kService;
  // Instance labels, unique inside the service.
  std::map<std::string, int> label_uses;
  for (const auto& inst : instances)
    label_uses[hostname_label(inst.hostname)]++;
  std::uint32_t collisions = 0;
  for (std::uint32_t i = 0; i < instances.size(); ++i) {
    const auto& inst = instances[i];
    std::string label = hostname_label(inst.hostname);
    if (label_uses[label] > 1) {
      label = disambiguated_label(label, inst.hostname);
      ++collisions;
    }
    add_instance(out, inst, i, wire::wire_label(label) + service, snap);
  }
  for (auto& [key, sources] : out.addresses)
    out.nodes[service].add_synthesized(key.first, {key.second, std::move(sources), {}});
  for (auto& [scheme, records] : out.srv_by_scheme) {
    std::string tcp = wire::wire_label("_tcp") + service;
    std::string name = wire::wire_label("_" + scheme) + tcp;
    if (name.size() > wire::kMaxNameLength || out.nodes.contains(name)) continue;
    out.nodes.try_emplace(tcp);  // empty non-terminal inside the block
    PendingNode& node = out.nodes[name];
    node.kind = NodeKind::kSrv;
    PendingRRset& set = node.rrset(wire::type::kSrv);
    set.synthesized = true;
    set.records = std::move(records);
  }
  auto origin = std::make_shared<ServiceOrigin>();
  std::shared_ptr<Block> block = flatten(out.nodes, region, origin.get());
  block->fresh_base = fresh.allocate(static_cast<std::uint32_t>(block->records.size()));
  origin->block = std::move(block);
  origin->region = region;
  origin->app = app;
  origin->discovery_zone = instances.front().zone;
  origin->instances = static_cast<std::uint32_t>(instances.size());
  origin->hostname_collisions = collisions;
  origin->shadowed_names = out.shadowed;
  return origin;
}

void fill_freshness(const ServiceOrigin& origin, std::span<const registry::AppInstance> instances,
                    const FreshnessRule& rule, FreshnessTable& table) {
  thread_local std::vector<common::Nanos> until, values;  // update thread: reused buffers
  until.resize(instances.size());
  for (std::size_t i = 0; i < instances.size(); ++i)
    until[i] = rule.good_until_of(instances[i]);
  values.resize(origin.fresh_sources.size());
  for (std::size_t r = 0; r < values.size(); ++r) {
    std::uint32_t source = origin.fresh_sources[r];
    if ((source & kSharedSources) == 0) {
      values[r] = until[source];
      continue;
    }
    const std::uint32_t* list = &origin.shared_sources[source & ~kSharedSources];
    common::Nanos value = kLate;
    for (std::uint32_t k = 1; k <= list[0]; ++k)
      value = std::max(value, until[list[k]]);
    values[r] = value;
  }
  table.assign(origin.block->fresh_base, values);
}

}  // namespace discodns::catalog
