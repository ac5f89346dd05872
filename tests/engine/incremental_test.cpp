// Rebuilding from a previous snapshot reuses the blocks of unchanged apps and still answers
// exactly as a full build would.
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
  EXPECT_EQ(next->services.at(*wire::text_to_wire("app7.dev.gd.china.example.com.")).get(),
            snap->services.at(*wire::text_to_wire("app7.dev.gd.china.example.com.")).get());
}

TEST(Incremental, NewOrVanishedAppsRebuildEverything) {
  catalog::BuildStats stats;
  auto instances = apps(5);
  auto snap = rebuild(nullptr, instances, stats);
  auto more = instances;
  more.push_back(instance("h0.app1", "dev", "gd", "x", {{"grpc", "10.9.9.9", 1}}, kNow));
  catalog::BuildStats grown;
  auto next = rebuild(snap, more, grown);
  // h0.app1 is now a service: app1's instance h0 must give its name up.
  EXPECT_EQ(grown.blocks_built, 6u);
  EXPECT_EQ(a_records(*next, "h0.app1.dev.gd.china.example.com."), 1u);
  auto found = next->find(*wire::text_to_wire("h0.app1.dev.gd.china.example.com."));
  ASSERT_NE(found.block, nullptr);
  EXPECT_EQ(found.block->nodes[found.node].kind, catalog::NodeKind::kService);
  catalog::BuildStats shrunk;
  auto back = rebuild(next, instances, shrunk);
  EXPECT_EQ(shrunk.blocks_built, 5u);
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

}  // namespace
}  // namespace discodns::testing
