// TSIG (RFC 8945): finds and reads a message's TSIG RR by hand, has ldns compute or check the
// MAC, and writes the unsigned TSIG RR of an error answer.
#include "transfer/tsig.hpp"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "wire/bytes.hpp"
#include "wire/name.hpp"
#include "wire/types.hpp"

// Last: ldns's headers define macros (bool/false) that break later standard headers.
#include <ldns/ldns.h>

namespace discodns::transfer {
namespace {

constexpr std::uint16_t kTypeTsig = 250;
constexpr std::uint16_t kFudge = 300;  // seconds, as RFC 8945 §10 recommends
constexpr std::size_t kMacRdf = 3;     // index of the MAC (size + bytes) among the TSIG's RDATA
// ldns digests into a buffer of LDNS_MAX_PACKETLEN that it writes without bounds checks: the
// message, a prior MAC (size + up to 64 octets) and two uncompressed names must fit in it.
constexpr std::size_t kDigestExtra = 2 + 64 + 2 * wire::kMaxNameLength + 32;

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct BytesFree {
  void operator()(std::uint8_t* p) const { std::free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;
using Rdf = std::unique_ptr<ldns_rdf, RdfFree>;
using Bytes = std::unique_ptr<std::uint8_t, BytesFree>;

// A TSIG RR as read from the wire; names lower-cased, in uncompressed wire form.
struct TsigRecord {
  std::string owner;
  std::string algorithm;
  std::uint64_t time_signed = 0;
  std::uint16_t fudge = 0;
  std::vector<std::uint8_t> mac;
  std::uint16_t original_id = 0;
  std::uint16_t error = 0;
};

enum class Found {
  kAbsent,     // the message's records hold no TSIG
  kBroken,     // the records the header counts are not all there (no TSIG seen before that)
  kMalformed,  // a TSIG that is not the last record, or that does not parse
  kTsig,
};

// Skips a possibly compressed name; a pointer ends it, so it is never followed.
bool skip_name(std::span<const std::uint8_t> m, std::size_t& pos) {
  for (std::size_t octets = 0; pos < m.size();) {
    const std::uint8_t len = m[pos];
    if ((len & 0xC0) == 0xC0) {
      pos += 2;
      return pos <= m.size();
    }
    if ((len & 0xC0) != 0 || (octets += len + 1) > wire::kMaxNameLength) return false;
    pos += len + 1;
    if (len == 0) return pos <= m.size();
  }
  return false;
}

// Reads a possibly compressed name into `out` (lower-cased wire form) and moves `pos` past it.
// Pointers may only point backwards, and the name stays within 255 octets, so this ends.
bool read_name(std::span<const std::uint8_t> m, std::size_t& pos, std::string& out) {
  out.clear();
  std::size_t at = pos;
  bool jumped = false;
  while (at < m.size()) {
    const std::uint8_t len = m[at];
    if ((len & 0xC0) == 0xC0) {
      if (at + 2 > m.size()) return false;
      const std::size_t target = (std::size_t{len & 0x3Fu} << 8) | m[at + 1];
      if (target >= at) return false;
      if (!jumped) pos = at + 2;
      jumped = true;
      at = target;
      continue;
    }
    if ((len & 0xC0) != 0 || at + 1 + len > m.size()) return false;
    if (out.size() + len + 1 > wire::kMaxNameLength) return false;
    out.push_back(static_cast<char>(len));
    for (std::size_t k = 1; k <= len; ++k)
      out.push_back(wire::ascii_lower(static_cast<char>(m[at + k])));
    at += len + 1;
    if (len == 0) {
      if (!jumped) pos = at;
      return true;
    }
  }
  return false;
}

// The TSIG RR starting at `start` whose RDATA is `rdata`: class ANY, and RDATA holding exactly
// the fields of RFC 8945 §4.2.
bool read_tsig(std::span<const std::uint8_t> m, std::size_t start, std::span<const std::uint8_t> rd,
               TsigRecord& out) {
  std::size_t pos = start;
  if (!read_name(m, pos, out.owner) || wire::read_u16(&m[pos + 2]) != wire::klass::kAny) {
    return false;
  }
  // The algorithm is read within the RDATA (which ends the message): any pointer in it points
  // backwards, hence still into `m`.
  auto upto = m.first(static_cast<std::size_t>(rd.data() + rd.size() - m.data()));
  std::size_t p = static_cast<std::size_t>(rd.data() - m.data());
  if (!read_name(upto, p, out.algorithm) || p + 10 > upto.size()) return false;
  out.time_signed = (std::uint64_t{wire::read_u16(&m[p])} << 32) | wire::read_u32(&m[p + 2]);
  out.fudge = wire::read_u16(&m[p + 6]);
  const std::size_t mac_size = wire::read_u16(&m[p + 8]);
  p += 10;
  if (p + mac_size + 6 > upto.size()) return false;
  out.mac.assign(m.begin() + static_cast<std::ptrdiff_t>(p),
                 m.begin() + static_cast<std::ptrdiff_t>(p + mac_size));
  p += mac_size;
  out.original_id = wire::read_u16(&m[p]);
  out.error = wire::read_u16(&m[p + 2]);
  const std::size_t other_size = wire::read_u16(&m[p + 4]);
  return p + 6 + other_size == upto.size();
}

// Walks the message's records: a TSIG must be the last additional record and end the message.
Found find_tsig(std::span<const std::uint8_t> m, TsigRecord& out) {
  if (m.size() < wire::kHeaderSize) return Found::kBroken;
  std::size_t pos = wire::kHeaderSize;
  for (unsigned i = 0, n = wire::read_u16(&m[4]); i < n; ++i) {
    if (!skip_name(m, pos) || (pos += 4) > m.size()) return Found::kBroken;
  }
  const unsigned before_additional = wire::read_u16(&m[6]) + wire::read_u16(&m[8]);
  const unsigned total = before_additional + wire::read_u16(&m[10]);
  for (unsigned i = 0; i < total; ++i) {
    const std::size_t start = pos;
    if (!skip_name(m, pos) || pos + 10 > m.size()) return Found::kBroken;
    const std::uint16_t type = wire::read_u16(&m[pos]);
    const std::size_t rdata = pos + 10;
    const std::size_t rdata_end = rdata + wire::read_u16(&m[pos + 8]);
    if (type == kTypeTsig) {
      const bool last = i + 1 == total && i >= before_additional && rdata_end == m.size();
      return last && read_tsig(m, start, m.subspan(rdata, rdata_end - rdata), out)
                 ? Found::kTsig
                 : Found::kMalformed;
    }
    if (rdata_end > m.size()) return Found::kBroken;
    pos = rdata_end;
  }
  return Found::kAbsent;
}

// The algorithms ldns 1.8 computes TSIG HMACs for, as lower-cased wire names. Not hmac-sha384:
// ldns looks that one up under a misspelt name ("hmac-shac384.") and never finds it.
std::optional<std::string> supported_algorithm(const std::string& text) {
  auto name = wire::text_to_wire(text);
  if (!name) return std::nullopt;
  for (const char* known : {"hmac-sha256", "hmac-sha512", "hmac-sha1"}) {
    if (*name == wire::text_to_wire(known)) return name;
  }
  return std::nullopt;
}

// ldns leaks (and, verifying, detaches the packet's TSIG) when it cannot decode the secret,
// so the secret is checked first: non-empty base64.
bool secret_decodes(const std::string& secret) {
  ldns_rdf* raw = nullptr;
  const ldns_status status = ldns_str2rdf_b64(&raw, secret.c_str());
  Rdf decoded(raw);
  return status == LDNS_STATUS_OK && decoded && ldns_rdf_size(decoded.get()) > 0;
}

bool key_usable(const TsigKey& key) {
  return wire::text_to_wire(key.name) && supported_algorithm(key.algorithm) &&
         secret_decodes(key.secret);
}

// A MAC as ldns wants it before a digest: an INT16_DATA rdf (size, then bytes); null for none.
Rdf mac_rdf(std::span<const std::uint8_t> mac) {
  if (mac.empty() || mac.size() > 0xFFFF) return nullptr;
  return Rdf(ldns_native2rdf_int16_data(mac.size(), const_cast<std::uint8_t*>(mac.data())));
}

Pkt parse(std::span<const std::uint8_t> message) {
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, message.data(), message.size()) != LDNS_STATUS_OK) {
    ldns_pkt_free(raw);
    return nullptr;
  }
  return Pkt(raw);
}

// ldns checks the MAC over `message` (after `prior_mac`, for an answer). The digest covers the
// message under its original ID (RFC 8945 §4.3.1), which ldns would take from the wire as is.
bool ldns_mac_verifies(std::span<const std::uint8_t> message, const TsigRecord& record,
                       const TsigKey& key, std::span<const std::uint8_t> prior_mac) {
  std::vector<std::uint8_t> wire(message.begin(), message.end());
  wire::put_u16(wire.data(), record.original_id);
  Pkt pkt = parse(wire);
  Rdf prior = mac_rdf(prior_mac);
  if (!pkt || ldns_pkt_tsig(pkt.get()) == nullptr || (!prior_mac.empty() && !prior)) return false;
  ldns_rr* tsig = ldns_pkt_tsig(pkt.get());
  const bool ok = ldns_pkt_tsig_verify_next(pkt.get(), wire.data(), wire.size(), key.name.c_str(),
                                            key.secret.c_str(), prior.get(), 0);
  // When ldns fails inside, it returns with the TSIG taken off the packet: put it back so that
  // ldns_pkt_free frees it.
  if (ldns_pkt_tsig(pkt.get()) == nullptr) ldns_pkt_set_tsig(pkt.get(), tsig);
  return ok;
}

// RFC 8945 §5.2, in its order: the key (BADKEY), the MAC (BADSIG), then the time (BADTIME).
TsigError check(std::span<const std::uint8_t> message, const TsigRecord& record, const TsigKey& key,
                std::span<const std::uint8_t> prior_mac, std::int64_t now_s) {
  if (wire::text_to_wire(key.name) != record.owner ||
      supported_algorithm(key.algorithm) != record.algorithm || !secret_decodes(key.secret)) {
    return TsigError::kBadKey;
  }
  if (message.size() + prior_mac.size() + kDigestExtra > LDNS_MAX_PACKETLEN) {
    return TsigError::kBadSig;
  }
  if (!ldns_mac_verifies(message, record, key, prior_mac)) return TsigError::kBadSig;
  const std::int64_t skew = now_s - static_cast<std::int64_t>(record.time_signed);
  if (skew > record.fudge || skew < -std::int64_t{record.fudge}) return TsigError::kBadTime;
  return TsigError::kNone;
}

// The size of ldns's rendering of `pkt`, 0 when it cannot render it.
std::size_t rendered_size(const ldns_pkt* pkt) {
  std::uint8_t* raw = nullptr;
  std::size_t size = 0;
  const ldns_status status = ldns_pkt2wire(&raw, pkt, &size);
  Bytes owned(raw);
  return status == LDNS_STATUS_OK ? size : 0;
}

void put_time48(wire::Writer& w, std::uint64_t seconds) {
  w.u16(static_cast<std::uint16_t>(seconds >> 32));
  w.u32(static_cast<std::uint32_t>(seconds));
}

}  // namespace

TsigCheck verify_request(std::span<const std::uint8_t> message, const TsigKey& key,
                         std::int64_t now_s) {
  TsigCheck out;
  try {
    TsigRecord record;
    const Found found = find_tsig(message, record);
    out.present = found == Found::kTsig || found == Found::kMalformed;
    out.malformed = found == Found::kBroken || found == Found::kMalformed;
    if (found != Found::kTsig) return out;
    out.mac = record.mac;
    out.key_name = wire::wire_to_text(record.owner);
    out.algorithm = wire::wire_to_text(record.algorithm);
    out.error = check(message, record, key, {}, now_s);
  } catch (...) {  // out of memory: the request does not verify
    out = TsigCheck{};
    out.present = true;
    out.error = TsigError::kBadSig;
  }
  return out;
}

TsigSigner::TsigSigner(TsigKey key, std::vector<std::uint8_t> request_mac)
    : key_(std::move(key)), mac_(std::move(request_mac)) {}

// ldns renders the message again, signs that rendering and renders it once more with the TSIG;
// both renderings come from the same packet, so the MAC covers exactly the bytes sent before
// the TSIG. ldns stamps Time Signed from the wall clock itself (gettimeofday in
// ldns_pkt_tsig_sign_next) and takes no time from its caller, so `now_s` goes unused: signed
// messages carry the system time, which is what the peer checks against its own clock.
std::size_t TsigSigner::sign(std::span<std::uint8_t> buffer, std::size_t size, std::int64_t now_s) {
  (void)now_s;
  try {
    if (size > buffer.size() || !key_usable(key_)) return 0;
    Pkt pkt = parse(buffer.first(size));
    if (!pkt || ldns_pkt_tsig(pkt.get()) != nullptr) return 0;  // ldns would leak the old one
    const std::size_t plain = rendered_size(pkt.get());
    if (plain == 0 || plain + mac_.size() + kDigestExtra > LDNS_MAX_PACKETLEN) return 0;
    Rdf prior = mac_rdf(mac_);
    if (!mac_.empty() && !prior) return 0;
    if (ldns_pkt_tsig_sign_next(pkt.get(), key_.name.c_str(), key_.secret.c_str(), kFudge,
                                key_.algorithm.c_str(), prior.get(),
                                first_ ? 0 : 1) != LDNS_STATUS_OK) {
      return 0;
    }
    std::uint8_t* raw = nullptr;
    std::size_t signed_size = 0;
    const ldns_status status = ldns_pkt2wire(&raw, pkt.get(), &signed_size);
    Bytes owned(raw);
    const ldns_rdf* mac = ldns_rr_rdf(ldns_pkt_tsig(pkt.get()), kMacRdf);
    if (status != LDNS_STATUS_OK || signed_size > buffer.size() || mac == nullptr ||
        ldns_rdf_size(mac) < 2) {
      return 0;
    }
    mac_.assign(ldns_rdf_data(mac) + 2, ldns_rdf_data(mac) + ldns_rdf_size(mac));
    std::memcpy(buffer.data(), owned.get(), signed_size);
    first_ = false;
    return signed_size;
  } catch (...) {
    return 0;
  }
}

std::size_t append_error_tsig(std::span<std::uint8_t> buffer, std::size_t size,
                              const TsigCheck& request, std::uint16_t original_id,
                              std::int64_t now_s) {
  try {
    if (request.key_name.empty() || request.algorithm.empty()) return 0;  // "" would be the root
    const auto owner = wire::text_to_wire(request.key_name);
    const auto algorithm = wire::text_to_wire(request.algorithm);
    if (!owner || !algorithm || size < wire::kHeaderSize || size > buffer.size()) return 0;
    const std::uint16_t arcount = wire::read_u16(&buffer[10]);
    if (arcount == 0xFFFF) return 0;
    const bool bad_time = request.error == TsigError::kBadTime;
    const std::uint16_t other_size = bad_time ? 6 : 0;
    const std::uint64_t now = now_s < 0 ? 0 : static_cast<std::uint64_t>(now_s) & 0xFFFFFFFFFFFF;
    wire::Writer w(buffer.subspan(size), buffer.size() - size);
    w.bytes(owner->data(), owner->size());
    w.u16(kTypeTsig);
    w.u16(wire::klass::kAny);
    w.u32(0);  // TTL
    w.u16(static_cast<std::uint16_t>(algorithm->size() + 16 + other_size));
    w.bytes(algorithm->data(), algorithm->size());
    put_time48(w, now);  // Time Signed
    w.u16(kFudge);
    w.u16(0);  // MAC Size: unsigned (RFC 8945 §5.3.2)
    w.u16(original_id);
    w.u16(static_cast<std::uint16_t>(request.error));
    w.u16(other_size);
    if (bad_time) put_time48(w, now);  // our time, for the client (RFC 8945 §5.2.3)
    if (w.failed()) return 0;
    wire::put_u16(&buffer[10], static_cast<std::uint16_t>(arcount + 1));
    return size + w.size();
  } catch (...) {
    return 0;
  }
}

TsigError verify_response(std::span<const std::uint8_t> message, const TsigKey& key,
                          std::span<const std::uint8_t> request_mac, std::int64_t now_s) {
  try {
    TsigRecord record;
    if (find_tsig(message, record) != Found::kTsig) return TsigError::kBadSig;
    // The peer's own verdict on our request, in an unsigned answer (RFC 8945 §5.3.2).
    switch (record.error) {
      case 0:
        break;
      case static_cast<std::uint16_t>(TsigError::kBadKey):
        return TsigError::kBadKey;
      case static_cast<std::uint16_t>(TsigError::kBadTime):
        return TsigError::kBadTime;
      default:
        return TsigError::kBadSig;
    }
    return check(message, record, key, request_mac, now_s);
  } catch (...) {
    return TsigError::kBadSig;
  }
}

}  // namespace discodns::transfer
