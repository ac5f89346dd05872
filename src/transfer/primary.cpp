// A transfer query's way through Primary::start: parse -> the zone's apex? -> allow-list ->
// TSIG -> AXFR, or IXFR: up to date (SOA alone), from the journal, or the whole zone.
#include "transfer/primary.hpp"

#include <algorithm>

#include "catalog/snapshot.hpp"
#include "catalog/zone_delta.hpp"
#include "wire/bytes.hpp"
#include "wire/message.hpp"
#include "wire/types.hpp"

namespace discodns::transfer {
namespace {

constexpr std::uint8_t kNotAuth = 9;  // RFC 8945 §5.2: TSIG failures

std::size_t index_of(TransferKind kind, TransferOutcome outcome) {
  return static_cast<std::size_t>(kind) * static_cast<std::size_t>(TransferOutcome::kCount) +
         static_cast<std::size_t>(outcome);
}

// A one-message answer without records: the header (QR, the query's opcode and RD), the
// question, the rcode; a TSIG error record for NOTAUTH.
std::unique_ptr<server::MessageStream> refusal(std::span<const std::uint8_t> query,
                                               const wire::QueryView& q, std::uint8_t rcode,
                                               const TsigCheck* tsig, std::int64_t now_s) {
  std::vector<std::uint8_t> out(wire::kHeaderSize + q.question_length + kTsigReserve, 0);
  wire::put_u16(&out[0], q.id);
  wire::put_u16(
      &out[2], static_cast<std::uint16_t>(wire::flag::kQr | (q.flags & (0x7800 | wire::flag::kRd)) |
                                          (rcode & 0x0F)));
  wire::put_u16(&out[4], q.question_length != 0 ? 1 : 0);
  std::copy_n(query.begin() + wire::kHeaderSize, q.question_length,
              out.begin() + wire::kHeaderSize);
  std::size_t size = wire::kHeaderSize + q.question_length;
  if (tsig != nullptr) {
    std::size_t signed_size = append_error_tsig(out, size, *tsig, q.id, now_s);
    if (signed_size != 0) size = signed_size;
  }
  out.resize(size);
  return std::make_unique<OneMessage>(std::move(out));
}

// The apex SOA alone: an IXFR client that is up to date (RFC 1995 §2).
class SoaOnly final : public RecordSource {
 public:
  explicit SoaOnly(std::shared_ptr<const catalog::Snapshot> snapshot)
      : snapshot_(std::move(snapshot)), soa_(catalog::soa_record(*snapshot_)) {}
  std::optional<catalog::ZoneRecord> peek() override {
    if (done_) return std::nullopt;
    return soa_;
  }
  void pop() override { done_ = true; }

 private:
  std::shared_ptr<const catalog::Snapshot> snapshot_;
  catalog::ZoneRecord soa_;
  bool done_ = false;
};

}  // namespace

Primary::Primary(PrimaryOptions options, const query::SnapshotStore& store,
                 const common::Clock& clock)
    : options_(std::move(options)), store_(store), clock_(clock) {}

void Primary::record_publish(const catalog::Snapshot* previous, const catalog::Snapshot& next) {
  std::shared_ptr<const catalog::ZoneDelta> delta;
  if (previous != nullptr && options_.journal.max_changes > 0) {
    catalog::DeltaLimits limits;
    limits.synthesized_ttl = options_.synthesized_ttl;
    limits.max_bytes = options_.journal.max_bytes;
    if (auto found = catalog::zone_delta(*previous, next, limits))
      delta = std::make_shared<const catalog::ZoneDelta>(std::move(*found));
  }
  if (delta == nullptr) journal_resets_.fetch_add(1, std::memory_order_relaxed);
  journal_.publish(journal_.current()->with(std::move(delta), options_.journal));
}

bool Primary::allowed(std::span<const std::uint8_t> client) const {
  return std::any_of(options_.allow.begin(), options_.allow.end(),
                     [&](const common::AddressPrefix& p) { return p.contains(client); });
}

void Primary::count(TransferKind kind, TransferOutcome outcome) {
  transfers_[index_of(kind, outcome)].fetch_add(1, std::memory_order_relaxed);
}

std::unique_ptr<server::MessageStream> Primary::start(std::span<const std::uint8_t> query,
                                                      std::span<const std::uint8_t> client) {
  wire::QueryView q;
  if (wire::parse_query(query, q) != wire::ParseStatus::kOk) return nullptr;
  if (q.qtype != wire::type::kAxfr && q.qtype != wire::type::kIxfr) return nullptr;
  auto snapshot = store_.current();
  if (!snapshot || q.qclass != wire::klass::kIn ||
      std::string_view(q.qname_lower.data(), q.qname_length) != snapshot->apex) {
    return nullptr;  // the engine answers: REFUSED for names outside the zone
  }
  const TransferKind asked =
      q.qtype == wire::type::kAxfr ? TransferKind::kAxfr : TransferKind::kIxfr;
  const std::int64_t now_s = clock_.now_ns() / common::kNanosPerSecond;
  if (!allowed(client)) {
    count(asked, TransferOutcome::kRefused);
    return refusal(query, q, wire::rcode::kRefused, nullptr, now_s);
  }
  StreamSetup setup;
  TsigCheck tsig = verify_request(query, options_.key.value_or(TsigKey{}), now_s);
  if (tsig.malformed) {
    count(asked, TransferOutcome::kFormErr);
    return refusal(query, q, wire::rcode::kFormErr, nullptr, now_s);
  }
  if (tsig.present && (!options_.key || tsig.error != TsigError::kNone)) {
    if (!options_.key) tsig.error = TsigError::kBadKey;  // no key of that name here
    count(asked, TransferOutcome::kNotAuth);
    return refusal(query, q, kNotAuth, &tsig, now_s);
  }
  if (options_.key) {
    if (!tsig.present) {  // the key is required: an unsigned request is not allowed
      count(asked, TransferOutcome::kRefused);
      return refusal(query, q, wire::rcode::kRefused, nullptr, now_s);
    }
    setup.signer.emplace(*options_.key, std::move(tsig.mac));
  }
  setup.id = q.id;
  setup.question.assign(query.begin() + wire::kHeaderSize,
                        query.begin() + wire::kHeaderSize + q.question_length);
  setup.clock = &clock_;
  setup.counters = &stream_counters_;
  if (q.qtype == wire::type::kIxfr && !q.has_ixfr_soa) {
    count(asked, TransferOutcome::kFormErr);  // RFC 1995 §3: the client's SOA is required
    return refusal(query, q, wire::rcode::kFormErr, nullptr, now_s);
  }
  return answer(std::move(snapshot), q, std::move(setup));
}

std::unique_ptr<server::MessageStream> Primary::answer(
    std::shared_ptr<const catalog::Snapshot> snapshot, const wire::QueryView& q,
    StreamSetup setup) {
  if (q.qtype == wire::type::kAxfr) {
    count(TransferKind::kAxfr, TransferOutcome::kOk);
    return std::make_unique<ZoneStream>(axfr_records(snapshot, options_.synthesized_ttl),
                                        std::move(setup));
  }
  // RFC 1982: a client at our serial or past it is up to date.
  if (static_cast<std::int32_t>(q.ixfr_serial - snapshot->serial) >= 0) {
    count(TransferKind::kIxfrCurrent, TransferOutcome::kOk);
    return std::make_unique<ZoneStream>(std::make_unique<SoaOnly>(snapshot), std::move(setup));
  }
  auto journal = journal_.current();
  auto chain = journal->chain(q.ixfr_serial, snapshot->serial);
  if (chain.empty()) {  // older than the journal: the whole zone, in AXFR form (RFC 1995 §4)
    count(TransferKind::kIxfrFull, TransferOutcome::kOk);
    return std::make_unique<ZoneStream>(axfr_records(snapshot, options_.synthesized_ttl),
                                        std::move(setup));
  }
  count(TransferKind::kIxfr, TransferOutcome::kOk);
  return std::make_unique<ZoneStream>(ixfr_records(snapshot, std::move(journal), std::move(chain)),
                                      std::move(setup));
}

// The engine answered a signed query as any other; the answer is signed with the request's
// MAC, or, when the request does not verify, becomes a NOTAUTH with the TSIG error.
std::size_t Primary::sign_answer(std::span<const std::uint8_t> query,
                                 std::span<std::uint8_t> answer, std::size_t size) {
  const std::int64_t now_s = clock_.now_ns() / common::kNanosPerSecond;
  TsigCheck tsig = verify_request(query, options_.key.value_or(TsigKey{}), now_s);
  if (!tsig.present || tsig.malformed) return size;  // the engine's answer stands
  if (options_.key && tsig.error == TsigError::kNone) {
    TsigSigner signer(*options_.key, std::move(tsig.mac));
    if (std::size_t signed_size = signer.sign(answer, size, now_s)) {
      signed_answers_.fetch_add(1, std::memory_order_relaxed);
      return signed_size;
    }
    return 0;
  }
  if (!options_.key) tsig.error = TsigError::kBadKey;
  unverified_queries_.fetch_add(1, std::memory_order_relaxed);
  wire::QueryView q;
  wire::parse_query(query, q);
  auto message = refusal(query, q, kNotAuth, &tsig, now_s);
  return message->next(answer);
}

TransferMetrics Primary::metrics() const {
  TransferMetrics m;
  for (std::size_t k = 0; k < m.transfers.size(); ++k)
    for (std::size_t o = 0; o < m.transfers[k].size(); ++o)
      m.transfers[k][o] =
          transfers_[index_of(static_cast<TransferKind>(k), static_cast<TransferOutcome>(o))].load(
              std::memory_order_relaxed);
  m.messages = stream_counters_.messages.load(std::memory_order_relaxed);
  m.bytes = stream_counters_.bytes.load(std::memory_order_relaxed);
  auto journal = journal_.current();
  m.journal_changes = journal->size();
  m.journal_bytes = journal->bytes();
  m.journal_resets = journal_resets_.load(std::memory_order_relaxed);
  m.signed_answers = signed_answers_.load(std::memory_order_relaxed);
  m.unverified_queries = unverified_queries_.load(std::memory_order_relaxed);
  return m;
}

}  // namespace discodns::transfer
