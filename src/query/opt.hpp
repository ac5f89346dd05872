// Our OPT RR (RFC 6891): payload size, extended rcode, DO, and the options the query asked
// for (server cookie, edns-tcp-keepalive, NSID).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/clock.hpp"
#include "query/engine.hpp"
#include "wire/bytes.hpp"
#include "wire/message.hpp"

namespace discodns::query {

// Octets write_opt will write for this query: reserve them before the answer.
std::size_t opt_size(const wire::QueryView& q, const Limits& limits,
                     const QueryContext& ctx) noexcept;

// Appends the OPT with extended rcode bits of `code`; false when it did not fit.
bool write_opt(wire::Writer& w, std::uint8_t code, const wire::QueryView& q, const Limits& limits,
               const QueryContext& ctx, common::Nanos now) noexcept;

}  // namespace discodns::query
