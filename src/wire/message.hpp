// parse_query: the hand-written parser on the hot path. Reads a query's header, its one
// question, an IXFR query's SOA and its OPT record without allocating, never past the end of
// the packet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/types.hpp"

namespace discodns::wire {

enum class ParseStatus : std::uint8_t {
  kOk,
  kDrop,     // too short for a header, or a response (QR=1): never answer (RFC 1035 §4.1.1)
  kFormErr,  // header can be echoed; question may or may not be (question_length != 0)
  kNotImp,   // opcode other than QUERY
  kBadVers,  // EDNS version > 0 (RFC 6891 §6.1.3)
  // QDCOUNT=0 with only a COOKIE option: the client asks for a server cookie (RFC 7873 §5.4).
  kCookieOnly,
};

struct QueryView {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;  // as received
  std::uint8_t opcode = 0;
  // The question, when it parsed: it starts at offset 12 and is copied to the response as is
  // (so the client's letter case survives).
  std::size_t question_length = 0;                 // qname + 4, or 0 when the question is unusable
  std::size_t qname_length = 0;                    // wire octets including the root label
  std::array<char, kMaxNameLength> qname_lower{};  // lower-cased copy for lookups
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;

  // IXFR (RFC 1995 §3): the client's SOA in the authority section, and its serial.
  bool has_ixfr_soa = false;
  std::uint32_t ixfr_serial = 0;

  // With kFormErr: true only when the OPT itself parsed (then the FORMERR carries one).
  bool has_opt = false;
  bool has_tsig = false;  // an additional record of type TSIG (RFC 8945): the caller checks it
  std::uint16_t udp_payload = 0;  // as asked, before the 512 floor
  std::uint8_t edns_version = 0;
  bool dnssec_ok = false;
  // RFC 7873: client cookie (8 octets) and, if sent back to us, the server cookie after it.
  std::uint8_t cookie_length = 0;  // 0 = no cookie option
  std::array<std::uint8_t, 40> cookie{};
  bool tcp_keepalive = false;  // RFC 7828 option present
  bool nsid = false;           // RFC 5001: an empty NSID option asks for our NSID
};

ParseStatus parse_query(std::span<const std::uint8_t> packet, QueryView& out) noexcept;

}  // namespace discodns::wire
