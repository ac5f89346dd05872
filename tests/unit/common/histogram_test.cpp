#include "common/histogram.hpp"

#include <gtest/gtest.h>

#include "common/prometheus.hpp"

namespace discodns::common {
namespace {

TEST(Histogram, BucketsAreCumulativeAndBoundsInclusive) {
  Histogram h({0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 1.0, 20.0})
    h.observe(v);
  EXPECT_EQ(h.cumulative(), (std::vector<std::uint64_t>{2, 4, 4, 5}));
  EXPECT_DOUBLE_EQ(h.sum(), 21.65);
}

TEST(Histogram, WrittenAsPrometheusHistogram) {
  Histogram h({0.5});
  h.observe(0.25);
  h.observe(2);
  PrometheusText m;
  m.histogram("x_seconds", "help", h, {{"region", "china"}});
  EXPECT_EQ(m.text(),
            "# HELP x_seconds help\n# TYPE x_seconds histogram\n"
            "x_seconds_bucket{region=\"china\",le=\"0.5\"} 1\n"
            "x_seconds_bucket{region=\"china\",le=\"+Inf\"} 2\n"
            "x_seconds_sum{region=\"china\"} 2.25\n"
            "x_seconds_count{region=\"china\"} 2\n");
}

}  // namespace
}  // namespace discodns::common
