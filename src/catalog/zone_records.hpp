// The zone as secondaries get it: every record a snapshot serves, as one list per block, with
// lateness applied as the snapshot was built (a late instance is left out while a punctual one
// of its RRset remains, as answers do) and one fixed TTL for synthesized records, which a
// secondary cannot count down from renew times. Also the byte form IXFR journals keep records
// in. Update path and transfer sessions only; the query path never calls this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "catalog/snapshot.hpp"

namespace discodns::catalog {

// One resource record (class IN), pointing into a block or an encoded list. RDATA is `rdata`
// followed by `rdata_tail` (an SRV target kept by reference; empty otherwise).
struct ZoneRecord {
  std::string_view owner;  // lower-cased wire name
  std::uint16_t type = 0;
  std::uint32_t ttl = 0;
  std::span<const std::uint8_t> rdata;
  std::string_view rdata_tail;

  std::size_t rdata_size() const { return rdata.size() + rdata_tail.size(); }
};

// Appends the records `block` contributes to the transferred zone to `out` (cleared first), in
// node order. The zone block's SOA is left out (a transfer places it itself). Synthesized
// records get `synthesized_ttl`; zone file records keep their own.
void zone_records(const Snapshot& snapshot, const Block& block, std::uint32_t synthesized_ttl,
                  std::vector<ZoneRecord>& out);

// The apex SOA with its TTL, as a record.
ZoneRecord soa_record(const Snapshot& snapshot);

// Encoded records: owner (uncompressed wire), type, TTL, RDATA length, RDATA; back to back.
void append_encoded(std::vector<std::uint8_t>& out, const ZoneRecord& record);
// The record at `pos` of an encoded list, advancing `pos`; the list came from append_encoded.
ZoneRecord read_encoded(std::span<const std::uint8_t> list, std::size_t& pos);

}  // namespace discodns::catalog
