// Snapshot: an immutable, compiled view of everything discodns serves, built on the update
// path (catalog/builder) and read by the query path (query/engine) without locks.
//
// It is made of Blocks: one for the static zone file and one per service
// (appid.env.zone.region). A Block maps lower-cased wire names to Nodes; a Node owns a run of
// RRsets; an RRset a run of Records; a Record's RDATA lives in the block's byte arena, already
// in wire form (names uncompressed, so a record can be copied anywhere in a response). Blocks
// are shared between snapshots: a change to one app rebuilds one block and re-links the rest.
// TTLs are not stored: each synthesized record has a slot in the snapshot's FreshnessTable
// holding its good_until time, and the engine derives the TTL at query time (design.md §4).
// Blocks never change after they are built, slots do: a reconcile in which only renew times
// moved refreshes slots and compiles nothing.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "catalog/freshness.hpp"
#include "catalog/ttl_policy.hpp"
#include "common/clock.hpp"
#include "common/cow_shards.hpp"
#include "common/hash.hpp"

namespace discodns::catalog {

inline constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::uint16_t kNoRegion = std::numeric_limits<std::uint16_t>::max();
inline constexpr std::uint16_t kNoTarget = std::numeric_limits<std::uint16_t>::max();

// 8 bytes: there is one per A, AAAA, SRV and TXT record served. A target past node 65,534
// of its block (a service with more than ~30,000 instances) is simply not referenced: the
// record keeps its whole RDATA and goes without additional addresses. A synthesized record's
// freshness is slot Block::fresh_base + (its index in Block::records) of Snapshot::fresh.
struct Record {
  std::uint32_t rdata_offset = 0;  // into Block::rdata
  std::uint16_t rdata_length = 0;
  std::uint16_t target_node = kNoTarget;  // SRV/NS: node (same block) whose A/AAAA go in
                                          // the additional section
};
static_assert(sizeof(Record) == 8);

struct RRset {
  std::uint16_t type = 0;
  bool synthesized = false;  // TTL from freshness slots; otherwise static_ttl
  std::uint32_t static_ttl = 0;
  std::uint32_t first_record = 0;
  std::uint32_t record_count = 0;
  // Offset inside each record's RDATA where the target name starts (SRV: 6, NS: 0), so the
  // additional records' owner can point at it.
  std::uint16_t target_rdata_offset = 0;
  // Synthesized SRV: a record with a target_node stores only priority, weight and port; its
  // RDATA ends with that node's name (Block::target_name), which is not stored twice.
  bool target_by_reference = false;
};

enum class NodeKind : std::uint8_t {
  kEmpty,  // empty non-terminal: exists, no data
  kApex,
  kStatic,    // from the zone file
  kService,   // appid.env.zone.region
  kSrv,       // _scheme._tcp.<service>
  kInstance,  // host.<service>
};

struct Node {
  std::uint32_t first_rrset = 0;
  std::uint16_t rrset_count = 0;
  NodeKind kind = NodeKind::kEmpty;
};

// A name with its hash computed once, for lookups that pick a shard and then a bucket.
struct HashedName {
  std::string_view name;
  std::size_t hash;
};

struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return static_cast<std::size_t>(common::fnv1a64(s));  // short, already lower-cased names
  }
  std::size_t operator()(const HashedName& n) const noexcept { return n.hash; }
};

struct NameEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
  bool operator()(const HashedName& a, std::string_view b) const noexcept { return a.name == b; }
  bool operator()(std::string_view a, const HashedName& b) const noexcept { return a == b.name; }
};

using NameSet = std::unordered_set<std::string, NameHash, std::equal_to<>>;

// Name -> Value in shards that snapshots share until one writes (common::CowShards): the next
// snapshot copies only the shards its changed names fall in.
template <class Value>
class NameShards {
 public:
  using Map = std::unordered_map<std::string, Value, NameHash, NameEqual>;
  static constexpr std::size_t kShards = 256;

  const Value* find(std::string_view name) const { return find({name, NameHash{}(name)}); }
  const Value* find(const HashedName& name) const {
    const Map* map = shards_.shard(shard_of(name.hash));
    if (map == nullptr) return nullptr;
    auto it = map->find(name);
    return it == map->end() ? nullptr : &it->second;
  }
  bool contains(std::string_view name) const { return find(name) != nullptr; }
  bool contains(const HashedName& name) const { return find(name) != nullptr; }
  // The entry for `name`, created (value-initialised) if missing.
  Value& writable(std::string_view name) {
    std::size_t hash = NameHash{}(name);
    Map& map = shards_.writable(shard_of(hash));
    auto it = map.find(HashedName{name, hash});
    if (it == map.end()) {
      it = map.emplace(std::string(name), Value{}).first;
      ++size_;
    }
    return it->second;
  }
  void erase(std::string_view name) {
    std::size_t hash = NameHash{}(name);
    if (shards_.shard(shard_of(hash)) == nullptr) return;
    Map& map = shards_.writable(shard_of(hash));
    auto it = map.find(HashedName{name, hash});
    if (it == map.end()) return;
    map.erase(it);
    --size_;
  }
  std::size_t size() const { return size_; }
  template <class F>
  void for_each(F&& f) const {
    shards_.for_each_shard([&](const Map& map) {
      for (const auto& [name, value] : map)
        f(name, value);
    });
  }
  // Against another version of the map: f(name, mine, theirs, shared) for every name of
  // either, where shared says the entry lies in a shard both hold (then mine == theirs, the
  // same object) and a missing entry is null. Shared shards are visited only when asked:
  // walking a whole map costs a cache miss or two per entry.
  template <class F>
  void compare(const NameShards& other, bool visit_shared, F&& f) const {
    for (std::size_t i = 0; i < kShards; ++i) {
      const Map* mine = shards_.shard(i);
      const Map* theirs = other.shards_.shard(i);
      const bool shared = shards_.shares(other.shards_, i);
      if (shared && !visit_shared) continue;
      if (mine != nullptr) {
        for (const auto& [name, value] : *mine) {
          const Value* match = shared ? &value : find_in(theirs, name);
          f(std::string_view(name), &value, match, shared);
        }
      }
      if (shared || theirs == nullptr) continue;
      for (const auto& [name, value] : *theirs)
        if (find_in(mine, name) == nullptr) f(std::string_view(name), nullptr, &value, false);
    }
  }

 private:
  static std::size_t shard_of(std::size_t hash) { return (hash >> 56) % kShards; }
  static const Value* find_in(const Map* map, std::string_view name) {
    if (map == nullptr) return nullptr;
    auto it = map->find(name);
    return it == map->end() ? nullptr : &it->second;
  }

  common::CowShards<Map, kShards> shards_;
  std::size_t size_ = 0;
};

// A compiled group of names. Everything lives in a few flat arrays (no allocation per name or
// record), which keeps memory per instance small and lookups to one probe sequence.
struct Block {
  // Lower-cased wire name -> node index, or kNone. `hash` is NameHash of the name.
  std::uint32_t find(std::string_view lower_wire_name, std::size_t hash) const {
    if (slots.empty()) return kNone;
    const std::size_t mask = slots.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      std::uint32_t slot = slots[i];
      if (slot == 0) return kNone;
      if (name(slot - 1) == lower_wire_name) return slot - 1;
    }
  }
  std::uint32_t find(std::string_view lower_wire_name) const {
    return find(lower_wire_name, NameHash{}(lower_wire_name));
  }
  std::string_view name(std::uint32_t node) const {
    return {name_bytes.data() + name_offsets[node], name_offsets[node + 1] - name_offsets[node]};
  }
  // The RRset of `type` at a node, or nullptr.
  const RRset* rrset(const Node& node, std::uint16_t type) const {
    for (std::uint32_t i = 0; i < node.rrset_count; ++i) {
      const RRset& set = rrsets[node.first_rrset + i];
      if (set.type == type) return &set;
    }
    return nullptr;
  }
  // A record's RDATA is rdata_of followed by target_name (empty unless by reference).
  std::span<const std::uint8_t> rdata_of(const Record& r) const {
    return {rdata.data() + r.rdata_offset, r.rdata_length};
  }
  std::string_view target_name(const RRset& set, const Record& r) const {
    return set.target_by_reference && r.target_node != kNoTarget ? name(r.target_node)
                                                                 : std::string_view();
  }

  std::string name_bytes;                   // every node's wire name, back to back
  std::vector<std::uint32_t> name_offsets;  // node i's name: [offsets[i], offsets[i + 1])
  // Open addressing by NameHash, linear probing: node + 1, 0 = free; a power of 2 in size,
  // at most half full.
  std::vector<std::uint32_t> slots;
  std::vector<Node> nodes;
  std::vector<RRset> rrsets;
  std::vector<Record> records;
  std::vector<std::uint8_t> rdata;
  std::uint16_t region = kNoRegion;  // index into Snapshot::regions for service blocks
  std::uint32_t fresh_base = kNone;  // service blocks: slot of records[0] in Snapshot::fresh
  // What a service block was compiled from lives in the builder's state (catalog/build_state).
};

// What a snapshot serves and what it had to leave out, for logs and metrics.
struct ServedCounts {
  std::uint64_t names = 0;
  std::uint64_t services = 0;
  std::uint64_t instances = 0;      // instance names served
  std::uint64_t invalid_names = 0;  // env/zone/appid not a valid label sequence
  std::uint64_t hostname_collisions = 0;
  std::uint64_t shadowed_names = 0;     // names taken by a static record or a service name
  std::uint64_t skipped_instances = 0;  // registry entries the decoder could not use

  ServedCounts& operator+=(const ServedCounts& o) {
    names += o.names;
    services += o.services;
    instances += o.instances;
    invalid_names += o.invalid_names;
    hostname_collisions += o.hostname_collisions;
    shadowed_names += o.shadowed_names;
    skipped_instances += o.skipped_instances;
    return *this;
  }
};

// Per registry source, what the query path needs to know about its freshness.
struct RegionState {
  std::string label;
  // Non-zero for file sources: TTLs are computed as of this time (the newest renew time in
  // the file), so a snapshot file is served as it was when written, not as ever more late.
  common::Nanos frozen_now_ns = 0;
  bool stale = false;                       // registry unreachable: TTLs capped at stale_ttl
  common::Nanos last_good_ns = 0;           // after last_good + max_stale, SERVFAIL
  common::Nanos reconcile_interval_ns = 0;  // what good_until was computed with (0: files)
};

// A service's block, and what the builder compiled it from: opaque here (the query path never
// looks at it; catalog::ServiceOrigin in build_state.hpp), kept next to the block because a
// map of its own cost ~150 bytes per app.
struct ServiceEntry {
  std::shared_ptr<const Block> block;  // null while a build has claimed the name
  std::shared_ptr<const void> origin;
};

class Snapshot {
 public:
  // Where a name lives. block == nullptr: the name does not exist (or is an empty
  // non-terminal when `empty` is set).
  struct Found {
    const Block* block = nullptr;
    std::uint32_t node = kNone;
    bool empty = false;
  };
  // Static names win; then the closest enclosing service (a service name wins over an
  // instance name of another app); then the empty non-terminals above services.
  Found find(std::string_view lower_wire_name) const;

  // The TTL rules of design.md §4 applied to one RRset at query time `now`: the smallest TTL
  // of the records served (RFC 2181 §5.2), capped while the registry is unreachable.
  // `fresh_only` says whether late records must be left out (some member is not late).
  struct RRsetView {
    std::uint32_t ttl = 0;
    bool fresh_only = false;
    std::uint32_t first_slot = kNone;  // synthesized: the slot of the RRset's first record
  };
  RRsetView view(const Block& block, const RRset& set, common::Nanos now) const;
  // Whether record i (0 = the RRset's first) goes in the answer.
  bool included(const RRsetView& view, std::uint32_t i) const {
    return !view.fresh_only || fresh.at(view.first_slot + i) != kLate;
  }
  const RegionState* region_of(const Block& block) const {
    return block.region < regions.size() ? &regions[block.region] : nullptr;
  }
  // The region whose label sits right above the apex in a lower-cased wire name at or below
  // the apex (kNoRegion if none), and how many labels the name has below that label.
  struct NameRegion {
    std::uint16_t index = kNoRegion;
    std::uint32_t labels_below = 0;
  };
  NameRegion region_of(std::string_view lower_wire_name) const;

  std::string apex;                 // lower-cased wire name of the served domain
  std::uint32_t soa_rrset = kNone;  // index into zone->rrsets
  std::uint32_t negative_ttl = 0;   // min(SOA TTL, SOA minimum), RFC 2308 §5
  std::uint32_t serial = 0;
  TtlPolicy ttl;
  common::Nanos built_ns = 0;

  std::shared_ptr<const Block> zone;  // the zone file's names
  NameShards<ServiceEntry> services;  // service name -> its block
  // Ancestors of services and zone names, down to the apex (RFC 8020), each with the number
  // of names below it that need it.
  NameShards<std::uint32_t> empty_names;
  std::vector<std::string> cuts;  // delegations in the zone file (NS below the apex)
  std::vector<RegionState> regions;
  FreshnessTable fresh;  // good_until of every synthesized record (catalog/freshness.hpp)
  ServedCounts counts;   // the whole zone: region_counts summed, plus the zone file's names
  // Per region: the names and instances its services add and the names it had to leave out
  // (services is not kept per region). The builder updates these, never `counts`.
  std::vector<ServedCounts> region_counts;
};

}  // namespace discodns::catalog
