// Rebuilding from a previous snapshot reuses the blocks of unchanged apps and still answers
// exactly as a full build would.
#include <algorithm>
#include <random>

#include "oracle.hpp"
#include "wire/name.hpp"

namespace discodns::testing {
namespace {

constexpr common::Nanos kS = common::kNanosPerSecond;
constexpr common::Nanos kNow = 1'800'000'000LL * kS;

std::vector<registry::Instance> apps(int n) {
  std::vector<registry::Instance> out;
  for (int a = 0; a < n; ++a) {
    for (int i = 0; i < 3; ++i) {
      out.push_back(instance(
          "app" + std::to_string(a), "dev", "gd", "h" + std::to_string(i),
          {{"grpc", "10.0." + std::to_string(a) + "." + std::to_string(i + 1), 9000}}, kNow - kS));
    }
  }
  return out;
}

Built rebuild(const Built& prev, std::vector<registry::Instance> instances,
              catalog::BuildStats& stats) {
  return build(std::move(instances), 1, false, prev, &stats);
}

std::string counts_text(const catalog::ServedCounts& c) {
  return "names " + std::to_string(c.names) + " services " + std::to_string(c.services) +
         " instances " + std::to_string(c.instances) + " invalid " +
         std::to_string(c.invalid_names) + " collisions " + std::to_string(c.hostname_collisions) +
         " shadowed " + std::to_string(c.shadowed_names) + " skipped " +
         std::to_string(c.skipped_instances);
}

std::size_t a_records(const catalog::Snapshot& snap, const std::string& name) {
  auto found = snap.find(*wire::text_to_wire(name));
  if (found.block == nullptr) return 0;
  const auto* set = found.block->rrset(found.block->nodes[found.node], 1);
  return set == nullptr ? 0 : set->record_count;
}

TEST(Incremental, OneChangedAppRebuildsOneBlock) {
  catalog::BuildStats first;
  auto instances = apps(50);
  auto snap = rebuild(nullptr, instances, first);
  EXPECT_EQ(first.blocks_built, 50u);

  instances.erase(instances.begin());  // app0 loses h0
  catalog::BuildStats second;
  auto next = rebuild(snap, instances, second);
  EXPECT_EQ(second.blocks_built, 1u);
  EXPECT_EQ(second.blocks_reused, 49u);
  EXPECT_EQ(a_records(*next, "app0.dev.gd.china.example.com."), 2u);
  EXPECT_EQ(a_records(*next, "app1.dev.gd.china.example.com."), 3u);
  // The old snapshot is untouched: readers still holding it see the old data.
  EXPECT_EQ(a_records(*snap, "app0.dev.gd.china.example.com."), 3u);
  auto app7 = *wire::text_to_wire("app7.dev.gd.china.example.com.");
  EXPECT_EQ(next->services.find(app7)->block, snap->services.find(app7)->block);
}

TEST(Incremental, NewOrVanishedAppsRebuildTheirParentService) {
  catalog::BuildStats stats;
  auto instances = apps(5);
  auto snap = rebuild(nullptr, instances, stats);
  auto more = instances;
  more.push_back(instance("h0.app1", "dev", "gd", "x", {{"grpc", "10.9.9.9", 1}}, kNow));
  catalog::BuildStats grown;
  auto next = rebuild(snap, more, grown);
  // h0.app1 is now a service: app1's instance h0 must give its name up, so app1 is rebuilt.
  EXPECT_TRUE(grown.incremental);
  EXPECT_EQ(grown.blocks_built, 2u);
  EXPECT_EQ(a_records(*next, "h0.app1.dev.gd.china.example.com."), 1u);
  auto found = next->find(*wire::text_to_wire("h0.app1.dev.gd.china.example.com."));
  ASSERT_NE(found.block, nullptr);
  EXPECT_EQ(found.block->nodes[found.node].kind, catalog::NodeKind::kService);
  catalog::BuildStats shrunk;
  auto back = rebuild(next, instances, shrunk);
  EXPECT_EQ(shrunk.blocks_built, 1u);
  auto instance_again = back->find(*wire::text_to_wire("h0.app1.dev.gd.china.example.com."));
  ASSERT_NE(instance_again.block, nullptr);
  EXPECT_EQ(instance_again.block->nodes[instance_again.node].kind, catalog::NodeKind::kInstance);
}

TEST(Incremental, EmptyNonTerminalsBelowAnotherService) {
  catalog::BuildStats stats;
  auto snap = rebuild(nullptr,
                      {instance("a", "dev", "gd", "h", {{"grpc", "10.0.0.1", 1}}, kNow),
                       instance("x.y.a", "dev", "gd", "h", {{"grpc", "10.0.0.2", 1}}, kNow)},
                      stats);
  auto ent = snap->find(*wire::text_to_wire("y.a.dev.gd.china.example.com."));
  EXPECT_TRUE(ent.empty);
  auto missing = snap->find(*wire::text_to_wire("z.a.dev.gd.china.example.com."));
  EXPECT_FALSE(missing.empty);
  EXPECT_EQ(missing.block, nullptr);
}

// Everything a snapshot serves, one line per record, sorted: equal texts, equal answers.
std::string describe(const catalog::Snapshot& snap) {
  std::vector<std::string> lines;
  auto hex = [](std::span<const std::uint8_t> bytes) {
    std::string out;
    for (auto b : bytes)
      out += "0123456789abcdef"[b >> 4], out += "0123456789abcdef"[b & 15];
    return out;
  };
  snap.services.for_each([&](const std::string& service, const catalog::ServiceEntry& entry) {
    const auto& block = entry.block;
    for (std::size_t n = 0; n < block->nodes.size(); ++n) {
      const catalog::Node& node = block->nodes[n];
      std::string owner = wire::wire_to_text(block->name(n)) + " in " +
                          wire::wire_to_text(service) + " kind " +
                          std::to_string(static_cast<int>(node.kind));
      lines.push_back(owner);
      for (std::uint32_t s = 0; s < node.rrset_count; ++s) {
        const catalog::RRset& set = block->rrsets[node.first_rrset + s];
        for (std::uint32_t r = 0; r < set.record_count; ++r) {
          const catalog::Record& rec = block->records[set.first_record + r];
          std::string target = rec.target_node == catalog::kNoTarget
                                   ? "-"
                                   : wire::wire_to_text(block->name(rec.target_node));
          common::Nanos good_until = snap.fresh.at(block->fresh_base + set.first_record + r);
          lines.push_back(owner + " type " + std::to_string(set.type) + " " +
                          hex(block->rdata_of(rec)) + std::string(block->target_name(set, rec)) +
                          " good_until " + std::to_string(good_until) + " target " + target);
        }
      }
    }
  });
  snap.empty_names.for_each([&](const std::string& name, std::uint32_t) {
    lines.push_back("empty " + wire::wire_to_text(name));
  });
  std::sort(lines.begin(), lines.end());
  std::string out = counts_text(snap.counts) + "\n";
  for (const auto& region : snap.region_counts)
    out += "region " + counts_text(region) + "\n";
  for (const auto& line : lines)
    out += line + "\n";
  return out;
}

// Every query a test service set answers, as raw response bytes (TTLs included) at `now`.
std::vector<std::vector<std::uint8_t>> answers(const catalog::Snapshot& snap, int apps,
                                               common::Nanos now) {
  std::vector<std::vector<std::uint8_t>> out;
  for (int a = 0; a < apps; ++a) {
    std::string service = "app" + std::to_string(a) + ".dev.gd.china.example.com.";
    for (const std::string& name : {service, "_grpc._tcp." + service, "h1." + service}) {
      for (ldns_rr_type type : {LDNS_RR_TYPE_A, LDNS_RR_TYPE_SRV, LDNS_RR_TYPE_TXT}) {
        std::vector<std::uint8_t> response(query::kMaxResponseSize);
        query::Limits limits;
        query::QueryContext ctx;
        auto o = query::answer(make_query(name, type), snap, now, limits, ctx, response);
        response.resize(o.size);
        out.push_back(std::move(response));
      }
    }
  }
  return out;
}

// A reconcile 20 s later in which every instance renewed but one, which is late now: nothing
// is compiled, and the answers are a full build's, TTLs included.
TEST(Incremental, RenewOnlyChangeOfEveryAppBuildsNothing) {
  auto instances = observed_at(apps(50), kNow);
  catalog::BuildStats first;
  auto snap = build(instances, 1, false, nullptr, &first);
  auto before = answers(*snap, 50, kNow + kS);
  for (auto& i : instances) {
    i.renew_ns += 20 * kS;
    i.observed_ns = kNow + 40 * kS;
  }
  instances[7].renew_ns = kNow - 10 * kS;  // app2's h1: missed renews for 50 s
  catalog::BuildStats stats;
  auto next = build(instances, 1, false, snap, &stats);
  EXPECT_TRUE(stats.incremental);
  EXPECT_EQ(stats.blocks_built, 0u);
  EXPECT_EQ(stats.blocks_refreshed, 50u);
  EXPECT_EQ(stats.blocks_reused, 50u);
  auto full = build(instances, 1, false, nullptr, nullptr);
  EXPECT_EQ(describe(*next), describe(*full));
  for (common::Nanos now : {kNow + 41 * kS, kNow + 50 * kS, kNow + 90 * kS})
    EXPECT_EQ(answers(*next, 50, now), answers(*full, 50, now));
  EXPECT_EQ(a_records(*next, "app2.dev.gd.china.example.com."), 3u);  // compiled as before
  auto late = decode(answers(*next, 50, kNow + 41 * kS)[2 * 9]);      // app2's service A
  EXPECT_EQ(ldns_pkt_ancount(late.get()), 2);                         // h1 left out
  // Readers of the previous snapshot still see the previous times.
  EXPECT_EQ(answers(*snap, 50, kNow + kS), before);
}

TEST(Incremental, RenewOnlyChangeOfOneAppCopiesOneChunk) {
  auto instances = observed_at(apps(4000), kNow);
  catalog::BuildStats stats;
  auto snap = build(instances, 1, false, nullptr, &stats);
  ASSERT_GT(snap->fresh.chunks(), 4u);
  for (int i = 3 * 3000; i < 3 * 3001; ++i)  // app3000
    instances[i].renew_ns += kS;
  auto next = build(instances, 1, false, snap, &stats);
  EXPECT_EQ(stats.blocks_built, 0u);
  EXPECT_EQ(stats.blocks_refreshed, 1u);
  std::size_t copied = 0;
  for (std::size_t c = 0; c < next->fresh.chunks(); ++c)
    copied += next->fresh.shares_chunk(snap->fresh, c) ? 0 : 1;
  EXPECT_GE(copied, 1u);
  EXPECT_LE(copied, 2u);  // one, or two if the app's slots straddle a chunk boundary
}

// good_until depends on the TTL settings, the reconcile interval and a file's own time: when
// one of those changes, every slot is recomputed, even for apps whose data did not change.
TEST(Incremental, FreshnessInputsOtherThanTheDataRecomputeEverySlot) {
  auto instances = observed_at(apps(5), kNow);
  auto check = [&](catalog::BuildInput first, catalog::BuildInput second) {
    auto prev = catalog::build(first);
    second.previous = prev;
    auto incremental = catalog::build_snapshot(second);
    second.previous = nullptr;
    auto full = catalog::build_snapshot(second);
    EXPECT_NE(describe(*prev->snapshot), describe(*full));  // the case really changes good_until
    EXPECT_EQ(describe(*incremental), describe(*full));
  };
  auto input = build_input(instances);
  auto longer = input;
  longer.regions[0].reconcile_interval_ns = 60 * kS;
  check(input, longer);
  auto graceful = input;
  graceful.ttl.late_grace_ns = 20 * kS;
  check(input, graceful);
  // A file source whose newest renew moved (app4 only): the others' lateness moves too.
  auto file = build_input(instances, 0);
  auto moved = instances;
  for (auto& i : moved)
    if (i.appid == "app4") i.renew_ns = kNow + 100 * kS;
  auto file_moved = build_input(moved, 0);
  file_moved.regions[0].data = registry_data(moved, file.regions[0].data.get());
  check(file, file_moved);
}

// Rebuilt blocks leave their old slots dead; once there are too many, a full build compacts.
TEST(Incremental, DeadFreshnessSlotsAreCompacted) {
  auto instances = apps(50);
  auto snap = build(instances);
  const std::uint32_t live = snap->fresh.size();
  std::uint32_t largest = 0;
  int full_builds = 0;
  for (int step = 0; step < 6000; ++step) {
    instances[0].weight = static_cast<std::uint16_t>(1 + step % 2);  // app0 changes shape
    catalog::BuildStats stats;
    snap = build(instances, 1, false, snap, &stats);
    full_builds += stats.incremental ? 0 : 1;
    largest = std::max(largest, snap->fresh.size());
    ASSERT_EQ(snap->fresh.size() - snap->fresh.dead(), live);
  }
  EXPECT_GE(full_builds, 1);
  EXPECT_LE(largest, live + live / 2 + 16 * catalog::FreshnessTable::kChunkSize + live);
  EXPECT_EQ(describe(*snap), describe(*build(instances)));
}

// A service so large that host nodes pass the 16-bit target index (65,535 nodes): those SRV records
// keep their whole RDATA (target name included) and simply go without additional addresses.
// What each region serves and leaves out is counted per region, and an incremental build of a
// change in one region moves only that region's counts, to what a full build counts.
TEST(Incremental, CountsPerRegion) {
  auto two_regions = [](std::vector<registry::Instance> china,
                        std::vector<registry::Instance> europe, const Built& prev) {
    const registry::RegistryData* before =
        prev.state && prev.state->sources.size() == 2 ? prev.state->sources[1].get() : nullptr;
    catalog::BuildInput input = build_input(std::move(china), 1, false, prev);
    catalog::RegionData second = input.regions[0];
    second.region = "europe";
    second.data = registry_data(std::move(europe), before);
    input.regions.push_back(second);
    catalog::BuildStats stats;
    Built snap(catalog::build(input, &stats));
    return std::pair(snap, stats.incremental);
  };
  auto china = apps(2);  // 2 services of 3 instances
  std::vector<registry::Instance> europe = {
      instance("x", "dev", "fr", "web_1", {{"grpc", "10.9.0.1", 9000}}, kNow - kS),
      instance("x", "dev", "fr", "web.1", {{"grpc", "10.9.0.2", 9000}}, kNow - kS),
      instance("bad..id", "dev", "fr", "h", {{"grpc", "10.9.0.3", 9000}}, kNow - kS)};
  auto [snap, incremental] = two_regions(china, europe, nullptr);
  ASSERT_EQ(snap->region_counts.size(), 2u);
  EXPECT_EQ(snap->region_counts[0].instances, 6u);
  EXPECT_EQ(snap->region_counts[0].invalid_names, 0u);
  EXPECT_EQ(snap->region_counts[0].hostname_collisions, 0u);
  EXPECT_EQ(snap->region_counts[1].instances, 2u);
  EXPECT_EQ(snap->region_counts[1].invalid_names, 1u);
  EXPECT_EQ(snap->region_counts[1].hostname_collisions, 2u);
  EXPECT_EQ(snap->counts.instances, 8u);

  europe.pop_back();  // the invalid one goes, a third colliding host comes
  europe.push_back(instance("x", "dev", "fr", "web+1", {{"grpc", "10.9.0.4", 9000}}, kNow - kS));
  auto [next, next_incremental] = two_regions(china, europe, snap);
  EXPECT_TRUE(next_incremental);
  EXPECT_EQ(counts_text(next->region_counts[0]), counts_text(snap->region_counts[0]));
  EXPECT_EQ(next->region_counts[1].invalid_names, 0u);
  EXPECT_EQ(next->region_counts[1].hostname_collisions, 3u);
  EXPECT_EQ(next->region_counts[1].instances, 3u);
  auto [full, full_incremental] = two_regions(china, europe, nullptr);
  EXPECT_FALSE(full_incremental);
  EXPECT_EQ(describe(*next), describe(*full));
}

// A snapshot a query worker still holds keeps nothing of the registry alive: the registry
// version and what each block was compiled from belong to the builder's state.
TEST(Incremental, ARetainedSnapshotKeepsNoRegistryVersionAlive) {
  catalog::BuildInput input = build_input(apps(3));
  std::weak_ptr<const registry::RegistryData> data = input.regions[0].data;
  auto state = catalog::build(input);
  std::weak_ptr<const catalog::BuildState> weak_state = state;
  std::shared_ptr<const catalog::Snapshot> held = state->snapshot;
  input = {};
  state.reset();
  EXPECT_TRUE(weak_state.expired());
  EXPECT_TRUE(data.expired());
  EXPECT_EQ(a_records(*held, "app1.dev.gd.china.example.com."), 3u);
}

TEST(Blocks, SrvTargetsPastTheTargetIndexKeepTheirName) {
  std::vector<registry::Instance> many;
  for (int i = 0; i < 66'000; ++i) {
    many.push_back(instance("big", "dev", "gd", "h" + std::to_string(i),
                            {{"grpc",
                              "10." + std::to_string(i >> 16) + "." +
                                  std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255),
                              9000}},
                            kNow));
  }
  auto snap = build(many);
  auto found = snap->find(*wire::text_to_wire("_grpc._tcp.big.dev.gd.china.example.com."));
  ASSERT_NE(found.block, nullptr);
  const catalog::Block& block = *found.block;
  const catalog::RRset* srv = block.rrset(block.nodes[found.node], 33);
  ASSERT_NE(srv, nullptr);
  ASSERT_EQ(srv->record_count, 66'000u);
  std::size_t referenced = 0;
  for (std::uint32_t r = 0; r < srv->record_count; ++r) {
    const catalog::Record& rec = block.records[srv->first_record + r];
    auto stored = block.rdata_of(rec);
    std::string rdata(stored.begin(), stored.end());
    rdata += block.target_name(*srv, rec);
    std::string target = wire::wire_to_text(rdata.substr(6));
    ASSERT_EQ(target.rfind('h', 0), 0u) << target;  // a whole host name, whichever way stored
    ASSERT_NE(block.find(rdata.substr(6)), catalog::kNone) << target;
    referenced += rec.target_node != catalog::kNoTarget ? 1 : 0;
  }
  EXPECT_GT(referenced, 60'000u);
  EXPECT_LT(referenced, 66'000u);
}

// Random registry changes, chosen to hit every dependency between services: dotted appids
// that make one service's name a host name of another, appids equal but for case, invalid
// names, zones appearing and vanishing, renew and observed times moving alone (freshness slots
// refreshed, nothing compiled) and crossing the lateness threshold. After every change the
// incremental build must serve exactly what a build from scratch serves, good_until included.
TEST(Incremental, ServesExactlyWhatAFullBuildServes) {
  const std::vector<std::string> appids = {"a", "b", "h0.a", "h1.a", "x.h0.a", "A", "bad..id"};
  const std::vector<std::string> zones = {"gd", "sh"};
  std::mt19937 rng(20261125);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  std::vector<registry::Instance> instances;
  Built snap;
  int incremental_builds = 0;
  int refresh_only_builds = 0;
  for (int step = 0; step < 400; ++step) {
    switch (pick(10)) {  // mostly growth, so that services pile up and meet
      case 0:
      case 1:
      case 2:
      case 3:  // a new instance (or a re-registered one)
        instances.push_back(instance(
            appids[pick(appids.size())], "dev", zones[pick(zones.size())],
            "h" + std::to_string(pick(3)),
            {{"grpc", "10.0." + std::to_string(pick(4)) + "." + std::to_string(pick(4) + 1),
              static_cast<std::uint16_t>(9000 + pick(2))}},
            kNow - static_cast<common::Nanos>(pick(60)) * kS));
        break;
      case 4:  // one instance goes
        if (!instances.empty()) instances.erase(instances.begin() + pick(instances.size()));
        break;
      case 5:
      case 6:  // one instance renews
        if (!instances.empty()) instances[pick(instances.size())].renew_ns += kS;
        break;
      case 7: {  // a reconcile: one app's instances renewed (or not), observed now
        std::string appid = appids[pick(appids.size())];
        common::Nanos observed = kNow + static_cast<common::Nanos>(step) * kS;
        for (auto& i : instances) {
          if (i.appid != appid) continue;
          if (pick(3) != 0) i.renew_ns = observed - static_cast<common::Nanos>(pick(30)) * kS;
          i.observed_ns = observed;  // some have missed renews by more than 35 s: late
        }
        break;
      }
      case 8:  // one instance's observation time alone moves, across the lateness threshold
        if (!instances.empty()) {
          auto& i = instances[pick(instances.size())];
          i.observed_ns = pick(4) == 0 ? 0 : i.renew_ns + static_cast<common::Nanos>(pick(70)) * kS;
        }
        break;
      default: {  // one app goes
        std::string appid = appids[pick(appids.size())];
        std::erase_if(instances, [&](const auto& i) { return i.appid == appid; });
      }
    }
    // Duplicates (same app, zone, host) are not registry data: keep the last one.
    std::vector<registry::Instance> unique;
    for (auto it = instances.rbegin(); it != instances.rend(); ++it) {
      bool seen = std::any_of(unique.begin(), unique.end(), [&](const auto& u) {
        return u.appid == it->appid && u.zone == it->zone && u.hostname == it->hostname;
      });
      if (!seen) unique.push_back(*it);
    }
    instances.assign(unique.rbegin(), unique.rend());

    catalog::BuildStats stats;
    snap = build(instances, 1, false, snap, &stats);
    incremental_builds += stats.incremental ? 1 : 0;
    refresh_only_builds +=
        stats.incremental && stats.blocks_refreshed > 0 && stats.blocks_built == 0;
    auto full = build(instances, 1, false, nullptr, nullptr);
    ASSERT_EQ(describe(*snap), describe(*full)) << "after step " << step;
  }
  EXPECT_GT(incremental_builds, 200);  // the incremental path was really exercised
  EXPECT_GT(refresh_only_builds, 30);  // and so was the renew-only one
}

}  // namespace
}  // namespace discodns::testing
