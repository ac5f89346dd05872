// TSIG signing and verification (RFC 8945), with ldns's own verifier as the independent check.
#include "transfer/tsig.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

// Last: ldns's headers define macros (bool/false) that break later standard headers.
#include <ldns/ldns.h>

namespace discodns::transfer {
namespace {

using Wire = std::vector<std::uint8_t>;

const TsigKey kKey{"xfr-key.", "hmac-sha256", "eOULJaTq4ds74czE9WMYzASep9pi+zIwtvclwZ9eOpA="};
const TsigKey kOtherSecret{"xfr-key.", "hmac-sha256",
                           "BY+hpj3LS2Mx/JsW8naiRKebrFnkYvC4ZQ8apynfqco="};
const TsigKey kSha512{
    "xfr-key.", "hmac-sha512",
    "QT6d80CJTLiWSwrVG/tM8yUZjUEgCz+l5vQh/zuM7n2AsGoEyYP9zw1Ltj04d6UFXdiKkUXo/qMWyiWkew+TUw=="};

std::int64_t now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

void put16(Wire& m, std::uint16_t v) {
  m.push_back(static_cast<std::uint8_t>(v >> 8));
  m.push_back(static_cast<std::uint8_t>(v));
}
std::uint16_t get16(const Wire& m, std::size_t at) {
  return static_cast<std::uint16_t>(m[at] << 8 | m[at + 1]);
}
void set16(Wire& m, std::size_t at, std::uint16_t v) {
  m[at] = static_cast<std::uint8_t>(v >> 8);
  m[at + 1] = static_cast<std::uint8_t>(v);
}

// Owners for Builder::record: the question's name (a pointer to offset 12), a label in front of
// it, or the root.
const Wire kApex{0xC0, 0x0C};
const Wire kRoot{0};
Wire below_apex(const std::string& label) {
  Wire owner;  // push_back, not insert: GCC 12 warns (-Warray-bounds) on a falsely sized copy
  owner.push_back(static_cast<std::uint8_t>(label.size()));
  for (char c : label)
    owner.push_back(static_cast<std::uint8_t>(c));
  owner.push_back(0xC0);
  owner.push_back(0x0C);
  return owner;
}

// A message written by hand as the server writes one: the question is example.com, and names
// after it point at it.
class Builder {
 public:
  Builder(std::uint16_t id, std::uint16_t flags) {
    put16(bytes_, id);
    put16(bytes_, flags);
    bytes_.resize(12, 0);
  }
  Builder& question(std::uint16_t type) {
    for (char c : std::string("\7example\3com"))
      bytes_.push_back(static_cast<std::uint8_t>(c));
    bytes_.push_back(0);
    put16(bytes_, type);
    put16(bytes_, 1);
    return count(0);
  }
  // `section`: 1 answer, 2 authority, 3 additional.
  Builder& record(int section, const Wire& owner, std::uint16_t type, std::uint16_t klass,
                  const Wire& rdata, std::uint16_t ttl = 3600) {
    bytes_.insert(bytes_.end(), owner.begin(), owner.end());
    put16(bytes_, type);
    put16(bytes_, klass);
    put16(bytes_, 0);
    put16(bytes_, ttl);
    put16(bytes_, static_cast<std::uint16_t>(rdata.size()));
    bytes_.insert(bytes_.end(), rdata.begin(), rdata.end());
    return count(section);
  }
  Builder& a(int section, const Wire& owner, std::uint8_t last_octet) {
    return record(section, owner, 1, 1, {192, 0, 2, last_octet});
  }
  Builder& soa() {
    Wire rdata{3, 'n', 's', '1', 0xC0, 12, 4, 'h', 'o', 's', 't', 0xC0, 12};
    for (std::uint32_t v : {2024010101u, 7200u, 3600u, 1209600u, 300u}) {
      put16(rdata, static_cast<std::uint16_t>(v >> 16));
      put16(rdata, static_cast<std::uint16_t>(v));
    }
    return record(1, kApex, 6, 1, rdata);
  }
  // OPT for 1232 octets with a client cookie (RFC 7873).
  Builder& opt_with_cookie() {
    return record(3, kRoot, 41, 1232, {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}, 0);
  }
  Wire bytes() const { return bytes_; }

 private:
  Builder& count(int section) {
    const std::size_t at = 4 + 2 * static_cast<std::size_t>(section);
    set16(bytes_, at, static_cast<std::uint16_t>(get16(bytes_, at) + 1));
    return *this;
  }
  Wire bytes_;
};

Wire axfr_request(std::uint16_t id = 0x1234) {
  return Builder(id, 0).question(252).bytes();
}

// Part 0 opens with the SOA, part 2 closes with it; each carries three A records.
Wire answer_part(std::uint16_t id, int part) {
  Builder b(id, 0x8400);  // QR, AA
  b.question(252);
  if (part == 0) b.soa();
  for (int i = 1; i <= 3; ++i)
    b.a(1, below_apex("www"), static_cast<std::uint8_t>(part * 10 + i));
  if (part == 2) b.soa();
  return b.bytes();
}

// The message signed in a buffer with kTsigReserve to spare; empty when signing failed.
Wire sign(TsigSigner& signer, Wire message) {
  const std::size_t size = message.size();
  message.resize(size + kTsigReserve);
  message.resize(signer.sign(message, size, now()));
  return message;
}

Wire signed_request(const TsigKey& key, std::uint16_t id = 0x1234) {
  TsigSigner signer(key, {});
  return sign(signer, axfr_request(id));
}

// ldns's verifier on its own: `prior` is the request's MAC or the previous message's.
bool ldns_verifies(const Wire& wire, const TsigKey& key, const Wire& prior, int timers_only) {
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, wire.data(), wire.size()) != LDNS_STATUS_OK) return false;
  Wire prior_copy = prior;
  ldns_rdf* mac =
      prior.empty() ? nullptr : ldns_native2rdf_int16_data(prior_copy.size(), prior_copy.data());
  const bool ok = ldns_pkt_tsig_verify_next(pkt, wire.data(), wire.size(), key.name.c_str(),
                                            key.secret.c_str(), mac, timers_only);
  ldns_rdf_deep_free(mac);
  ldns_pkt_free(pkt);
  return ok;
}

// A message's TSIG RR as ldns reads it.
struct LdnsTsig {
  bool parsed = false;
  std::string owner, algorithm;
  std::uint64_t time_signed = 0;
  std::uint16_t fudge = 0, original_id = 0, error = 0;
  Wire mac, other;
  std::size_t rr_size = 0;    // uncompressed, as ldns writes it
  std::uint16_t arcount = 0;  // the other additional records
  std::uint16_t ancount = 0;
  std::uint8_t rcode = 0;
};

Wire int16_data(const ldns_rdf* rdf) {
  const std::uint8_t* p = ldns_rdf_data(rdf);
  return Wire(p + 2, p + ldns_rdf_size(rdf));
}

std::string text(const ldns_rdf* rdf) {
  char* s = ldns_rdf2str(rdf);
  std::string out = s != nullptr ? s : "";
  std::free(s);
  return out;
}

void read_fields(const ldns_rr* rr, LdnsTsig& out) {
  out.parsed = true;
  out.owner = text(ldns_rr_owner(rr));
  out.algorithm = text(ldns_rr_rdf(rr, 0));
  const std::uint8_t* t = ldns_rdf_data(ldns_rr_rdf(rr, 1));
  for (int i = 0; i < 6; ++i)
    out.time_signed = out.time_signed << 8 | t[i];
  out.fudge = ldns_rdf2native_int16(ldns_rr_rdf(rr, 2));
  out.mac = int16_data(ldns_rr_rdf(rr, 3));
  out.original_id = ldns_rdf2native_int16(ldns_rr_rdf(rr, 4));
  out.error = ldns_rdf2native_int16(ldns_rr_rdf(rr, 5));
  out.other = int16_data(ldns_rr_rdf(rr, 6));
  std::uint8_t* rendered = nullptr;
  if (ldns_rr2wire(&rendered, rr, LDNS_SECTION_ADDITIONAL, &out.rr_size) != LDNS_STATUS_OK) {
    out.rr_size = 0;
  }
  std::free(rendered);
}

LdnsTsig ldns_tsig(const Wire& wire) {
  LdnsTsig out;
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, wire.data(), wire.size()) != LDNS_STATUS_OK) return out;
  const ldns_rr* rr = ldns_pkt_tsig(pkt);
  if (rr != nullptr && ldns_rr_rd_count(rr) == 7) read_fields(rr, out);
  out.arcount = ldns_pkt_arcount(pkt);
  out.ancount = ldns_pkt_ancount(pkt);
  out.rcode = ldns_pkt_get_rcode(pkt);
  ldns_pkt_free(pkt);
  return out;
}

// ----- requests

TEST(Tsig, SignedRequestVerifiesWithLdnsAndWithVerifyRequest) {
  TsigSigner signer(kKey, {});
  const Wire request = sign(signer, axfr_request());
  ASSERT_FALSE(request.empty());
  EXPECT_TRUE(ldns_verifies(request, kKey, {}, 0));

  const LdnsTsig tsig = ldns_tsig(request);
  ASSERT_TRUE(tsig.parsed);
  EXPECT_EQ(tsig.owner, "xfr-key.");
  EXPECT_EQ(tsig.algorithm, "hmac-sha256.");
  EXPECT_EQ(tsig.fudge, 300);
  EXPECT_EQ(tsig.original_id, 0x1234);
  EXPECT_EQ(tsig.mac.size(), 32u);
  EXPECT_EQ(tsig.mac, signer.last_mac());
  EXPECT_LE(tsig.time_signed, static_cast<std::uint64_t>(now()));
  EXPECT_GE(tsig.time_signed + 5, static_cast<std::uint64_t>(now()));

  const TsigCheck check = verify_request(request, kKey, now());
  EXPECT_TRUE(check.present);
  EXPECT_FALSE(check.malformed);
  EXPECT_EQ(check.error, TsigError::kNone);
  EXPECT_EQ(check.mac, signer.last_mac());
  EXPECT_EQ(check.key_name, "xfr-key.");
  EXPECT_EQ(check.algorithm, "hmac-sha256.");
}

TEST(Tsig, KeyNameMatchesWithoutCaseOrFinalDot) {
  const Wire request = signed_request(kKey);
  TsigKey spelled = kKey;
  spelled.name = "XFR-Key";
  spelled.algorithm = "HMAC-SHA256.";
  EXPECT_EQ(verify_request(request, spelled, now()).error, TsigError::kNone);
}

TEST(Tsig, UnsignedMessageHasNoTsig) {
  const TsigCheck check = verify_request(axfr_request(), kKey, now());
  EXPECT_FALSE(check.present);
  EXPECT_FALSE(check.malformed);
  const Wire with_opt = Builder(1, 0).question(252).opt_with_cookie().bytes();
  EXPECT_FALSE(verify_request(with_opt, kKey, now()).present);
}

TEST(Tsig, WrongKeyNameIsBadKey) {
  TsigKey other = kKey;
  other.name = "other-key.";
  const TsigCheck check = verify_request(signed_request(other), kKey, now());
  EXPECT_TRUE(check.present);
  EXPECT_FALSE(check.malformed);
  EXPECT_EQ(check.error, TsigError::kBadKey);
  EXPECT_EQ(check.key_name, "other-key.");  // for the error answer's TSIG
}

TEST(Tsig, WrongAlgorithmIsBadKey) {
  TsigKey sha512 = kSha512;
  sha512.secret = kKey.secret;
  EXPECT_EQ(verify_request(signed_request(kKey), sha512, now()).error, TsigError::kBadKey);
}

TEST(Tsig, WrongSecretIsBadSig) {
  EXPECT_EQ(verify_request(signed_request(kKey), kOtherSecret, now()).error, TsigError::kBadSig);
}

TEST(Tsig, TamperedByteIsBadSig) {
  Wire request = signed_request(kKey);
  request[13] ^= 0x20;  // "example" -> "Example": names are case-insensitive, MACs are not
  EXPECT_EQ(verify_request(request, kKey, now()).error, TsigError::kBadSig);
  Wire flags = signed_request(kKey);
  flags[2] |= 0x01;  // RD
  EXPECT_EQ(verify_request(flags, kKey, now()).error, TsigError::kBadSig);
}

TEST(Tsig, MacIsOverTheOriginalId) {
  // A forwarder may change the ID (RFC 8945 §4.3.1: the MAC covers the original one). ldns
  // digests the wire as given, so on its own it rejects such a message; verify_request does not.
  Wire request = signed_request(kKey, 0x1234);
  set16(request, 0, 0x4321);
  EXPECT_FALSE(ldns_verifies(request, kKey, {}, 0));
  EXPECT_EQ(verify_request(request, kKey, now()).error, TsigError::kNone);
}

TEST(Tsig, TimeOutsideFudgeIsBadTime) {
  const Wire request = signed_request(kKey);
  EXPECT_EQ(verify_request(request, kKey, now() + 3600).error, TsigError::kBadTime);
  EXPECT_EQ(verify_request(request, kKey, now() - 3600).error, TsigError::kBadTime);
  EXPECT_EQ(verify_request(request, kKey, now() + 200).error, TsigError::kNone);
  // The MAC comes first: a bad signature at a bad time is BADSIG.
  EXPECT_EQ(verify_request(request, kOtherSecret, now() + 3600).error, TsigError::kBadSig);
}

// ----- malformed

TEST(Tsig, TsigNotLastIsMalformed) {
  Wire request = signed_request(kKey);
  for (std::uint8_t b : {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1})
    request.push_back(b);
  set16(request, 10, static_cast<std::uint16_t>(get16(request, 10) + 1));
  const TsigCheck check = verify_request(request, kKey, now());
  EXPECT_TRUE(check.present);
  EXPECT_TRUE(check.malformed);
}

TEST(Tsig, TwoTsigsAreMalformed) {
  Wire request = signed_request(kKey);
  const std::size_t tsig_size = ldns_tsig(request).rr_size;
  ASSERT_GT(tsig_size, 0u);
  const Wire tsig(request.end() - static_cast<std::ptrdiff_t>(tsig_size), request.end());
  request.insert(request.end(), tsig.begin(), tsig.end());
  set16(request, 10, static_cast<std::uint16_t>(get16(request, 10) + 1));
  const TsigCheck check = verify_request(request, kKey, now());
  EXPECT_TRUE(check.present);
  EXPECT_TRUE(check.malformed);
}

TEST(Tsig, TruncatedTsigIsMalformed) {
  const Wire request = signed_request(kKey);
  for (std::size_t cut : {std::size_t{1}, std::size_t{10}, std::size_t{40}}) {
    const Wire shorter(request.begin(), request.end() - static_cast<std::ptrdiff_t>(cut));
    const TsigCheck check = verify_request(shorter, kKey, now());
    EXPECT_TRUE(check.present) << cut;
    EXPECT_TRUE(check.malformed) << cut;
  }
  // Trailing octets after the TSIG: it no longer ends the message.
  Wire longer = request;
  longer.push_back(0);
  EXPECT_TRUE(verify_request(longer, kKey, now()).malformed);
}

TEST(Tsig, MessageShorterThanItsCountsIsMalformed) {
  Wire request = axfr_request();
  set16(request, 10, 1);  // one additional record that is not there
  const TsigCheck check = verify_request(request, kKey, now());
  EXPECT_FALSE(check.present);
  EXPECT_TRUE(check.malformed);
  EXPECT_TRUE(verify_request(Wire{0, 1, 0}, kKey, now()).malformed);
}

TEST(Tsig, TsigOwnerPointerLoopIsMalformed) {
  Wire request = signed_request(kKey);
  const std::size_t tsig = request.size() - ldns_tsig(request).rr_size;
  // The owner becomes a pointer to itself, with the rest of its labels dropped.
  const std::size_t owner_size = 9;  // \7xfr-key\0
  request.erase(request.begin() + static_cast<std::ptrdiff_t>(tsig),
                request.begin() + static_cast<std::ptrdiff_t>(tsig + owner_size));
  const Wire pointer{static_cast<std::uint8_t>(0xC0 | (tsig >> 8)),
                     static_cast<std::uint8_t>(tsig)};
  request.insert(request.begin() + static_cast<std::ptrdiff_t>(tsig), pointer.begin(),
                 pointer.end());
  EXPECT_TRUE(verify_request(request, kKey, now()).malformed);
}

// ----- answers

TEST(Tsig, AnswerSignedWithTheRequestMacVerifies) {
  const TsigCheck request = verify_request(signed_request(kKey), kKey, now());
  ASSERT_EQ(request.error, TsigError::kNone);
  TsigSigner signer(kKey, request.mac);
  const Wire answer = sign(signer, answer_part(0x1234, 0));
  ASSERT_FALSE(answer.empty());
  EXPECT_TRUE(ldns_verifies(answer, kKey, request.mac, 0));
  EXPECT_FALSE(ldns_verifies(answer, kKey, {}, 0));  // the request's MAC is part of it
  EXPECT_EQ(verify_response(answer, kKey, request.mac, now()), TsigError::kNone);

  const LdnsTsig tsig = ldns_tsig(answer);
  EXPECT_EQ(tsig.ancount, 4);
  EXPECT_EQ(tsig.arcount, 0);
  EXPECT_EQ(tsig.mac, signer.last_mac());
}

TEST(Tsig, AnswerWithOptIsSignedAsLdnsRendersIt) {
  // ldns moves the OPT to the end of the additional section and compresses names its own way:
  // what is signed and sent is that rendering, so both verifiers agree with it.
  Builder b(0x77, 0x8400);
  b.question(1).a(1, kApex, 1).a(3, below_apex("ns1"), 2).opt_with_cookie();
  const Wire plain = b.bytes();
  const Wire request_mac(32, 0xAB);
  TsigSigner signer(kKey, request_mac);
  const Wire answer = sign(signer, plain);
  ASSERT_FALSE(answer.empty());
  EXPECT_TRUE(ldns_verifies(answer, kKey, request_mac, 0));
  EXPECT_EQ(verify_response(answer, kKey, request_mac, now()), TsigError::kNone);
  EXPECT_EQ(get16(answer, 10), 3);  // A, OPT, TSIG
}

TEST(Tsig, ThreeMessageAnswerChainsEachMacIntoTheNext) {
  const TsigCheck request = verify_request(signed_request(kKey), kKey, now());
  TsigSigner signer(kKey, request.mac);
  std::vector<Wire> parts;
  std::vector<Wire> macs;
  for (int part = 0; part < 3; ++part) {
    parts.push_back(sign(signer, answer_part(0x1234, part)));
    ASSERT_FALSE(parts.back().empty()) << part;
    macs.push_back(signer.last_mac());
  }
  EXPECT_TRUE(ldns_verifies(parts[0], kKey, request.mac, 0));
  EXPECT_TRUE(ldns_verifies(parts[1], kKey, macs[0], 1));
  EXPECT_TRUE(ldns_verifies(parts[2], kKey, macs[1], 1));
  // The later ones cover the timers only, chained to the previous MAC and no other.
  EXPECT_FALSE(ldns_verifies(parts[1], kKey, macs[0], 0));
  EXPECT_FALSE(ldns_verifies(parts[2], kKey, macs[0], 1));
  EXPECT_EQ(verify_response(parts[0], kKey, request.mac, now()), TsigError::kNone);
  EXPECT_EQ(ldns_tsig(parts[2]).mac, macs[2]);
}

TEST(Tsig, SignFailsWhenTheBufferIsTooSmall) {
  TsigSigner signer(kKey, {});
  Wire request = axfr_request();
  const Wire before = request;
  EXPECT_EQ(signer.sign(request, request.size(), now()), 0u);
  EXPECT_EQ(request, before);
  EXPECT_EQ(signer.sign(request, request.size() + 1, now()), 0u);  // size past the buffer
}

TEST(Tsig, SignRefusesAMessageAlreadySigned) {
  TsigSigner signer(kKey, {});
  EXPECT_TRUE(sign(signer, signed_request(kKey)).empty());
}

// ----- algorithms and keys

TEST(Tsig, Sha512RequestAndAnswer) {
  TsigSigner client(kSha512, {});
  const Wire request = sign(client, axfr_request());
  ASSERT_FALSE(request.empty());
  EXPECT_TRUE(ldns_verifies(request, kSha512, {}, 0));
  const TsigCheck check = verify_request(request, kSha512, now());
  EXPECT_EQ(check.error, TsigError::kNone);
  EXPECT_EQ(check.algorithm, "hmac-sha512.");
  EXPECT_EQ(check.mac.size(), 64u);

  TsigSigner server(kSha512, check.mac);
  const Wire answer = sign(server, answer_part(0x1234, 0));
  EXPECT_TRUE(ldns_verifies(answer, kSha512, check.mac, 0));
  EXPECT_EQ(verify_response(answer, kSha512, client.last_mac(), now()), TsigError::kNone);
}

TEST(Tsig, Sha1Request) {
  TsigKey sha1 = kKey;
  sha1.algorithm = "hmac-sha1";
  const Wire request = signed_request(sha1);
  EXPECT_TRUE(ldns_verifies(request, sha1, {}, 0));
  EXPECT_EQ(verify_request(request, sha1, now()).error, TsigError::kNone);
}

TEST(Tsig, AlgorithmsLdnsCannotComputeAreRefused) {
  // ldns 1.8 spells hmac-sha384 "hmac-shac384." in its lookup, so it never computes it.
  for (const char* algorithm : {"hmac-sha384", "hmac-md5.sig-alg.reg.int", "hmac-sha224"}) {
    TsigKey key = kKey;
    key.algorithm = algorithm;
    TsigSigner signer(key, {});
    EXPECT_TRUE(sign(signer, axfr_request()).empty()) << algorithm;
    EXPECT_EQ(verify_request(signed_request(kKey), key, now()).error, TsigError::kBadKey)
        << algorithm;
  }
}

TEST(Tsig, UndecodableSecretIsRefused) {
  TsigKey key = kKey;
  key.secret = "not base64!";
  TsigSigner signer(key, {});
  EXPECT_TRUE(sign(signer, axfr_request()).empty());
  EXPECT_EQ(verify_request(signed_request(kKey), key, now()).error, TsigError::kBadKey);
}

// ----- error answers

Wire error_answer_header(const Wire& request, std::uint8_t rcode) {
  Wire answer(request.begin(), request.begin() + 12 + 17);  // header + example.com AXFR IN
  answer[2] |= 0x80;
  answer[3] = rcode;
  set16(answer, 10, 0);
  return answer;
}

TEST(Tsig, ErrorTsigForBadKeyParsesWithLdns) {
  TsigKey other = kKey;
  other.name = "Other-Key.";
  const Wire request = signed_request(other, 0x5555);
  const TsigCheck check = verify_request(request, kKey, now());
  ASSERT_EQ(check.error, TsigError::kBadKey);

  Wire answer = error_answer_header(request, 9);  // NOTAUTH
  const std::size_t size = answer.size();
  answer.resize(size + kTsigReserve);
  const std::int64_t t = now();
  answer.resize(append_error_tsig(answer, size, check, 0x5555, t));
  ASSERT_GT(answer.size(), size);
  EXPECT_EQ(get16(answer, 10), 1);

  const LdnsTsig tsig = ldns_tsig(answer);
  ASSERT_TRUE(tsig.parsed);
  EXPECT_EQ(tsig.owner, "other-key.");
  EXPECT_EQ(tsig.algorithm, "hmac-sha256.");
  EXPECT_EQ(tsig.time_signed, static_cast<std::uint64_t>(t));
  EXPECT_EQ(tsig.fudge, 300);
  EXPECT_TRUE(tsig.mac.empty());
  EXPECT_EQ(tsig.original_id, 0x5555);
  EXPECT_EQ(tsig.error, 17);
  EXPECT_TRUE(tsig.other.empty());
  EXPECT_EQ(tsig.rcode, 9);
  EXPECT_EQ(tsig.rr_size, answer.size() - size);  // nothing but the RR was written
  // The client's view: the server did not know the key.
  EXPECT_EQ(verify_response(answer, other, Wire(32, 1), t), TsigError::kBadKey);
}

TEST(Tsig, ErrorTsigForBadTimeCarriesOurTime) {
  const Wire request = signed_request(kKey);
  const std::int64_t later = now() + 3600;
  const TsigCheck check = verify_request(request, kKey, later);
  ASSERT_EQ(check.error, TsigError::kBadTime);
  Wire answer = error_answer_header(request, 9);
  const std::size_t size = answer.size();
  answer.resize(size + kTsigReserve);
  answer.resize(append_error_tsig(answer, size, check, 0x1234, later));
  const LdnsTsig tsig = ldns_tsig(answer);
  ASSERT_TRUE(tsig.parsed);
  EXPECT_EQ(tsig.error, 18);
  ASSERT_EQ(tsig.other.size(), 6u);
  std::uint64_t other_time = 0;
  for (std::uint8_t b : tsig.other)
    other_time = other_time << 8 | b;
  EXPECT_EQ(other_time, static_cast<std::uint64_t>(later));
  EXPECT_EQ(verify_response(answer, kKey, check.mac, now()), TsigError::kBadTime);
}

TEST(Tsig, ErrorTsigThatDoesNotFitWritesNothing) {
  const Wire request = signed_request(kKey);
  TsigCheck check = verify_request(request, kOtherSecret, now());
  ASSERT_EQ(check.error, TsigError::kBadSig);
  Wire answer = error_answer_header(request, 9);
  const Wire before = answer;
  answer.resize(answer.size() + 20);  // the RR needs 9 + 10 + 13 + 16
  EXPECT_EQ(append_error_tsig(answer, before.size(), check, 1, now()), 0u);
  EXPECT_TRUE(std::equal(before.begin(), before.end(), answer.begin()));
  check.key_name = "bad..name";
  answer.resize(before.size() + kTsigReserve);
  EXPECT_EQ(append_error_tsig(answer, before.size(), check, 1, now()), 0u);
}

// ----- the client side (NOTIFY)

TEST(Tsig, NotifyClientVerifiesTheAnswerToItsRequest) {
  TsigSigner client(kKey, {});
  const Wire notify = sign(client, Builder(9, 0x2000).question(6).bytes());  // opcode NOTIFY
  ASSERT_FALSE(notify.empty());
  const TsigCheck at_server = verify_request(notify, kKey, now());
  ASSERT_EQ(at_server.error, TsigError::kNone);
  TsigSigner server(kKey, at_server.mac);
  const Wire answer = sign(server, Builder(9, 0xA400).question(6).bytes());
  ASSERT_FALSE(answer.empty());

  EXPECT_EQ(verify_response(answer, kKey, client.last_mac(), now()), TsigError::kNone);
  EXPECT_EQ(verify_response(answer, kKey, Wire(32, 0), now()), TsigError::kBadSig);
  EXPECT_EQ(verify_response(answer, kOtherSecret, client.last_mac(), now()), TsigError::kBadSig);
  EXPECT_EQ(verify_response(answer, kKey, client.last_mac(), now() + 3600), TsigError::kBadTime);
  TsigKey other = kKey;
  other.name = "other-key";
  EXPECT_EQ(verify_response(answer, other, client.last_mac(), now()), TsigError::kBadKey);
  // An unsigned answer to a signed request does not verify.
  EXPECT_EQ(verify_response(Builder(9, 0xA400).question(6).bytes(), kKey, client.last_mac(), now()),
            TsigError::kBadSig);
}

}  // namespace
}  // namespace discodns::transfer
