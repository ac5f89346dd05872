// What one publish changed in the transferred zone (catalog/zone_records.hpp), as IXFR sends it
// (RFC 1995 §4): the old SOA, the records gone, the new SOA, the records added. Found from what
// the two snapshots do not share: service blocks compiled again, blocks whose freshness slots
// changed whether a record is late, services gone or new, and the zone file's block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "catalog/snapshot.hpp"

namespace discodns::catalog {

struct ZoneDelta {
  std::uint32_t from_serial = 0;
  std::uint32_t to_serial = 0;
  std::vector<std::uint8_t> records;  // encoded (zone_records.hpp), both SOAs included
  std::uint32_t deleted = 0;          // records gone (SOA not counted)
  std::uint32_t added = 0;            // records new (SOA not counted)
};

struct DeltaLimits {
  std::uint32_t synthesized_ttl = 30;
  std::size_t max_bytes = 16u << 20;
  // More services changed than this and the delta is not worth building (a full build after a
  // zone reload touches every block): secondaries take an AXFR instead.
  std::size_t max_services = 10'000;
};

// The delta from `before` to `after`, or nullopt when it would break a limit.
std::optional<ZoneDelta> zone_delta(const Snapshot& before, const Snapshot& after,
                                    const DeltaLimits& limits);

}  // namespace discodns::catalog
