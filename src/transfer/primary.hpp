// discodns as a hidden primary, the serving side: decides how each AXFR and IXFR over TCP is
// answered (allow-list, TSIG, AXFR, IXFR from the journal, the AXFR fall-back, "up to date")
// and keeps the IXFR journal, one delta per publish, on the update thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/address_prefix.hpp"
#include "common/clock.hpp"
#include "query/store.hpp"
#include "server/transfer_hook.hpp"
#include "transfer/journal.hpp"
#include "transfer/tsig.hpp"
#include "transfer/zone_stream.hpp"
#include "wire/message.hpp"

namespace discodns::transfer {

struct PrimaryOptions {
  std::vector<common::AddressPrefix> allow;  // sources that may transfer
  std::optional<TsigKey> key;                // then every transfer must be signed with it
  std::uint32_t synthesized_ttl = 30;        // TTL of transferred synthesized records
  JournalLimits journal;
};

// How a transfer was answered: the kind of answer, or why it was refused.
enum class TransferKind : std::uint8_t { kAxfr, kIxfr, kIxfrFull, kIxfrCurrent, kCount };
enum class TransferOutcome : std::uint8_t { kOk, kRefused, kNotAuth, kFormErr, kCount };

struct TransferMetrics {
  // [kind][outcome]; refusals are counted under the kind asked for (kAxfr or kIxfr).
  std::array<std::array<std::uint64_t, static_cast<std::size_t>(TransferOutcome::kCount)>,
             static_cast<std::size_t>(TransferKind::kCount)>
      transfers{};
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  std::uint64_t journal_changes = 0;  // deltas held
  std::uint64_t journal_bytes = 0;
  std::uint64_t journal_resets = 0;      // publishes without a delta (AXFR for everyone behind)
  std::uint64_t signed_answers = 0;      // answers to TSIG-signed queries (SOA checks), signed
  std::uint64_t unverified_queries = 0;  // TSIG-signed queries that did not verify: NOTAUTH
};

class Primary final : public server::TransferHandler {
 public:
  Primary(PrimaryOptions options, const query::SnapshotStore& store, const common::Clock& clock);

  // Update thread, before `next` is published: its delta from `previous` (null: none) joins the
  // journal, so any session that sees `next` also finds the delta that leads to it.
  void record_publish(const catalog::Snapshot* previous, const catalog::Snapshot& next);

  std::unique_ptr<server::MessageStream> start(std::span<const std::uint8_t> query,
                                               std::span<const std::uint8_t> client) override;

  std::size_t sign_answer(std::span<const std::uint8_t> query, std::span<std::uint8_t> answer,
                          std::size_t size) override;

  TransferMetrics metrics() const;

 private:
  bool allowed(std::span<const std::uint8_t> client) const;
  void count(TransferKind kind, TransferOutcome outcome);
  std::unique_ptr<server::MessageStream> answer(std::shared_ptr<const catalog::Snapshot> snapshot,
                                                const wire::QueryView& q, StreamSetup setup);

  PrimaryOptions options_;
  const query::SnapshotStore& store_;
  const common::Clock& clock_;
  JournalStore journal_;
  StreamCounters stream_counters_;
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(TransferKind::kCount) *
                                             static_cast<std::size_t>(TransferOutcome::kCount)>
      transfers_{};
  std::atomic<std::uint64_t> journal_resets_{0};
  std::atomic<std::uint64_t> signed_answers_{0};
  std::atomic<std::uint64_t> unverified_queries_{0};
};

}  // namespace discodns::transfer
