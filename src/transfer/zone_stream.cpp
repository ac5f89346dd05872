#include "transfer/zone_stream.hpp"

#include <cstring>

#include "wire/types.hpp"

namespace discodns::transfer {
namespace {

using catalog::ZoneRecord;

// Message size without TSIG: a little under 64 KiB. With TSIG, ldns renders each message
// again to sign it and may compress less well than we do: leave it ample room.
constexpr std::size_t kMessageLimit = 65535 - 64;
constexpr std::size_t kSignedMessageLimit = 16384;

class AxfrRecords final : public RecordSource {
 public:
  AxfrRecords(std::shared_ptr<const catalog::Snapshot> snapshot, std::uint32_t ttl)
      : snapshot_(std::move(snapshot)), ttl_(ttl), soa_(catalog::soa_record(*snapshot_)) {
    blocks_.reserve(snapshot_->services.size() + 1);
    blocks_.push_back(snapshot_->zone.get());
    snapshot_->services.for_each([&](const std::string&, const catalog::ServiceEntry& entry) {
      if (entry.block) blocks_.push_back(entry.block.get());
    });
  }

  std::optional<ZoneRecord> peek() override {
    if (phase_ == Phase::kFirstSoa || phase_ == Phase::kLastSoa) return soa_;
    while (phase_ == Phase::kBlocks && record_ == records_.size()) {
      if (block_ == blocks_.size()) {
        phase_ = Phase::kLastSoa;
        return soa_;
      }
      catalog::zone_records(*snapshot_, *blocks_[block_++], ttl_, records_);
      record_ = 0;
    }
    if (phase_ == Phase::kDone) return std::nullopt;
    return records_[record_];
  }

  void pop() override {
    switch (phase_) {
      case Phase::kFirstSoa:
        phase_ = Phase::kBlocks;
        break;
      case Phase::kBlocks:
        ++record_;
        break;
      case Phase::kLastSoa:
        phase_ = Phase::kDone;
        break;
      case Phase::kDone:
        break;
    }
  }

 private:
  enum class Phase { kFirstSoa, kBlocks, kLastSoa, kDone };
  std::shared_ptr<const catalog::Snapshot> snapshot_;
  std::uint32_t ttl_;
  ZoneRecord soa_;
  std::vector<const catalog::Block*> blocks_;  // the zone file's first
  std::size_t block_ = 0;
  std::vector<ZoneRecord> records_;  // of blocks_[block_ - 1]
  std::size_t record_ = 0;
  Phase phase_ = Phase::kFirstSoa;
};

class IxfrRecords final : public RecordSource {
 public:
  IxfrRecords(std::shared_ptr<const catalog::Snapshot> snapshot,
              std::shared_ptr<const Journal> journal, std::vector<const catalog::ZoneDelta*> chain)
      : snapshot_(std::move(snapshot)), journal_(std::move(journal)) {
    catalog::append_encoded(soa_, catalog::soa_record(*snapshot_));
    lists_.push_back(soa_);
    for (const auto* delta : chain)
      lists_.push_back(delta->records);
    lists_.push_back(soa_);
  }

  std::optional<ZoneRecord> peek() override {
    while (list_ < lists_.size() && pos_ == lists_[list_].size()) {
      ++list_;
      pos_ = 0;
    }
    if (list_ == lists_.size()) return std::nullopt;
    std::size_t pos = pos_;
    ZoneRecord r = catalog::read_encoded(lists_[list_], pos);
    next_pos_ = pos;
    return r;
  }

  void pop() override { pos_ = next_pos_; }

 private:
  std::shared_ptr<const catalog::Snapshot> snapshot_;
  std::shared_ptr<const Journal> journal_;
  std::vector<std::uint8_t> soa_;
  std::vector<std::span<const std::uint8_t>> lists_;
  std::size_t list_ = 0;
  std::size_t pos_ = 0;
  std::size_t next_pos_ = 0;
};

}  // namespace

std::unique_ptr<RecordSource> axfr_records(std::shared_ptr<const catalog::Snapshot> snapshot,
                                           std::uint32_t synthesized_ttl) {
  return std::make_unique<AxfrRecords>(std::move(snapshot), synthesized_ttl);
}

std::unique_ptr<RecordSource> ixfr_records(std::shared_ptr<const catalog::Snapshot> snapshot,
                                           std::shared_ptr<const Journal> journal,
                                           std::vector<const catalog::ZoneDelta*> chain) {
  return std::make_unique<IxfrRecords>(std::move(snapshot), std::move(journal), std::move(chain));
}

ZoneStream::ZoneStream(std::unique_ptr<RecordSource> records, StreamSetup setup)
    : records_(std::move(records)), setup_(std::move(setup)) {}

std::size_t ZoneStream::next(std::span<std::uint8_t> out) {
  if (done_ || !records_->peek()) return 0;
  const bool signing = setup_.signer.has_value();
  const std::size_t limit = signing ? kSignedMessageLimit : kMessageLimit;
  std::span<const std::uint8_t> question;
  if (first_) question = setup_.question;
  writer_.begin(out, limit, setup_.id, wire::flag::kQr | wire::flag::kAa, question);
  first_ = false;
  while (auto record = records_->peek()) {
    if (!writer_.add(*record)) break;
    records_->pop();
  }
  // A record too large for an empty message cannot be sent at all: end the stream (the
  // client sees no final SOA and discards the transfer) rather than loop.
  if (writer_.records() == 0) done_ = true;
  std::size_t size = writer_.finish();
  if (signing) {
    const std::int64_t now_s = setup_.clock->now_ns() / common::kNanosPerSecond;
    size = setup_.signer->sign(out, size, now_s);
    if (size == 0) done_ = true;
  }
  if (setup_.counters != nullptr) {
    setup_.counters->messages.fetch_add(1, std::memory_order_relaxed);
    setup_.counters->bytes.fetch_add(size, std::memory_order_relaxed);
  }
  return size;
}

std::size_t OneMessage::next(std::span<std::uint8_t> out) {
  if (sent_ || message_.size() > out.size()) return 0;
  sent_ = true;
  std::memcpy(out.data(), message_.data(), message_.size());
  return message_.size();
}

}  // namespace discodns::transfer
