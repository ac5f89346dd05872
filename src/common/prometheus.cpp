#include "common/prometheus.hpp"

#include <cmath>
#include <cstdio>

namespace discodns::common {
namespace {

std::string escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}

}  // namespace

void PrometheusText::header(std::string_view name, std::string_view help, std::string_view type) {
  if (!families_.emplace(name).second) return;
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::line(std::string_view name, const Labels& labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i) out_ += ',';
      out_ += labels[i].first + "=\"" + escape(labels[i].second) + "\"";
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += number(value);
  out_ += '\n';
}

void PrometheusText::sample(std::string_view name, std::string_view help, std::string_view type,
                            double value, const Labels& labels) {
  header(name, help, type);
  line(name, labels, value);
}

void PrometheusText::histogram(std::string_view name, std::string_view help,
                               const std::vector<double>& bounds,
                               const std::vector<std::uint64_t>& counts, double sum,
                               const Labels& labels) {
  header(name, help, "histogram");
  std::string bucket = std::string(name) + "_bucket";
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds.size() && i < counts.size(); ++i) {
    total = counts[i];
    Labels with_le = labels;
    with_le.emplace_back("le", i < bounds.size() ? number(bounds[i]) : "+Inf");
    line(bucket, with_le, static_cast<double>(counts[i]));
  }
  line(std::string(name) + "_sum", labels, sum);
  line(std::string(name) + "_count", labels, static_cast<double>(total));
}

}  // namespace discodns::common
