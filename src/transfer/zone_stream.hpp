// The answer to a zone transfer as a stream of messages, made one at a time from a snapshot
// the stream holds: AXFR (RFC 5936: SOA, every record, SOA) or IXFR (RFC 1995: SOA, then per
// delta the old SOA, deletions, the new SOA, additions, and SOA again). Never the whole zone in
// memory twice: an AXFR holds a list of block pointers and one block's records at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "catalog/snapshot.hpp"
#include "catalog/zone_delta.hpp"
#include "catalog/zone_records.hpp"
#include "common/clock.hpp"
#include "server/transfer_hook.hpp"
#include "transfer/journal.hpp"
#include "transfer/message_writer.hpp"
#include "transfer/tsig.hpp"

namespace discodns::transfer {

// Where records come from, one at a time.
class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // The next record, or nullopt at the end; stays the next one until pop().
  virtual std::optional<catalog::ZoneRecord> peek() = 0;
  virtual void pop() = 0;
};

// The whole zone: SOA, the zone file's records, every service block's, SOA.
std::unique_ptr<RecordSource> axfr_records(std::shared_ptr<const catalog::Snapshot> snapshot,
                                           std::uint32_t synthesized_ttl);
// SOA, the deltas in order, SOA. The journal keeps the deltas alive.
std::unique_ptr<RecordSource> ixfr_records(std::shared_ptr<const catalog::Snapshot> snapshot,
                                           std::shared_ptr<const Journal> journal,
                                           std::vector<const catalog::ZoneDelta*> chain);

// Bytes and messages sent, for metrics; shared by every stream of one handler.
struct StreamCounters {
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> bytes{0};
};

struct StreamSetup {
  std::uint16_t id = 0;
  std::vector<std::uint8_t> question;    // as the query carried it
  std::optional<TsigSigner> signer;      // every message signed when set
  const common::Clock* clock = nullptr;  // TSIG time
  StreamCounters* counters = nullptr;
};

class ZoneStream final : public server::MessageStream {
 public:
  ZoneStream(std::unique_ptr<RecordSource> records, StreamSetup setup);
  std::size_t next(std::span<std::uint8_t> out) override;

 private:
  std::unique_ptr<RecordSource> records_;
  StreamSetup setup_;
  MessageWriter writer_;
  bool first_ = true;
  bool done_ = false;
};

// A one-message answer (a refusal, an error, a lone SOA).
class OneMessage final : public server::MessageStream {
 public:
  explicit OneMessage(std::vector<std::uint8_t> message) : message_(std::move(message)) {}
  std::size_t next(std::span<std::uint8_t> out) override;

 private:
  std::vector<std::uint8_t> message_;
  bool sent_ = false;
};

}  // namespace discodns::transfer
