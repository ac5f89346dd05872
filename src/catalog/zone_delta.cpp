#include "catalog/zone_delta.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "catalog/zone_records.hpp"

namespace discodns::catalog {
namespace {

// A block as seen by one snapshot (its freshness slots live in the snapshot).
struct BlockView {
  const Snapshot* snapshot = nullptr;
  const Block* block = nullptr;
};

// The slots whose record is late in one table and not in the other, in order: a renew seen
// late, or a late instance renewing, without a compile (the block stays the same object).
// Chunks both tables hold are equal and skipped; slots past the older table belong to blocks
// compiled since, which differ anyway.
std::vector<std::uint32_t> lateness_changes(const FreshnessTable& a, const FreshnessTable& b) {
  std::vector<std::uint32_t> out;
  const std::uint32_t size = std::min(a.size(), b.size());
  for (std::uint32_t slot = 0; slot < size; ++slot) {
    const std::size_t chunk = slot >> FreshnessTable::kChunkBits;
    if (a.shares_chunk(b, chunk)) {
      slot = static_cast<std::uint32_t>(((chunk + 1) << FreshnessTable::kChunkBits) - 1);
      continue;
    }
    if ((a.at(slot) == kLate) != (b.at(slot) == kLate)) out.push_back(slot);
  }
  return out;
}

// Whether one of `slots` (sorted) is one of the block's.
bool has_slot_in(const Block& block, const std::vector<std::uint32_t>& slots) {
  if (block.fresh_base == kNone) return false;
  auto it = std::lower_bound(slots.begin(), slots.end(), block.fresh_base);
  return it != slots.end() && *it < block.fresh_base + block.records.size();
}

class DeltaBuilder {
 public:
  DeltaBuilder(const Snapshot& before, const Snapshot& after, const DeltaLimits& limits)
      : before_(before), after_(after), limits_(limits) {}

  std::optional<ZoneDelta> run() {
    std::vector<std::pair<BlockView, BlockView>> changed;
    changed.push_back({{&before_, before_.zone.get()}, {&after_, after_.zone.get()}});
    bool too_many = false;
    const auto late_slots = lateness_changes(before_.fresh, after_.fresh);
    after_.services.compare(
        before_.services, !late_slots.empty(),
        [&](std::string_view, const ServiceEntry* now, const ServiceEntry* then, bool shared) {
          if (too_many) return;
          const Block* new_block = now != nullptr ? now->block.get() : nullptr;
          const Block* old_block = then != nullptr ? then->block.get() : nullptr;
          if (shared || new_block == old_block) {
            if (new_block == nullptr || !has_slot_in(*new_block, late_slots)) return;
          }
          changed.push_back({{&before_, old_block}, {&after_, new_block}});
          too_many = changed.size() > limits_.max_services;
        });
    if (too_many) return std::nullopt;
    delta_.from_serial = before_.serial;
    delta_.to_serial = after_.serial;
    append_encoded(delta_.records, soa_record(before_));
    for (auto& [old_view, new_view] : changed)
      diff(old_view, new_view);
    append_encoded(delta_.records, soa_record(after_));
    for (const std::string& r : added_)
      delta_.records.insert(delta_.records.end(), r.begin(), r.end());
    if (delta_.records.size() > limits_.max_bytes) return std::nullopt;
    return std::move(delta_);
  }

 private:
  // The deletions go to the delta at once (they come first); additions wait for the new SOA.
  void diff(const BlockView& old_view, const BlockView& new_view) {
    encode(old_view, old_);
    encode(new_view, new_);
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < old_.size() || j < new_.size()) {
      if (j == new_.size() || (i < old_.size() && old_[i] < new_[j])) {
        delta_.records.insert(delta_.records.end(), old_[i].begin(), old_[i].end());
        ++delta_.deleted;
        ++i;
      } else if (i == old_.size() || new_[j] < old_[i]) {
        added_.push_back(std::move(new_[j]));
        ++delta_.added;
        ++j;
      } else {
        ++i;
        ++j;
      }
    }
  }

  // Each record's encoding, sorted: the two sides are then merged like sorted sets.
  void encode(const BlockView& view, std::vector<std::string>& out) {
    out.clear();
    if (view.block == nullptr) return;
    zone_records(*view.snapshot, *view.block, limits_.synthesized_ttl, records_);
    for (const ZoneRecord& r : records_) {
      bytes_.clear();
      append_encoded(bytes_, r);
      out.emplace_back(bytes_.begin(), bytes_.end());
    }
    std::sort(out.begin(), out.end());
  }

  const Snapshot& before_;
  const Snapshot& after_;
  const DeltaLimits& limits_;
  ZoneDelta delta_;
  std::vector<std::string> added_;
  std::vector<std::string> old_, new_;
  std::vector<ZoneRecord> records_;
  std::vector<std::uint8_t> bytes_;
};

}  // namespace

std::optional<ZoneDelta> zone_delta(const Snapshot& before, const Snapshot& after,
                                    const DeltaLimits& limits) {
  if (before.soa_rrset == kNone || after.soa_rrset == kNone) return std::nullopt;
  return DeltaBuilder(before, after, limits).run();
}

}  // namespace discodns::catalog
