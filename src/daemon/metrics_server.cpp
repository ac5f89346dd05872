#include <iterator>
#include <string>
#include <vector>

#include "daemon/metrics.hpp"
#include "wire/names.hpp"

namespace discodns::daemon {

void write_server_metrics(common::PrometheusText& m, const server::Server& server) {
  server::CounterTotals c = server.counters();
  m.counter("discodns_queries_total", "DNS queries received.", static_cast<double>(c.udp_queries),
            {{"transport", "udp"}});
  m.counter("discodns_queries_total", "", static_cast<double>(c.tcp_queries),
            {{"transport", "tcp"}});
  m.counter("discodns_responses_total", "DNS responses sent.", static_cast<double>(c.udp_responses),
            {{"transport", "udp"}});
  m.counter("discodns_responses_total", "", static_cast<double>(c.tcp_responses),
            {{"transport", "tcp"}});
  m.counter("discodns_dropped_total", "Queries dropped (malformed beyond an answer, send failed).",
            static_cast<double>(c.udp_dropped), {{"transport", "udp"}});
  m.counter("discodns_dropped_total", "", static_cast<double>(c.tcp_dropped),
            {{"transport", "tcp"}});
  m.counter("discodns_truncated_total", "UDP answers sent with TC set.",
            static_cast<double>(c.udp_truncated));
  m.counter("discodns_rrl_total", "UDP answers limited by response rate limiting.",
            static_cast<double>(c.udp_rate_limited), {{"action", "dropped"}});
  m.counter("discodns_rrl_total", "", static_cast<double>(c.udp_slipped), {{"action", "slipped"}});
  m.counter("discodns_tcp_connections_total", "TCP connections accepted.",
            static_cast<double>(c.tcp_sessions));
  m.counter("discodns_tcp_rejected_total", "TCP connections over the cap, closed at once.",
            static_cast<double>(server.tcp_rejected_connections()));
  m.gauge("discodns_tcp_open_connections", "TCP connections open now.",
          static_cast<double>(server.tcp_open_connections()));
  m.counter("discodns_errors_total", "Exceptions caught at a batch or session boundary.",
            static_cast<double>(c.errors));
  auto per_worker = server.queries_per_worker();
  for (std::size_t i = 0; i < per_worker.size(); ++i) {
    m.counter("discodns_worker_queries_total", "Queries received, by query worker.",
              static_cast<double>(per_worker[i]), {{"worker", std::to_string(i)}});
  }
  m.counter("discodns_query_log_dropped_total",
            "Sampled query-log lines dropped because the log thread fell behind.",
            static_cast<double>(c.query_log_dropped));
  for (std::size_t i = 0; i < c.rcodes.size(); ++i) {
    m.counter("discodns_answers_by_rcode_total", "Answers sent, by response code.",
              static_cast<double>(c.rcodes[i]), {{"rcode", wire::kRcodeNames[i]}});
  }
  for (std::size_t i = 0; i < c.qtypes.size(); ++i) {
    m.counter("discodns_answers_by_qtype_total", "Answers sent, by query type.",
              static_cast<double>(c.qtypes[i]), {{"qtype", wire::kQtypeNames[i]}});
  }
  std::vector<double> bounds(std::begin(server::kLatencyBounds), std::end(server::kLatencyBounds));
  std::vector<std::uint64_t> cumulative;
  std::uint64_t running = 0;
  for (auto n : c.latency)
    cumulative.push_back(running += n);
  m.histogram("discodns_answer_duration_seconds",
              "Receive-to-send time of answers (UDP: per batch, an upper bound).", bounds,
              cumulative, static_cast<double>(c.latency_sum_ns) / 1e9);
}

}  // namespace discodns::daemon
