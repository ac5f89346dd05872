// Names of DNS codes for logs and metrics: the response codes and query types counted one by
// one, and "other" for the rest. Metrics label their counters in this order.
#pragma once

#include <cstddef>
#include <cstdint>

namespace discodns::wire {

inline constexpr const char* kRcodeNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                              "NOTIMP",  "REFUSED", "BADVERS",  "other"};
inline constexpr const char* kQtypeNames[] = {"A",   "AAAA", "SRV", "TXT",
                                              "SOA", "NS",   "ANY", "other"};

// Index into kRcodeNames / kQtypeNames; the last one ("other") for a code not named there.
std::size_t rcode_index(std::uint8_t rcode);
std::size_t qtype_index(std::uint16_t qtype);

}  // namespace discodns::wire
