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

std::shared_ptr<const catalog::Snapshot> rebuild(std::shared_ptr<const catalog::Snapshot> prev,
                                                 std::vector<registry::Instance> instances,
                                                 catalog::BuildStats& stats) {
  return build(std::move(instances), 1, false, std::move(prev), &stats);
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
  EXPECT_EQ(*next->services.find(app7), *snap->services.find(app7));
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
  snap.services.for_each([&](const std::string& service, const auto& block) {
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
          lines.push_back(owner + " type " + std::to_string(set.type) + " " +
                          hex(block->rdata_of(rec)) + std::string(block->target_name(set, rec)) +
                          " renew " + std::to_string(rec.renew_ns) + " target " + target);
        }
      }
    }
  });
  snap.empty_names.for_each([&](const std::string& name, std::uint32_t) {
    lines.push_back("empty " + wire::wire_to_text(name));
  });
  std::sort(lines.begin(), lines.end());
  const auto& c = snap.counts;
  std::string out = "names " + std::to_string(c.names) + " services " + std::to_string(c.services) +
                    " instances " + std::to_string(c.instances) + " invalid " +
                    std::to_string(c.invalid_names) + " collisions " +
                    std::to_string(c.hostname_collisions) + " shadowed " +
                    std::to_string(c.shadowed_names) + "\n";
  for (const auto& line : lines)
    out += line + "\n";
  return out;
}

// A service so large that host nodes pass the 16-bit target index (65,535 nodes): those SRV records
// keep their whole RDATA (target name included) and simply go without additional addresses.
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
// names, zones appearing and vanishing. After every change the incremental build must serve
// exactly what a build from scratch serves.
TEST(Incremental, ServesExactlyWhatAFullBuildServes) {
  const std::vector<std::string> appids = {"a", "b", "h0.a", "h1.a", "x.h0.a", "A", "bad..id"};
  const std::vector<std::string> zones = {"gd", "sh"};
  std::mt19937 rng(20261125);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  std::vector<registry::Instance> instances;
  std::shared_ptr<const catalog::Snapshot> snap;
  int incremental_builds = 0;
  for (int step = 0; step < 400; ++step) {
    switch (pick(8)) {  // mostly growth, so that services pile up and meet
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
    auto full = build(instances, 1, false, nullptr, nullptr);
    ASSERT_EQ(describe(*snap), describe(*full)) << "after step " << step;
  }
  EXPECT_GT(incremental_builds, 200);  // the incremental path was really exercised
}

}  // namespace
}  // namespace discodns::testing
