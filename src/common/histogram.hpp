// Fixed-bucket histogram for metrics updated by one owner under its own lock (registry
// requests, reconciles); not for the query path, whose counters are per-worker atomics.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace discodns::common {

class Histogram {
 public:
  Histogram() = default;
  // `bounds`: increasing upper bounds of the buckets; a +Inf bucket follows.
  explicit Histogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}

  void observe(double value) {
    auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
    ++counts_[static_cast<std::size_t>(bucket)];
    sum_ += value;
  }
  const std::vector<double>& bounds() const { return bounds_; }
  // Observations <= each bound, then the total (Prometheus' cumulative buckets).
  std::vector<std::uint64_t> cumulative() const {
    std::vector<std::uint64_t> out;
    std::uint64_t running = 0;
    for (auto n : counts_)
      out.push_back(running += n);
    return out;
  }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;
  double sum_ = 0;
};

}  // namespace discodns::common
