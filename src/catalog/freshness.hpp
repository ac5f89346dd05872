// FreshnessTable: the good_until time (catalog/ttl_policy.hpp) of every synthesized record,
// kept beside the compiled blocks rather than in them, so that a reconcile in which only renew
// times moved rewrites numbers instead of recompiling answers.
//
// A block owns a run of slots, [Block::fresh_base, + its record count), for as long as it
// lives; slots are handed out at the end of the table, and a full build starts a new, compact
// table. Slots live in fixed-size chunks that snapshots share until one writes (as
// common::CowShards does for maps): refreshing one app copies one chunk, not the whole table.
// One writer thread per table, which writes in place only the chunks it created or copied
// since the table was last copied; copying a table clears the flags of both (the source's
// are `mutable`: they belong to the writer, and readers never look at them).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "catalog/ttl_policy.hpp"
#include "common/clock.hpp"

namespace discodns::catalog {

class FreshnessTable {
 public:
  static constexpr std::uint32_t kChunkBits = 12;  // 4,096 slots, 32 KiB a chunk
  static constexpr std::uint32_t kChunkSize = 1u << kChunkBits;
  using Chunk = std::array<common::Nanos, kChunkSize>;

  FreshnessTable() = default;
  FreshnessTable(const FreshnessTable& other)
      : chunks_(other.chunks_),
        owned_(other.chunks_.size(), false),
        size_(other.size_),
        dead_(other.dead_) {
    other.owned_.assign(other.owned_.size(), false);
  }
  FreshnessTable& operator=(const FreshnessTable& other) {
    if (this == &other) return *this;
    chunks_ = other.chunks_;
    owned_.assign(chunks_.size(), 0);
    other.owned_.assign(other.owned_.size(), 0);
    size_ = other.size_;
    dead_ = other.dead_;
    return *this;
  }

  // Query path: one slot's good_until.
  common::Nanos at(std::uint32_t slot) const {
    return (*chunks_[slot >> kChunkBits])[slot & (kChunkSize - 1)];
  }

  // Update path. `n` new slots at the end (kLate until set); returns the first.
  std::uint32_t allocate(std::uint32_t n) {
    const std::uint32_t base = size_;
    size_ += n;
    while (chunks_.size() * kChunkSize < size_) {
      chunks_.push_back(std::make_shared<Chunk>());
      chunks_.back()->fill(kLate);
      owned_.push_back(1);
    }
    return base;
  }
  void set(std::uint32_t slot, common::Nanos good_until) {
    writable(slot >> kChunkBits)[slot & (kChunkSize - 1)] = good_until;
  }
  // Slots [first, first + values.size()) = values.
  void assign(std::uint32_t first, std::span<const common::Nanos> values) {
    for (std::size_t done = 0; done < values.size();) {
      const std::uint32_t slot = first + static_cast<std::uint32_t>(done);
      const std::uint32_t offset = slot & (kChunkSize - 1);
      const std::size_t n = std::min<std::size_t>(kChunkSize - offset, values.size() - done);
      std::copy_n(values.data() + done, n, writable(slot >> kChunkBits).data() + offset);
      done += n;
    }
  }
  // A block went: its `n` slots are not reused until the next full build compacts.
  void release(std::uint32_t n) { dead_ += n; }

  std::uint32_t size() const { return size_; }  // slots handed out, live or dead
  std::uint32_t dead() const { return dead_; }
  // Whether chunk i is the very same (shared) object in both tables.
  bool shares_chunk(const FreshnessTable& other, std::size_t i) const {
    return i < chunks_.size() && i < other.chunks_.size() && chunks_[i] == other.chunks_[i];
  }
  std::size_t chunks() const { return chunks_.size(); }
  std::size_t memory_bytes() const { return chunks_.size() * sizeof(Chunk); }

 private:
  Chunk& writable(std::size_t chunk) {
    if (!owned_[chunk]) {
      chunks_[chunk] = std::make_shared<Chunk>(*chunks_[chunk]);
      owned_[chunk] = true;
    }
    return *chunks_[chunk];
  }

  std::vector<std::shared_ptr<Chunk>> chunks_;
  mutable std::vector<std::uint8_t> owned_;  // per chunk: 1 = this table may write it
  std::uint32_t size_ = 0;
  std::uint32_t dead_ = 0;
};

}  // namespace discodns::catalog
