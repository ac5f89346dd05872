// Prometheus text exposition format (version 0.0.4) writer: HELP and TYPE once per metric
// family, label values escaped.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/histogram.hpp"

namespace discodns::common {

class PrometheusText {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  void counter(std::string_view name, std::string_view help, double value,
               const Labels& labels = {}) {
    sample(name, help, "counter", value, labels);
  }
  void gauge(std::string_view name, std::string_view help, double value,
             const Labels& labels = {}) {
    sample(name, help, "gauge", value, labels);
  }
  // Cumulative buckets: `counts[i]` observations <= `bounds[i]`; the last count is +Inf.
  void histogram(std::string_view name, std::string_view help, const std::vector<double>& bounds,
                 const std::vector<std::uint64_t>& counts, double sum, const Labels& labels = {});

  void histogram(std::string_view name, std::string_view help, const Histogram& h,
                 const Labels& labels = {}) {
    histogram(name, help, h.bounds(), h.cumulative(), h.sum(), labels);
  }

  const std::string& text() const { return out_; }

 private:
  void header(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, std::string_view help, std::string_view type, double value,
              const Labels& labels);
  void line(std::string_view name, const Labels& labels, double value);

  std::string out_;
  std::set<std::string, std::less<>> families_;
};

}  // namespace discodns::common
