#include "server/query_log.hpp"

#include <gtest/gtest.h>

namespace discodns::server {
namespace {

TEST(QuerySampler, OffByDefault) {
  QuerySampler sampler;
  for (int i = 0; i < 1000; ++i)
    EXPECT_FALSE(sampler.hit());
}

TEST(QuerySampler, OneInN) {
  QuerySampler sampler(3);
  std::vector<bool> hits;
  for (int i = 0; i < 9; ++i)
    hits.push_back(sampler.hit());
  EXPECT_EQ(hits, (std::vector<bool>{false, false, true, false, false, true, false, false, true}));
}

TEST(QuerySampler, EveryQueryWhenOne) {
  QuerySampler sampler(1);
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(sampler.hit());
}

}  // namespace
}  // namespace discodns::server
