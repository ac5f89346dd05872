// Protocol edges of issue 13, decoded with ldns: OPT in FORMERR (RFC 6891), the QDCOUNT=0
// cookie query (RFC 7873 §5.4), IXFR queries (RFC 1995), required referral glue (RFC 9471),
// NSID (RFC 5001) and CHAOS identity TXT (RFC 4892).
#include <algorithm>
#include <fstream>
#include <optional>

#include "oracle.hpp"
#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace discodns::testing {
namespace {

constexpr common::Nanos kSecond = common::kNanosPerSecond;
constexpr common::Nanos kNow = 1'800'000'000 * kSecond;
const std::string kName = "goim.comet.dev.gd.china.example.com";
const std::vector<std::uint8_t> kClientCookie = {1, 2, 3, 4, 5, 6, 7, 8};
constexpr std::uint16_t kCookie = wire::edns::kOptionCookie;
constexpr std::uint16_t kNsid = wire::edns::kOptionNsid;

std::string text(const std::vector<std::uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

class ProtocolEdgesTest : public ::testing::Test {
 protected:
  PacketPtr run(const std::vector<std::uint8_t>& wire,
                query::Transport transport = query::Transport::kUdp) {
    std::vector<std::uint8_t> out = respond(*snap_, wire, kNow, limits_, transport, outcome_);
    EXPECT_TRUE(outcome_.respond);
    last_ = out;
    return decode(out);
  }
  PacketPtr ask(const std::string& name, ldns_rr_type type, const QueryOptions& options = {}) {
    return run(make_query(name, type, options));
  }

  std::shared_ptr<const catalog::Snapshot> snap_ = build(observed_at(
      {instance("goim.comet", "dev", "gd", "comet-1", {{"grpc", "10.0.0.11", 3109}}, kNow)}, kNow));
  query::Limits limits_;
  query::Outcome outcome_;
  std::vector<std::uint8_t> last_;
};

// An answer-section record in a query: FORMERR, whatever else is right with it.
Packet with_answer_record(std::uint16_t arcount) {
  Packet p;
  p.header(0x0100, 1, 1, 0, arcount).question(kName);
  p.u8(0).u16(1).u16(1).u32(0).u16(4).u32(0x01020304);
  return p;
}

// RFC 6891 §6.1.1: a FORMERR to a query whose OPT parsed carries an OPT (with the options
// answered as usual: here the server cookie).
TEST_F(ProtocolEdgesTest, FormErrCarriesOptWhenTheOptParsed) {
  std::vector<Packet> bad(3);
  bad[0] = with_answer_record(1);
  bad[0].opt(4096, 0, {{kCookie, kClientCookie}});
  bad[1].header(0, 1, 0, 0, 1).question(kName).opt(4096, 0, {{kCookie, kClientCookie}}).u8(0x55);
  bad[2].header(0, 2, 0, 0, 1).question(kName).question(kName);
  bad[2].opt(4096, 0, {{kCookie, kClientCookie}});
  for (std::size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE(i);
    auto r = run(bad[i].b);
    EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_FORMERR);
    ASSERT_TRUE(ldns_pkt_edns(r.get()));
    EXPECT_EQ(ldns_pkt_edns_udp_size(r.get()), 1232);
    EXPECT_EQ(wire::read_u16(&last_[10]), 1);  // ARCOUNT (ldns keeps the OPT apart)
    auto options = edns_options(r.get());
    ASSERT_EQ(options.count(kCookie), 1u);
    const auto& cookie = options.find(kCookie)->second;
    ASSERT_EQ(cookie.size(), 24u);
    EXPECT_TRUE(std::equal(kClientCookie.begin(), kClientCookie.end(), cookie.begin()));
  }
  // The question is echoed when it parsed and was the only one.
  auto echoed = run(bad[0].b);
  EXPECT_EQ(ldns_pkt_qdcount(echoed.get()), 1);
  auto two = run(bad[2].b);
  EXPECT_EQ(ldns_pkt_qdcount(two.get()), 0);
}

// RFC 6891 §7: when the OPT itself is the problem (malformed option, two OPTs, an owner other
// than the root), the FORMERR MUST NOT carry an OPT, so the client can tell a format error in
// EDNS from a server without EDNS.
TEST_F(ProtocolEdgesTest, FormErrHasNoOptWhenTheOptIsBroken) {
  std::vector<Packet> bad(5);
  bad[0].header(0, 1, 0, 0, 2).question(kName).opt(1232).opt(1232);
  bad[1].header(0, 1, 0, 0, 1).question(kName).opt(1232, 0, {{kCookie, {1, 2, 3, 4, 5}}});
  bad[2].header(0, 1, 0, 0, 1).question(kName).u8(1).u8('a').u8(0);  // OPT not owned by root
  bad[2].u16(41).u16(1232).u32(0).u16(0);
  bad[3].header(0, 1, 0, 0, 1).question(kName);  // an option running past the RDATA
  bad[3].u8(0).u16(41).u16(1232).u32(0).u16(4).u16(kCookie).u16(8);
  bad[4] = with_answer_record(2);  // two wrongs: the OPT's decides
  bad[4].opt(1232).opt(1232);
  for (std::size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE(i);
    auto r = run(bad[i].b);
    EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_FORMERR);
    EXPECT_FALSE(ldns_pkt_edns(r.get()));
    EXPECT_EQ(wire::read_u16(&last_[10]), 0);  // ARCOUNT
  }
}

// RFC 7873 §5.4: QDCOUNT=0 with a COOKIE asks for a server cookie: NOERROR, the header and an
// OPT with the client cookie and ours. Without a cookie, QDCOUNT=0 stays FORMERR.
TEST_F(ProtocolEdgesTest, CookieOnlyQueryGetsAServerCookie) {
  std::vector<std::uint8_t> with_server_cookie = kClientCookie;
  with_server_cookie.resize(24, 0xAB);  // a stale server cookie: a fresh one comes back
  for (const auto& sent : {kClientCookie, with_server_cookie}) {
    Packet p;
    p.header(0x0100, 0, 0, 0, 1).opt(1232, 0, {{kCookie, sent}});
    auto r = run(p.b);
    EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(ldns_pkt_qdcount(r.get()), 0);
    EXPECT_EQ(ldns_pkt_ancount(r.get()), 0);
    EXPECT_EQ(ldns_pkt_nscount(r.get()), 0);
    EXPECT_EQ(ldns_pkt_id(r.get()), 0xBEEF);
    EXPECT_TRUE(ldns_pkt_rd(r.get()));
    auto options = edns_options(r.get());
    ASSERT_EQ(options.count(kCookie), 1u);
    const auto& cookie = options.find(kCookie)->second;
    ASSERT_EQ(cookie.size(), 24u);
    EXPECT_TRUE(std::equal(kClientCookie.begin(), kClientCookie.end(), cookie.begin()));
    EXPECT_NE(cookie[8], 0xAB);  // version 1 of RFC 9018
  }
  Packet no_cookie;
  no_cookie.header(0, 0, 0, 0, 1).opt(1232);
  auto r = run(no_cookie.b);
  EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_FORMERR);
  EXPECT_TRUE(ldns_pkt_edns(r.get()));
  Packet with_record;  // a cookie does not excuse an answer-section record
  with_record.header(0, 0, 1, 0, 1).u8(0).u16(1).u16(1).u32(0).u16(0);
  with_record.opt(1232, 0, {{kCookie, kClientCookie}});
  EXPECT_EQ(ldns_pkt_get_rcode(run(with_record.b).get()), LDNS_RCODE_FORMERR);
}

// RFC 1995 §3: an IXFR query, the client's SOA in the authority section (names compressed).
Packet ixfr(const std::string& zone, std::uint32_t serial, std::uint16_t type = 6) {
  Packet p;
  p.header(0, 1, 0, 1).question(zone, wire::type::kIxfr);
  p.u16(0xC00C).u16(type).u16(1).u32(3600).u16(24).u16(0xC00C).u16(0xC00C);
  p.u32(serial).u32(3600).u32(600).u32(604800).u32(30);
  return p;
}

// Transfers off (the default): an IXFR is REFUSED, not FORMERR, unless the client is
// up to date, which gets our SOA alone (RFC 1995 §2).
TEST_F(ProtocolEdgesTest, IxfrQueriesAreAnsweredNotFormErr) {
  const std::uint32_t ours = snap_->serial;
  for (auto transport : {query::Transport::kUdp, query::Transport::kTcp}) {
    for (std::uint32_t serial : {ours, ours + 5}) {
      auto r = run(ixfr("example.com", serial).b, transport);
      EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NOERROR);
      EXPECT_TRUE(ldns_pkt_aa(r.get()));
      auto soa = rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_SOA);
      ASSERT_EQ(soa.size(), 1u);
      EXPECT_EQ(ldns_pkt_ancount(r.get()), 1);
      EXPECT_EQ(owner_text(soa[0]), "example.com.");
      EXPECT_EQ(ldns_rdf2native_int32(ldns_rr_rdf(soa[0], 2)), ours);
    }
    auto older = run(ixfr("example.com", ours - 1).b, transport);
    EXPECT_EQ(ldns_pkt_get_rcode(older.get()), LDNS_RCODE_REFUSED);
    EXPECT_EQ(ldns_pkt_ancount(older.get()), 0);
  }
  // Not the apex, or no SOA at all: REFUSED as before; a record other than SOA: FORMERR.
  EXPECT_EQ(ldns_pkt_get_rcode(run(ixfr("www.example.com", ours).b).get()), LDNS_RCODE_REFUSED);
  EXPECT_EQ(ldns_pkt_get_rcode(ask("example.com.", LDNS_RR_TYPE_IXFR).get()), LDNS_RCODE_REFUSED);
  EXPECT_EQ(ldns_pkt_get_rcode(run(ixfr("example.com", ours, 1).b).get()), LDNS_RCODE_FORMERR);
  Packet two = ixfr("example.com", ours);  // an IXFR has one authority record
  two.b[9] = 2;
  EXPECT_EQ(ldns_pkt_get_rcode(run(two.b).get()), LDNS_RCODE_FORMERR);
}

// With transfers on (transfer.allow), a UDP IXFR from a client behind us gets our SOA with
// TC set, so it retries over TCP (RFC 1995 §2); up to date, the SOA alone without TC. Over TCP
// the engine still refuses it: the TCP server hands transfers to transfer/ first.
TEST_F(ProtocolEdgesTest, WithTransfersAUdpIxfrFromBehindGetsTheSoaAndTc) {
  limits_.transfers = true;
  const std::uint32_t ours = snap_->serial;
  auto behind = run(ixfr("example.com", ours - 1).b, query::Transport::kUdp);
  EXPECT_EQ(ldns_pkt_get_rcode(behind.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_tc(behind.get()));
  EXPECT_TRUE(ldns_pkt_aa(behind.get()));
  auto soa = rrs(behind.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_SOA);
  ASSERT_EQ(soa.size(), 1u);
  EXPECT_EQ(ldns_rdf2native_int32(ldns_rr_rdf(soa[0], 2)), ours);
  auto current = run(ixfr("example.com", ours).b, query::Transport::kUdp);
  EXPECT_FALSE(ldns_pkt_tc(current.get()));
  EXPECT_EQ(ldns_pkt_ancount(current.get()), 1);
  auto tcp = run(ixfr("example.com", ours - 1).b, query::Transport::kTcp);
  EXPECT_EQ(ldns_pkt_get_rcode(tcp.get()), LDNS_RCODE_REFUSED);
  EXPECT_EQ(ldns_pkt_get_rcode(run(ixfr("www.example.com", ours - 1).b).get()), LDNS_RCODE_REFUSED);
}

// zones/example.com.zone plus three delegations: "big" with five in-domain name servers
// whose glue cannot all fit in 512 bytes, "sib" served by the same (sibling) name servers,
// "small" with one.
std::shared_ptr<const catalog::Snapshot> delegations() {
  std::string path = ::testing::TempDir() + "discodns_protocol_edges.zone";
  {
    std::ifstream in(std::string(DISCODNS_SOURCE_DIR) + "/zones/example.com.zone");
    std::ofstream out(path);
    out << in.rdbuf() << "small IN NS ns.small\nns.small IN A 192.0.2.53\n"
        << "ns.small IN AAAA 2001:db8::53\n";
    for (int i = 0; i < 5; ++i) {
      std::string ns = "name-server-number-" + std::to_string(i) + "-with-a-long-label.big";
      out << "big IN NS " << ns << "\nsib IN NS " << ns << "\n"
          << ns << " IN A 192.0.2." << i + 1 << "\n"
          << ns << " IN AAAA 2001:db8::" << i + 1 << "\n";
    }
  }
  catalog::BuildInput input = build_input({});
  input.zone =
      std::make_shared<catalog::StaticZone>(catalog::load_static_zone(path, "example.com."));
  return catalog::build_snapshot(input);
}

// RFC 9471 §3: glue of in-domain name servers MUST be in a referral, else TC; glue of
// sibling name servers may be left out without TC.
TEST_F(ProtocolEdgesTest, ReferralSetsTcWhenRequiredGlueDoesNotFit) {
  snap_ = delegations();
  auto small = ask("x.small.example.com.", LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_pkt_get_rcode(small.get()), LDNS_RCODE_NOERROR);
  EXPECT_FALSE(ldns_pkt_aa(small.get()));
  EXPECT_FALSE(ldns_pkt_tc(small.get()));
  EXPECT_EQ(rrs(small.get(), LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_NS).size(), 1u);
  EXPECT_EQ(rrs(small.get(), LDNS_SECTION_ADDITIONAL).size(), 2u);

  auto big = ask("x.big.example.com.", LDNS_RR_TYPE_A);
  EXPECT_LE(last_.size(), 512u);
  EXPECT_TRUE(ldns_pkt_tc(big.get()));
  EXPECT_TRUE(outcome_.truncated);
  EXPECT_EQ(rrs(big.get(), LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_NS).size(), 5u);
  EXPECT_LT(rrs(big.get(), LDNS_SECTION_ADDITIONAL).size(), 10u);

  auto sibling = ask("x.sib.example.com.", LDNS_RR_TYPE_A);
  EXPECT_LE(last_.size(), 512u);
  EXPECT_FALSE(ldns_pkt_tc(sibling.get()));
  EXPECT_EQ(rrs(sibling.get(), LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_NS).size(), 5u);
  EXPECT_LT(rrs(sibling.get(), LDNS_SECTION_ADDITIONAL).size(), 10u);

  QueryOptions edns;  // room enough: all the glue, no TC
  edns.edns = true;
  auto roomy = ask("x.big.example.com.", LDNS_RR_TYPE_A, edns);
  EXPECT_FALSE(ldns_pkt_tc(roomy.get()));
  EXPECT_EQ(rrs(roomy.get(), LDNS_SECTION_ADDITIONAL, LDNS_RR_TYPE_A).size(), 5u);
  EXPECT_EQ(rrs(roomy.get(), LDNS_SECTION_ADDITIONAL, LDNS_RR_TYPE_AAAA).size(), 5u);
}

// A query over EDNS with the given options.
Packet edns_query(const std::string& name, std::uint16_t udp_size,
                  std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>> options,
                  std::uint16_t type = 1, std::uint16_t klass = 1) {
  Packet p;
  p.header(0x0100, 1, 0, 0, 1).question(name, type, klass).opt(udp_size, 0, std::move(options));
  return p;
}

// RFC 5001: an empty NSID option gets ours, when one is configured; in every answer with an
// OPT, errors included.
TEST_F(ProtocolEdgesTest, NsidOnlyWhenRequestedAndConfigured) {
  auto nsid_of = [&](const Packet& p) -> std::optional<std::string> {
    auto options = edns_options(run(p.b).get());
    if (options.count(kNsid) == 0) return std::nullopt;
    EXPECT_EQ(options.count(kNsid), 1u);
    return text(options.find(kNsid)->second);
  };
  const Packet asked = edns_query(kName, 1232, {{kNsid, {}}});
  EXPECT_EQ(nsid_of(asked), std::nullopt);  // not configured
  limits_.nsid.assign("fra-3");
  EXPECT_EQ(nsid_of(asked), "fra-3");
  EXPECT_EQ(nsid_of(edns_query(kName, 1232, {})), std::nullopt);                // not asked
  EXPECT_EQ(nsid_of(edns_query(kName, 1232, {{kNsid, {'x'}}})), std::nullopt);  // not empty
  EXPECT_EQ(nsid_of(edns_query("example.org", 1232, {{kNsid, {}}})), "fra-3");  // REFUSED
  EXPECT_EQ(ldns_pkt_get_rcode(decode(last_).get()), LDNS_RCODE_REFUSED);
  Packet formerr = with_answer_record(1);
  formerr.opt(1232, 0, {{kNsid, {}}});
  EXPECT_EQ(nsid_of(formerr), "fra-3");
  EXPECT_EQ(ldns_pkt_get_rcode(decode(last_).get()), LDNS_RCODE_FORMERR);
  Packet cookie_only;
  cookie_only.header(0, 0, 0, 0, 1).opt(1232, 0, {{kCookie, kClientCookie}, {kNsid, {}}});
  EXPECT_EQ(nsid_of(cookie_only), "fra-3");
}

// The NSID counts against the UDP size: answers of every size up to the limit stay within
// it and keep their OPT with the NSID (max_address_records steps the answer through sizes).
TEST_F(ProtocolEdgesTest, NsidFitsTheUdpBudget) {
  std::vector<registry::Instance> instances;
  for (int i = 0; i < 80; ++i) {
    instances.push_back(instance("big.app", "dev", "gd", "h" + std::to_string(i),
                                 {{"grpc", "10.9.0." + std::to_string(i + 1), 9000}}, kNow));
  }
  snap_ = build(observed_at(instances, kNow));
  limits_.nsid.assign(std::string(query::kMaxNsidLength, 'n'));
  for (std::uint16_t size : {512, 1232}) {
    for (unsigned cap = 1; cap <= 80; ++cap) {
      SCOPED_TRACE(std::to_string(size) + " " + std::to_string(cap));
      limits_.max_address_records = cap;
      auto r = run(edns_query("big.app.dev.gd.china.example.com", size,
                              {{kNsid, {}}, {kCookie, kClientCookie}})
                       .b);
      EXPECT_LE(last_.size(), size);
      auto options = edns_options(r.get());
      ASSERT_EQ(options.count(kNsid), 1u);
      EXPECT_EQ(options.find(kNsid)->second.size(), query::kMaxNsidLength);
      EXPECT_EQ(options.count(kCookie), 1u);
    }
  }
}

// RFC 4892: CH TXT id.server. and hostname.bind. give the identity, version.bind. the
// version; AA, class CH, TTL 0. Off (REFUSED, as any class but IN) unless configured.
TEST_F(ProtocolEdgesTest, ChaosIdentityWhenConfigured) {
  QueryOptions chaos;
  chaos.klass = LDNS_RR_CLASS_CH;
  for (const char* name : {"id.server.", "hostname.bind.", "version.bind.", "ID.Server."}) {
    auto r = ask(name, LDNS_RR_TYPE_TXT, chaos);
    EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_REFUSED) << name;
    EXPECT_FALSE(ldns_pkt_aa(r.get()));
    EXPECT_EQ(ldns_pkt_ancount(r.get()), 0);
  }
  limits_.identity.assign("dns-3.fra");
  EXPECT_EQ(ldns_pkt_get_rcode(ask("version.bind.", LDNS_RR_TYPE_TXT, chaos).get()),
            LDNS_RCODE_REFUSED);  // identity alone does not answer the version
  limits_.version.assign("discodns 0.1.0");
  const std::pair<const char*, const char*> expected[] = {{"id.server.", "\"dns-3.fra\""},
                                                          {"hostname.bind.", "\"dns-3.fra\""},
                                                          {"ID.Server.", "\"dns-3.fra\""},
                                                          {"version.bind.", "\"discodns 0.1.0\""}};
  for (const auto& [name, txt] : expected) {
    SCOPED_TRACE(name);
    auto r = ask(name, LDNS_RR_TYPE_TXT, chaos);
    EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NOERROR);
    EXPECT_TRUE(ldns_pkt_aa(r.get()));
    auto answers = rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_TXT);
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(ldns_pkt_ancount(r.get()), 1);
    EXPECT_EQ(ldns_rr_get_class(answers[0]), LDNS_RR_CLASS_CH);
    EXPECT_EQ(ldns_rr_ttl(answers[0]), 0u);
    EXPECT_EQ(owner_text(answers[0]), name);
    EXPECT_EQ(rdf_text(answers[0], 0), txt);
  }
  // Other CHAOS names and types, and the identity names in class IN: REFUSED.
  EXPECT_EQ(ldns_pkt_get_rcode(ask("id.server.", LDNS_RR_TYPE_A, chaos).get()), LDNS_RCODE_REFUSED);
  EXPECT_EQ(ldns_pkt_get_rcode(ask("authors.bind.", LDNS_RR_TYPE_TXT, chaos).get()),
            LDNS_RCODE_REFUSED);
  EXPECT_EQ(ldns_pkt_get_rcode(ask("id.server.", LDNS_RR_TYPE_TXT).get()), LDNS_RCODE_REFUSED);
  // With EDNS: the OPT and, asked for, the NSID.
  limits_.nsid.assign("fra-3");
  auto r = run(edns_query("id.server", 1232, {{kNsid, {}}}, wire::type::kTxt, 3).b);
  EXPECT_EQ(rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_TXT).size(), 1u);
  auto options = edns_options(r.get());
  ASSERT_EQ(options.count(kNsid), 1u);
  EXPECT_EQ(text(options.find(kNsid)->second), "fra-3");
}

}  // namespace
}  // namespace discodns::testing
