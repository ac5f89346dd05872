// The bytes of a DNS NOTIFY (RFC 1996): building the message a primary sends, and reading the
// header of the answer a secondary returns. Pure functions, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace discodns::transfer {

inline constexpr std::uint8_t kOpcodeNotify = 4;

// Writes a NOTIFY for the zone `apex_wire` (its lower-case wire-format name) into `out`: opcode
// NOTIFY, AA set, one question (apex SOA IN) and no answer section, as most primaries send it
// (RFC 1996 §3.7 makes the SOA answer optional; secondaries query the SOA anyway). `serial` is
// not in the message then; it is the caller's record of what the message announces. Returns
// the message size, 0 when `out` is too small or `apex_wire` is not a name.
std::size_t build_notify(std::span<std::uint8_t> out, std::uint16_t id, std::string_view apex_wire,
                         std::uint32_t serial);

struct NotifyAnswer {
  std::uint16_t id = 0;
  std::uint8_t rcode = 0;
};

// The id and rcode of `message` when it is a response (QR=1) with opcode NOTIFY; none for
// anything else (a query, another opcode, fewer than 12 bytes).
std::optional<NotifyAnswer> read_notify_answer(std::span<const std::uint8_t> message);

}  // namespace discodns::transfer
