// The zone's SOA serial: one that follows the data and never goes backwards (RFC 1982).
#pragma once

#include <cstdint>

#include "common/clock.hpp"

namespace discodns::catalog {

// Zone serials that follow the data and never go backwards: max(previous + 1, now in
// seconds, the zone file's serial), in RFC 1982 terms for the first step.
std::uint32_t next_serial(std::uint32_t previous, std::uint32_t zone_file_serial,
                          common::Nanos now_ns);

}  // namespace discodns::catalog
