// Tells an operator which replica answered: CHAOS TXT id.server. / hostname.bind. /
// version.bind. (RFC 4892) and the EDNS NSID option (RFC 5001), each off unless configured.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "query/engine.hpp"
#include "wire/bytes.hpp"

namespace discodns::query {

// The text a CH TXT question for `qname` (lower-cased wire form) is answered with; empty when
// the name is not one of ours or its text is not configured (the caller answers REFUSED).
std::span<const std::uint8_t> chaos_text(std::string_view qname, const Limits& limits) noexcept;

// Writes the CH TXT answer record (owner: the question, TTL 0); false when it does not fit.
bool write_chaos_txt(wire::Writer& w, std::span<const std::uint8_t> text) noexcept;

// Octets our NSID option adds to the OPT: 0 unless the query asked and an NSID is configured.
std::size_t nsid_size(bool requested, const Limits& limits) noexcept;

// Appends the NSID option to an OPT being written, when nsid_size says so.
void write_nsid(wire::Writer& w, bool requested, const Limits& limits) noexcept;

}  // namespace discodns::query
