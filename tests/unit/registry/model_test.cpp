// RegistryData: versions share what did not change, and nothing written to one version shows
// in another (the builder relies on both: it compares versions by pointer).
#include "registry/model.hpp"

#include <gtest/gtest.h>

namespace discodns::registry {
namespace {

Instance instance(std::string appid, std::string env, std::string zone, std::string host,
                  std::int64_t renew_ns = 1) {
  Instance i;
  i.appid = std::move(appid);
  i.env = std::move(env);
  i.zone = std::move(zone);
  i.hostname = std::move(host);
  i.renew_ns = renew_ns;
  return i;
}

InstanceList list(std::vector<Instance> instances) {
  InstanceList l;
  l.instances = std::move(instances);
  return l;
}

TEST(RegistryData, GroupsByAppSortedByZoneAndHost) {
  auto data = RegistryData::from(
      list({instance("b", "dev", "sh", "h2"), instance("a", "dev", "gd", "h1"),
            instance("b", "dev", "gd", "h9"), instance("b", "prod", "gd", "h1")}));
  EXPECT_EQ(data.apps(), 3u);
  EXPECT_EQ(data.instances(), 4u);
  AppPtr b = data.find({"b", "dev"});
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->size(), 2u);
  EXPECT_EQ((*b)[0].zone, "gd");
  EXPECT_EQ((*b)[1].zone, "sh");
  EXPECT_EQ(data.find({"c", "dev"}), nullptr);
  // flatten() gives the decoder's order back, keys included.
  auto flat = data.flatten();
  ASSERT_EQ(flat.instances.size(), 4u);
  EXPECT_EQ(flat.instances[0].appid, "a");
  EXPECT_EQ(flat.instances[1].hostname, "h9");
  EXPECT_EQ(flat.instances[3].env, "prod");
}

TEST(RegistryData, ARereadKeepsEveryUnchangedAppsCopy) {
  std::vector<Instance> all;
  for (int a = 0; a < 300; ++a)
    all.push_back(instance("app" + std::to_string(a), "dev", "gd", "h"));
  auto first = RegistryData::from(list(all));
  all[7].renew_ns = 2;                               // app7 renewed
  all.push_back(instance("new", "dev", "gd", "h"));  // an app appears
  all.erase(all.begin() + 20);                       // app20 goes
  auto second = RegistryData::from(list(all), &first);
  EXPECT_EQ(second.apps(), 300u);
  EXPECT_EQ(second.find({"app1", "dev"}), first.find({"app1", "dev"}));  // the same object
  EXPECT_NE(second.find({"app7", "dev"}), first.find({"app7", "dev"}));
  EXPECT_EQ(second.find({"app7", "dev"})->front().renew_ns, 2);
  EXPECT_EQ(second.find({"app20", "dev"}), nullptr);
  ASSERT_NE(second.find({"new", "dev"}), nullptr);
  // At most the three touched shards differ; the others are shared outright.
  std::size_t differing = 0;
  for (std::size_t i = 0; i < RegistryData::kShards; ++i)
    differing += second.shares_shard(first, i) ? 0 : 1;
  EXPECT_LE(differing, 3u);
  EXPECT_GE(differing, 1u);
  EXPECT_FALSE(second == first);
  EXPECT_TRUE(RegistryData::from(list(all), &second) == second);
}

TEST(RegistryData, WritesNeverShowInACopy) {
  auto original = RegistryData::from(list({instance("a", "dev", "gd", "h1")}));
  RegistryData copy = original;
  AppInstances changed = *copy.find({"a", "dev"});
  changed[0].renew_ns = 99;
  EXPECT_TRUE(copy.set({"a", "dev"}, changed));
  EXPECT_TRUE(copy.set({"b", "dev"}, changed));
  EXPECT_EQ(original.find({"a", "dev"})->front().renew_ns, 1);
  EXPECT_EQ(original.find({"b", "dev"}), nullptr);
  EXPECT_EQ(original.apps(), 1u);
  EXPECT_EQ(copy.apps(), 2u);
  // And the other way round: the original, written after the copy, leaves the copy alone.
  EXPECT_TRUE(original.set({"a", "dev"}, {}));
  EXPECT_EQ(original.apps(), 0u);
  EXPECT_EQ(copy.find({"a", "dev"})->front().renew_ns, 99);
}

TEST(RegistryData, SetReportsWhetherAnythingChanged) {
  RegistryData data;
  EXPECT_FALSE(data.set({"a", "dev"}, {}));  // removing what is not there
  AppInstances one{instance("a", "dev", "gd", "h1")};
  EXPECT_TRUE(data.set({"a", "dev"}, one));
  AppPtr kept = data.find({"a", "dev"});
  EXPECT_FALSE(data.set({"a", "dev"}, one));  // equal: the current copy stays
  EXPECT_EQ(data.find({"a", "dev"}), kept);
  EXPECT_TRUE(data.set({"a", "dev"}, {}));
  EXPECT_EQ(data.apps(), 0u);
  EXPECT_EQ(data.instances(), 0u);
}

// The builder trusts StoredApp::shape instead of comparing instances (catalog/app_changes.hpp):
// it must stay only while nothing but renew/observed times moved, and never repeat.
TEST(RegistryData, ShapeNumberStaysOnlyWhileOnlyTimesMove) {
  RegistryData data;
  auto shape = [&data](const AppKey& key) {
    return data.shard(RegistryData::shard_of(key))->at(key).shape;
  };
  AppInstances app{instance("a", "dev", "gd", "h1"), instance("a", "dev", "gd", "h2")};
  ASSERT_TRUE(data.set({"a", "dev"}, app));
  const std::uint64_t first = shape({"a", "dev"});
  app[1].renew_ns += 30;
  app[0].observed_ns = 99;
  ASSERT_TRUE(data.set({"a", "dev"}, app));
  EXPECT_EQ(shape({"a", "dev"}), first);  // times only
  app[1].weight = 20;
  ASSERT_TRUE(data.set({"a", "dev"}, app));
  const std::uint64_t second = shape({"a", "dev"});
  EXPECT_NE(second, first);
  app.pop_back();
  ASSERT_TRUE(data.set({"a", "dev"}, app));
  EXPECT_NE(shape({"a", "dev"}), second);
  // Another version built from nothing never reuses a number, whatever it holds.
  RegistryData other;
  ASSERT_TRUE(other.set({"a", "dev"}, app));
  EXPECT_NE(other.shard(RegistryData::shard_of({"a", "dev"}))->at({"a", "dev"}).shape,
            shape({"a", "dev"}));
}

}  // namespace
}  // namespace discodns::registry
