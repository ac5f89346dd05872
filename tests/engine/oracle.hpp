// Test helpers for the query engine: build queries and decode answers with ldns, an
// implementation independent of ours.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catalog/builder.hpp"
#include "catalog/static_zone.hpp"
#include "query/engine.hpp"
#include "registry/model.hpp"

#include <ldns/ldns.h>

namespace discodns::testing {

using PacketPtr = std::unique_ptr<ldns_pkt, void (*)(ldns_pkt*)>;

struct QueryOptions {
  std::uint16_t id = 0x1234;
  bool rd = true;
  bool edns = false;
  std::uint16_t udp_size = 1232;
  bool dnssec_ok = false;
  ldns_rr_class klass = LDNS_RR_CLASS_IN;
};

// `pkt` rendered by ldns (the packet stays the caller's).
std::vector<std::uint8_t> to_wire(const ldns_pkt* pkt);

// A wire-format query made by ldns.
std::vector<std::uint8_t> make_query(const std::string& name, ldns_rr_type type,
                                     const QueryOptions& options = {});

// Decodes a response; fails the test when ldns cannot parse it.
PacketPtr decode(const std::vector<std::uint8_t>& wire);

// The EDNS options of a decoded response, by code, as ldns reads them (empty: no OPT or none).
std::multimap<std::uint16_t, std::vector<std::uint8_t>> edns_options(ldns_pkt* pkt);

// Builds packets byte by byte.
struct Packet {
  std::vector<std::uint8_t> b;
  Packet& u8(std::uint8_t v) {
    b.push_back(v);
    return *this;
  }
  Packet& u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(v & 0xff); }
  Packet& u32(std::uint32_t v) { return u16(static_cast<std::uint16_t>(v >> 16)).u16(v & 0xffff); }
  Packet& header(std::uint16_t flags, std::uint16_t qd, std::uint16_t an = 0, std::uint16_t ns = 0,
                 std::uint16_t ar = 0) {
    return u16(0xBEEF).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
  }
  Packet& name(const std::string& dotted) {
    std::size_t start = 0;
    while (start < dotted.size()) {
      std::size_t dot = dotted.find('.', start);
      std::string label = dotted.substr(start, dot - start);
      u8(static_cast<std::uint8_t>(label.size()));
      for (char c : label)
        u8(static_cast<std::uint8_t>(c));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return u8(0);
  }
  Packet& question(const std::string& dotted, std::uint16_t type = 1, std::uint16_t klass = 1) {
    return name(dotted).u16(type).u16(klass);
  }
  // OPT with the given options (code, data).
  Packet& opt(std::uint16_t size, std::uint8_t version = 0,
              std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>> options = {}) {
    u8(0).u16(41).u16(size).u8(0).u8(version).u16(0);
    std::size_t length = 0;
    for (auto& [code, data] : options)
      length += 4 + data.size();
    u16(static_cast<std::uint16_t>(length));
    for (auto& [code, data] : options) {
      u16(code).u16(static_cast<std::uint16_t>(data.size()));
      for (auto c : data)
        u8(c);
    }
    return *this;
  }
};

// Records of one section, filtered by type (0 = all).
std::vector<ldns_rr*> rrs(const ldns_pkt* pkt, ldns_pkt_section section, int type = 0);

// The engine's answer to `wire` from client 192.0.2.1 (empty when it drops the query), with
// its Outcome in `outcome`.
std::vector<std::uint8_t> respond(const catalog::Snapshot& snapshot,
                                  const std::vector<std::uint8_t>& wire, common::Nanos now,
                                  const query::Limits& limits, query::Transport transport,
                                  query::Outcome& outcome);

// Asks `snapshot` at `now` over UDP (no EDNS) and decodes the answer; `outcome`, if given,
// receives the engine's Outcome.
PacketPtr ask(const catalog::Snapshot& snapshot, const std::string& name, ldns_rr_type type,
              common::Nanos now, query::Outcome* outcome = nullptr);

// The TTLs of one section's records of `type`, in order.
std::vector<std::uint32_t> ttls(const ldns_pkt* pkt, ldns_pkt_section section, int type);

std::string owner_text(const ldns_rr* rr);
std::string rdf_text(const ldns_rr* rr, std::size_t index);

// An instance with sensible defaults for tests.
registry::Instance instance(const std::string& appid, const std::string& env,
                            const std::string& zone, const std::string& hostname,
                            std::vector<registry::Endpoint> endpoints, std::int64_t renew_ns,
                            std::uint16_t weight = 10,
                            registry::Status status = registry::Status::kUp);
// The same instances, as a reconcile answer received at `observed_ns` carried them.
std::vector<registry::Instance> observed_at(std::vector<registry::Instance> instances,
                                            common::Nanos observed_ns);

// The reconcile interval build() gives a live source (the daemon's default).
inline constexpr common::Nanos kReconcileNs = 15 * common::kNanosPerSecond;

// zones/example.com.zone, as every test serves it.
std::shared_ptr<const catalog::StaticZone> example_zone();

// Registry data made of `instances`, sharing the apps equal to those of `previous` (as a
// registry source does).
std::shared_ptr<const registry::RegistryData> registry_data(
    std::vector<registry::Instance> instances, const registry::RegistryData* previous = nullptr);

// A built snapshot with the state a next (incremental) build may follow; used like a pointer
// to the snapshot.
struct Built {
  std::shared_ptr<const catalog::BuildState> state;

  Built(std::nullptr_t = nullptr) {}  // NOLINT: no previous build
  explicit Built(std::shared_ptr<const catalog::BuildState> s) : state(std::move(s)) {}
  const catalog::Snapshot& operator*() const { return *state->snapshot; }
  const catalog::Snapshot* operator->() const { return state->snapshot.get(); }
  operator std::shared_ptr<const catalog::Snapshot>() const {  // NOLINT: the snapshot
    return state ? state->snapshot : nullptr;
  }
};

// What build() builds from: the zone, `instances` as region "china" (the only region), serial
// 2026112600, default TTL policy. For tests that change the policy or add regions.
catalog::BuildInput build_input(std::vector<registry::Instance> instances,
                                common::Nanos last_good_ns = 1, bool stale = false,
                                const Built& previous = nullptr);

// Builds a snapshot of zones/example.com.zone plus `instances` served under region "china";
// `last_good_ns` 0 makes it a file source (frozen time), otherwise live, with a reconcile
// every kReconcileNs. `previous` (an incremental build follows it) and `stats` as in
// catalog::BuildInput / catalog::build.
Built build(std::vector<registry::Instance> instances, common::Nanos last_good_ns = 1,
            bool stale = false, const Built& previous = nullptr,
            catalog::BuildStats* stats = nullptr);

}  // namespace discodns::testing
