// The hidden primary's part of /metrics: transfers by kind and outcome, bytes, the journal, and
// per secondary the NOTIFYs sent, acknowledged and failed and its last acknowledged serial.
#include <iterator>
#include <string>

#include "daemon/metrics.hpp"
#include "server/server.hpp"

namespace discodns::daemon {
namespace {

constexpr const char* kKinds[] = {"axfr", "ixfr", "ixfr_full", "ixfr_current"};
constexpr const char* kOutcomes[] = {"ok", "refused", "notauth", "formerr"};
static_assert(std::size(kKinds) == static_cast<std::size_t>(transfer::TransferKind::kCount));
static_assert(std::size(kOutcomes) == static_cast<std::size_t>(transfer::TransferOutcome::kCount));

}  // namespace

void write_transfer_metrics(common::PrometheusText& m, const transfer::Primary* primary,
                            const transfer::Notifier* notifier) {
  if (primary != nullptr) {
    const transfer::TransferMetrics t = primary->metrics();
    const char* help =
        "Zone transfers by the answer given (ixfr_full: an IXFR answered with the whole zone; "
        "ixfr_current: the client was up to date) and outcome.";
    for (std::size_t k = 0; k < t.transfers.size(); ++k)
      for (std::size_t o = 0; o < t.transfers[k].size(); ++o)
        m.counter("discodns_transfers_total", help, static_cast<double>(t.transfers[k][o]),
                  {{"kind", kKinds[k]}, {"outcome", kOutcomes[o]}});
    m.counter("discodns_transfer_messages_total", "Messages sent in zone transfers.",
              static_cast<double>(t.messages));
    m.counter("discodns_transfer_bytes_total", "Bytes sent in zone transfers.",
              static_cast<double>(t.bytes));
    m.gauge("discodns_transfer_journal_changes", "Serials the IXFR journal holds deltas for.",
            static_cast<double>(t.journal_changes));
    m.gauge("discodns_transfer_journal_bytes", "Bytes of differences in the IXFR journal.",
            static_cast<double>(t.journal_bytes));
    m.counter("discodns_tsig_signed_answers_total",
              "Answers to TSIG-signed queries (secondaries' SOA checks), signed.",
              static_cast<double>(t.signed_answers));
    m.counter("discodns_tsig_unverified_queries_total",
              "TSIG-signed queries whose signature did not verify (answered NOTAUTH).",
              static_cast<double>(t.unverified_queries));
    m.counter("discodns_transfer_journal_resets_total",
              "Publishes whose delta was too large to keep (secondaries behind take an AXFR).",
              static_cast<double>(t.journal_resets));
  }
  if (notifier == nullptr) return;
  const auto status = notifier->status();
  const auto& targets = notifier->targets();
  for (std::size_t i = 0; i < status.size() && i < targets.size(); ++i) {
    const common::PrometheusText::Labels secondary = {{"secondary", server::to_string(targets[i])}};
    const transfer::NotifyCounters& c = status[i];
    m.counter("discodns_notify_sent_total", "NOTIFY messages sent, retries included.",
              static_cast<double>(c.sent), secondary);
    m.counter("discodns_notify_acked_total", "NOTIFY messages the secondary acknowledged.",
              static_cast<double>(c.acked), secondary);
    m.counter("discodns_notify_failed_total",
              "NOTIFY attempts that timed out or got an error answer.",
              static_cast<double>(c.failed), secondary);
    m.counter("discodns_notify_given_up_total",
              "Serials given up on after the last retry (the secondary may be behind).",
              static_cast<double>(c.given_up), secondary);
    m.gauge("discodns_notify_acked_serial", "The last serial the secondary acknowledged.",
            static_cast<double>(c.last_acked_serial), secondary);
  }
}

}  // namespace discodns::daemon
