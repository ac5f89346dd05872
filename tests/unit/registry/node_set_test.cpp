// NodeSet: back-off, choice of the next node, learning and forgetting nodes.
#include "registry/node_set.hpp"

#include <gtest/gtest.h>

namespace discodns::registry {
namespace {

using std::chrono::milliseconds;
const NodeSet::Time kT0{std::chrono::hours(1)};

TEST(NodeSet, BackoffDoublesUpToTheCap) {
  EXPECT_EQ(backoff_for(1, milliseconds(500), milliseconds(10'000)), milliseconds(500));
  EXPECT_EQ(backoff_for(2, milliseconds(500), milliseconds(10'000)), milliseconds(1000));
  EXPECT_EQ(backoff_for(6, milliseconds(500), milliseconds(10'000)), milliseconds(10'000));
  EXPECT_EQ(backoff_for(60, milliseconds(500), milliseconds(10'000)), milliseconds(10'000));
}

TEST(NodeSet, AFailingNodeHandsOverToTheOneReadyFirst) {
  NodeSet nodes({"a:1", "b:1", "c:1"}, 7);
  std::string first = nodes.current();
  nodes.failed(kT0);
  EXPECT_NE(nodes.current(), first);
  EXPECT_TRUE(nodes.usable(kT0));
  std::string second = nodes.current();
  nodes.failed(kT0);
  EXPECT_NE(nodes.current(), second);
  EXPECT_NE(nodes.current(), first);
  // All three failed: the one whose back-off ends first, which is not usable yet.
  nodes.failed(kT0);
  EXPECT_FALSE(nodes.usable(kT0));
  EXPECT_TRUE(nodes.usable(kT0 + NodeSet::kBackoffMax));
}

TEST(NodeSet, OnlyNodeStaysAndBacksOff) {
  NodeSet nodes({"a:1"}, 1);
  nodes.failed(kT0);
  EXPECT_EQ(nodes.current(), "a:1");
  EXPECT_FALSE(nodes.usable(kT0));
  EXPECT_TRUE(nodes.usable(kT0 + NodeSet::kBackoffBase));
}

TEST(NodeSet, LearnedNodesAreForgottenWhenNoLongerListedSeedsNever) {
  NodeSet nodes({"seed:1"}, 1);
  EXPECT_FALSE(nodes.listed({"seed:1", "learned:1"}));
  EXPECT_EQ(nodes.size(), 2u);
  for (int i = 0; i < NodeSet::kForgetAfter - 1; ++i)
    nodes.listed({"other:1"});
  EXPECT_EQ(nodes.size(), 3u);  // not yet
  nodes.listed({"other:1"});
  EXPECT_EQ(nodes.addresses(), (std::vector<std::string>{"seed:1", "other:1"}));
  // Listed again in between: the count starts over.
  nodes.listed({"seed:1"});
  nodes.listed({"seed:1", "other:1"});
  nodes.listed({"seed:1"});
  nodes.listed({"seed:1"});
  EXPECT_EQ(nodes.size(), 2u);
}

TEST(NodeSet, ForgettingTheNodeInUseIsReported) {
  NodeSet nodes({"seed:1"}, 1);
  nodes.listed({"learned:1"});
  nodes.failed(kT0);  // moves to learned:1
  ASSERT_EQ(nodes.current(), "learned:1");
  bool lost = false;
  for (int i = 0; i < NodeSet::kForgetAfter; ++i)
    lost = nodes.listed({"seed:1"}) || lost;
  EXPECT_TRUE(lost);
  EXPECT_EQ(nodes.current(), "seed:1");
}

}  // namespace
}  // namespace discodns::registry
