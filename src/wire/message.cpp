#include "wire/message.hpp"

#include "wire/bytes.hpp"
#include "wire/name.hpp"

namespace discodns::wire {
namespace {

// Skips a possibly compressed name in a record we do not otherwise read. A pointer ends the
// name, so loops cannot happen here; we never follow pointers.
bool skip_name(std::span<const std::uint8_t> p, std::size_t& pos) {
  std::size_t octets = 0;
  while (pos < p.size()) {
    std::uint8_t len = p[pos];
    if ((len & 0xC0) == 0xC0) {
      if (pos + 2 > p.size()) return false;
      pos += 2;
      return true;
    }
    if ((len & 0xC0) != 0) return false;  // 01/10 label types are not defined (RFC 6891 §5)
    octets += len + 1;
    if (octets > kMaxNameLength) return false;
    pos += len + 1;
    if (len == 0) return true;
  }
  return false;
}

// Reads the OPT record's fixed part and options (RFC 6891 §6.1.2).
bool read_opt(std::span<const std::uint8_t> p, std::size_t pos, std::uint16_t klass,
              std::uint32_t ttl, std::uint16_t rdlength, QueryView& q) {
  q.has_opt = true;
  q.udp_payload = klass;
  q.edns_version = static_cast<std::uint8_t>(ttl >> 16);
  q.dnssec_ok = (ttl & 0x8000) != 0;
  std::size_t end = pos + rdlength;
  while (pos < end) {
    if (end - pos < 4) return false;
    std::uint16_t code = read_u16(&p[pos]);
    std::uint16_t length = read_u16(&p[pos + 2]);
    pos += 4;
    if (end - pos < length) return false;
    if (code == edns::kOptionCookie) {
      // Client cookie 8 octets, optionally a server cookie of 8..32 (RFC 7873 §5.2.2).
      if (length != 8 && (length < 16 || length > 40)) return false;
      for (std::size_t i = 0; i < length; ++i)
        q.cookie[i] = p[pos + i];
      q.cookie_length = static_cast<std::uint8_t>(length);
    } else if (code == edns::kOptionTcpKeepalive) {
      q.tcp_keepalive = true;  // a client must send it empty; any length is tolerated
    } else if (code == edns::kOptionNsid) {
      q.nsid = length == 0;  // RFC 5001 §2.1: a request is empty; anything else is ignored
    }
    pos += length;  // unknown options are ignored (RFC 6891 §6.1.2)
  }
  return true;
}

// The fixed part of a resource record; `pos` moves to its RDATA, which lies in the packet.
struct RecordHead {
  std::size_t owner = 0;
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  std::uint32_t ttl = 0;
  std::uint16_t rdlength = 0;
};

bool read_record_head(std::span<const std::uint8_t> p, std::size_t& pos, RecordHead& r) {
  r.owner = pos;
  if (!skip_name(p, pos)) return false;
  if (p.size() - pos < 10) return false;
  r.type = read_u16(&p[pos]);
  r.klass = read_u16(&p[pos + 2]);
  r.ttl = read_u32(&p[pos + 4]);
  r.rdlength = read_u16(&p[pos + 8]);
  pos += 10;
  return p.size() - pos >= r.rdlength;
}

// An IXFR query's authority record: the client's SOA, whose serial follows two names.
bool read_ixfr_soa(std::span<const std::uint8_t> p, std::size_t pos, const RecordHead& r,
                   QueryView& q) {
  if (r.type != type::kSoa) return false;
  std::size_t end = pos + r.rdlength;
  if (!skip_name(p, pos) || !skip_name(p, pos) || pos > end || end - pos != 20) return false;
  q.has_ixfr_soa = true;
  q.ixfr_serial = read_u32(&p[pos]);
  return true;
}

// The question, copied lower-cased into q.qname_lower: labels only, no compression (nothing
// precedes it to point at).
bool read_question(std::span<const std::uint8_t> p, std::size_t& pos, QueryView& q) {
  std::size_t name_length = 0;
  for (;;) {
    if (pos >= p.size()) return false;
    std::uint8_t len = p[pos];
    if (len > kMaxLabelLength) return false;
    if (name_length + len + 1 > kMaxNameLength || pos + 1 + len > p.size()) return false;
    q.qname_lower[name_length] = static_cast<char>(len);
    for (std::size_t i = 1; i <= len; ++i) {
      q.qname_lower[name_length + i] = ascii_lower(static_cast<char>(p[pos + i]));
    }
    name_length += len + 1;
    pos += len + 1;
    if (len == 0) break;
  }
  if (p.size() - pos < 4) return false;
  q.qname_length = name_length;
  q.qtype = read_u16(&p[pos]);
  q.qclass = read_u16(&p[pos + 2]);
  pos += 4;
  q.question_length = pos - kHeaderSize;
  return true;
}

}  // namespace

ParseStatus parse_query(std::span<const std::uint8_t> p, QueryView& q) noexcept {
  if (p.size() < kHeaderSize) return ParseStatus::kDrop;
  q.id = read_u16(&p[0]);
  q.flags = read_u16(&p[2]);
  if (q.flags & flag::kQr) return ParseStatus::kDrop;
  q.opcode = static_cast<std::uint8_t>((q.flags >> 11) & 0xF);
  std::uint16_t qdcount = read_u16(&p[4]);
  std::uint16_t ancount = read_u16(&p[6]);
  std::uint16_t nscount = read_u16(&p[8]);
  std::uint16_t arcount = read_u16(&p[10]);
  if (qdcount != 1 && q.opcode != 0) return ParseStatus::kNotImp;

  std::size_t pos = kHeaderSize;
  if (qdcount == 1 && !read_question(p, pos, q)) return ParseStatus::kFormErr;
  if (q.opcode != 0) return ParseStatus::kNotImp;
  // More than one question is FORMERR; they are skipped (not echoed) only to reach the OPT.
  for (std::uint16_t i = 0; qdcount > 1 && i < qdcount; ++i) {
    if (!skip_name(p, pos) || p.size() - pos < 4) return ParseStatus::kFormErr;
    pos += 4;
  }
  // A query carries no answer or authority records (RFC 1035 §4.1; updates use opcode 5),
  // except IXFR's one SOA (RFC 1995 §3). Others are FORMERR, but the OPT is still read.
  bool ixfr = qdcount == 1 && q.qtype == type::kIxfr && ancount == 0 && nscount == 1;
  bool malformed = qdcount > 1 || ((ancount != 0 || nscount != 0) && !ixfr);
  const std::uint32_t before_additional = std::uint32_t{ancount} + nscount;
  for (std::uint32_t i = 0; i < before_additional + arcount; ++i) {
    RecordHead r;
    if (!read_record_head(p, pos, r)) return ParseStatus::kFormErr;
    if (i < before_additional) {
      if (ixfr && !read_ixfr_soa(p, pos, r, q)) malformed = true;
    } else if (r.type == type::kTsig) {
      q.has_tsig = true;
    } else if (r.type == type::kOpt) {
      // Exactly one OPT, owned by the root (RFC 6891 §6.1.1). A broken OPT, or a second one,
      // is answered without OPT (RFC 6891 §7: a problem with the OPT itself MUST NOT get
      // one back, so the client can tell it from a server without EDNS).
      bool first = !q.has_opt && p[r.owner] == 0 && pos - r.owner == 11;
      if (!first || !read_opt(p, pos, r.klass, r.ttl, r.rdlength, q)) {
        q.has_opt = false;
        return ParseStatus::kFormErr;
      }
    }
    pos += r.rdlength;
  }
  if (pos != p.size() || malformed) return ParseStatus::kFormErr;  // e.g. trailing garbage
  if (q.has_opt && q.edns_version > 0) return ParseStatus::kBadVers;
  if (qdcount == 0) return q.cookie_length != 0 ? ParseStatus::kCookieOnly : ParseStatus::kFormErr;
  return ParseStatus::kOk;
}

}  // namespace discodns::wire
