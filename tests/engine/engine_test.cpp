// The query engine in-process: wire queries in, responses decoded by ldns.
#include <arpa/inet.h>

#include <set>

#include "oracle.hpp"
#include "wire/bytes.hpp"

namespace discodns::testing {
namespace {

using registry::Endpoint;
constexpr common::Nanos kSecond = common::kNanosPerSecond;
constexpr common::Nanos kNow = 1'800'000'000 * kSecond;
const std::string kService = "goim.comet.dev.gd.china.example.com.";

// As a reconcile received at kNow carried them: good until max(kNow + 15 s, renew + 35 s).
std::vector<registry::Instance> demo() {
  return observed_at(
      {
          instance("goim.comet", "dev", "gd", "comet-1",
                   {{"grpc", "10.0.0.11", 3109}, {"http", "10.0.0.11", 3111}}, kNow - 10 * kSecond,
                   10),
          instance("goim.comet", "dev", "gd", "comet-2",
                   {{"grpc", "10.0.0.12", 3109}, {"http", "10.0.0.12", 3111}}, kNow - 15 * kSecond,
                   20),
          instance("goim.comet", "dev", "gd", "Comet_3.local", {{"grpc", "fd00::13", 4000}},
                   kNow - 7 * kSecond, 30),
          instance("goim.comet", "dev", "gd", "comet-9", {{"grpc", "10.0.0.19", 3109}},
                   kNow - 1 * kSecond, 10, registry::Status::kWaiting),
          instance("goim.logic", "dev", "gd", "logic-1", {{"grpc", "10.0.1.1", 3119}},
                   kNow - kSecond),
          instance("b", "dev", "gd", "a", {{"grpc", "10.0.2.1", 1}}, kNow - kSecond),
          instance("a.b", "dev", "gd", "x", {{"grpc", "10.0.2.2", 2}}, kNow - kSecond),
      },
      kNow);
}

class EngineTest : public ::testing::Test {
 protected:
  PacketPtr ask(const std::string& name, ldns_rr_type type, const QueryOptions& options = {},
                query::Transport transport = query::Transport::kUdp, common::Nanos now = kNow) {
    return run(make_query(name, type, options), transport, now);
  }
  PacketPtr run(const std::vector<std::uint8_t>& wire,
                query::Transport transport = query::Transport::kUdp, common::Nanos now = kNow) {
    last_ = respond(wire, transport, now);
    EXPECT_TRUE(outcome_.respond);
    return decode(last_);
  }
  std::vector<std::uint8_t> respond(const std::vector<std::uint8_t>& wire,
                                    query::Transport transport = query::Transport::kUdp,
                                    common::Nanos now = kNow) {
    std::vector<std::uint8_t> out(query::kMaxResponseSize);
    query::QueryContext ctx;
    ctx.transport = transport;
    ctx.rotation = rotation_++;
    static const std::uint8_t kClient[4] = {127, 0, 0, 1};
    ctx.client_address = kClient;
    outcome_ = query::answer(wire, *snap_, now, limits_, ctx, out);
    out.resize(outcome_.respond ? outcome_.size : 0);
    return out;
  }

  std::shared_ptr<const catalog::Snapshot> snap_ = build(demo());
  query::Limits limits_;
  query::Outcome outcome_;
  std::uint32_t rotation_ = 0;
  std::vector<std::uint8_t> last_;
};

TEST_F(EngineTest, ServiceAnswersAWithUpInstancesOnly) {
  auto r = ask(kService, LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_aa(r.get()));
  EXPECT_FALSE(ldns_pkt_ra(r.get()));
  EXPECT_TRUE(ldns_pkt_rd(r.get()));
  EXPECT_TRUE(ldns_pkt_qr(r.get()));
  EXPECT_EQ(ldns_pkt_id(r.get()), 0x1234);
  std::set<std::string> addresses;
  for (auto* rr : rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A)) {
    addresses.insert(rdf_text(rr, 0));
    EXPECT_EQ(owner_text(rr), kService);
    // RRset TTL is the minimum of its members: comet-2 renewed 15 s ago -> 35 - 15 = 20 s left.
    EXPECT_EQ(ldns_rr_ttl(rr), 20u);
  }
  EXPECT_EQ(addresses, (std::set<std::string>{"10.0.0.11", "10.0.0.12"}));
}

TEST_F(EngineTest, ServiceAnswersAaaa) {
  auto r = ask(kService, LDNS_RR_TYPE_AAAA);
  auto answers = rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_AAAA);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(rdf_text(answers[0], 0), "fd00::13");
  EXPECT_EQ(ldns_rr_ttl(answers[0]), 28u);
}

TEST_F(EngineTest, SrvCarriesWeightsPortsTargetsAndGlue) {
  auto r = ask("_grpc._tcp." + kService, LDNS_RR_TYPE_SRV);
  EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NOERROR);
  auto answers = rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_SRV);
  ASSERT_EQ(answers.size(), 3u);
  std::set<std::string> seen;
  for (auto* rr : answers) {
    seen.insert(rdf_text(rr, 0) + " " + rdf_text(rr, 1) + " " + rdf_text(rr, 2) + " " +
                rdf_text(rr, 3));
  }
  EXPECT_EQ(seen,
            (std::set<std::string>{"0 10 3109 comet-1." + kService, "0 20 3109 comet-2." + kService,
                                   "0 30 4000 comet-3-local." + kService}));
  auto glue_a = rrs(r.get(), LDNS_SECTION_ADDITIONAL, LDNS_RR_TYPE_A);
  auto glue_aaaa = rrs(r.get(), LDNS_SECTION_ADDITIONAL, LDNS_RR_TYPE_AAAA);
  EXPECT_EQ(glue_a.size(), 2u);
  ASSERT_EQ(glue_aaaa.size(), 1u);
  EXPECT_EQ(owner_text(glue_aaaa[0]), "comet-3-local." + kService);
}

// RFC 2181 §5: no duplicate RR. A dual-stack instance (one port on its IPv4 and its IPv6
// address) gets one SRV, not two (which doubled its share of SRV-weighted traffic); a host on
// two ports gets two SRVs but its addresses once in the additional section.
TEST_F(EngineTest, DualStackInstanceGetsOneSrvPerPortAndItsAddressesOnce) {
  snap_ = build(observed_at(
      {instance("ds.app", "dev", "gd", "h1",
                {{"grpc", "10.1.1.1", 9000}, {"grpc", "fd00::1", 9000}, {"grpc", "10.1.1.1", 9001}},
                kNow - kSecond),
       instance("ds.app", "dev", "gd", "h2",
                {{"grpc", "10.1.1.2", 9000}, {"grpc", "fd00::2", 9000}}, kNow - kSecond)},
      kNow));
  const std::string service = "ds.app.dev.gd.china.example.com.";
  auto r = ask("_grpc._tcp." + service, LDNS_RR_TYPE_SRV, {}, query::Transport::kTcp);
  std::multiset<std::string> srv;
  for (auto* rr : rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_SRV))
    srv.insert(rdf_text(rr, 2) + " " + rdf_text(rr, 3));
  EXPECT_EQ(srv, (std::multiset<std::string>{"9000 h1." + service, "9001 h1." + service,
                                             "9000 h2." + service}));
  for (auto section : {LDNS_SECTION_ANSWER, LDNS_SECTION_AUTHORITY, LDNS_SECTION_ADDITIONAL}) {
    std::set<std::string> seen;
    for (auto* rr : rrs(r.get(), section)) {
      char* text = ldns_rr2str(rr);
      EXPECT_TRUE(seen.insert(text).second) << "duplicate: " << text;
      LDNS_FREE(text);
    }
  }
  EXPECT_EQ(rrs(r.get(), LDNS_SECTION_ADDITIONAL, LDNS_RR_TYPE_A).size(), 2u);
  EXPECT_EQ(rrs(r.get(), LDNS_SECTION_ADDITIONAL, LDNS_RR_TYPE_AAAA).size(), 2u);
  auto a = ask(service, LDNS_RR_TYPE_A);
  EXPECT_EQ(rrs(a.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A).size(), 2u);
}

TEST_F(EngineTest, HttpSrvOnlyListsHttpEndpoints) {
  auto r = ask("_http._tcp." + kService, LDNS_RR_TYPE_SRV);
  auto answers = rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_SRV);
  ASSERT_EQ(answers.size(), 2u);
  for (auto* rr : answers)
    EXPECT_EQ(rdf_text(rr, 2), "3111");
}

TEST_F(EngineTest, InstanceNameHasAddressAndTxt) {
  auto r = ask("comet-1." + kService, LDNS_RR_TYPE_TXT);
  auto txt = rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_TXT);
  ASSERT_EQ(txt.size(), 1u);
  std::string all;
  for (std::size_t i = 0; i < ldns_rr_rd_count(txt[0]); ++i)
    all += rdf_text(txt[0], i) + " ";
  EXPECT_NE(all.find("\"version=v1\""), std::string::npos) << all;
  EXPECT_NE(all.find("\"zone=gd\""), std::string::npos) << all;
  EXPECT_NE(all.find("\"weight=10\""), std::string::npos) << all;
  auto a = ask("comet-1." + kService, LDNS_RR_TYPE_A);
  ASSERT_EQ(rrs(a.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A).size(), 1u);
  // A WAITING instance keeps its own name (for humans) but is not in the service answer.
  auto waiting = ask("comet-9." + kService, LDNS_RR_TYPE_A);
  EXPECT_EQ(rrs(waiting.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A).size(), 1u);
}

TEST_F(EngineTest, ApexSoaAndNs) {
  auto r = ask("example.com.", LDNS_RR_TYPE_SOA);
  auto soa = rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_SOA);
  ASSERT_EQ(soa.size(), 1u);
  EXPECT_EQ(rdf_text(soa[0], 0), "ns1.example.com.");
  auto ns = ask("example.com.", LDNS_RR_TYPE_NS);
  auto nsrr = rrs(ns.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_NS);
  ASSERT_EQ(nsrr.size(), 1u);
  EXPECT_EQ(ldns_rr_ttl(nsrr[0]), 3600u);
  // In-zone NS names come with their addresses.
  EXPECT_EQ(rrs(ns.get(), LDNS_SECTION_ADDITIONAL, LDNS_RR_TYPE_A).size(), 1u);
  EXPECT_EQ(rrs(ns.get(), LDNS_SECTION_ADDITIONAL, LDNS_RR_TYPE_AAAA).size(), 1u);
}

TEST_F(EngineTest, NodataHasSoaWithNegativeTtl) {
  // A static name: below a region the negative TTL is shorter (NegativeTtlBelowRegions).
  auto r = ask("www.example.com.", LDNS_RR_TYPE_MX);
  EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(ldns_pkt_aa(r.get()));
  EXPECT_EQ(ldns_pkt_ancount(r.get()), 0);
  auto soa = rrs(r.get(), LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_SOA);
  ASSERT_EQ(soa.size(), 1u);
  EXPECT_EQ(owner_text(soa[0]), "example.com.");
  EXPECT_EQ(ldns_rr_ttl(soa[0]), 30u);  // min(SOA TTL 3600, minimum 30)
  EXPECT_EQ(outcome_.miss_region, catalog::kNoRegion);
}

// A name below a region that no app answers is reported for the on-miss fetch when it could
// be appid.env.zone.region (3 labels or more below the region).
TEST_F(EngineTest, MissesBelowARegionAreReported) {
  ask("nope.dev.gd.china.example.com.", LDNS_RR_TYPE_A);
  EXPECT_EQ(outcome_.miss_region, 0);
  ask("_grpc._tcp.new.app.dev.gd.china.example.com.", LDNS_RR_TYPE_SRV);
  EXPECT_EQ(outcome_.miss_region, 0);
  ask("dev.gd.china.example.com.", LDNS_RR_TYPE_A);  // empty non-terminal, 2 labels: no app
  EXPECT_EQ(outcome_.miss_region, catalog::kNoRegion);
  ask("nope.example.com.", LDNS_RR_TYPE_A);  // not below a region
  EXPECT_EQ(outcome_.miss_region, catalog::kNoRegion);
  ask(kService, LDNS_RR_TYPE_A);
  EXPECT_EQ(outcome_.miss_region, catalog::kNoRegion);
}

TEST_F(EngineTest, NxdomainHasSoa) {
  auto r = ask("nope.dev.gd.china.example.com.", LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_TRUE(ldns_pkt_aa(r.get()));
  EXPECT_EQ(rrs(r.get(), LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_SOA).size(), 1u);
}

TEST_F(EngineTest, EmptyNonTerminalsAreNodata) {
  for (const char* name :
       {"dev.gd.china.example.com.", "gd.china.example.com.", "china.example.com.",
        "comet.dev.gd.china.example.com.", "_tcp.goim.comet.dev.gd.china.example.com."}) {
    auto r = ask(name, LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NOERROR) << name;
    EXPECT_EQ(ldns_pkt_ancount(r.get()), 0) << name;
    EXPECT_EQ(rrs(r.get(), LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_SOA).size(), 1u) << name;
  }
}

TEST_F(EngineTest, OutsideTheZoneIsRefused) {
  auto r = ask("example.org.", LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_REFUSED);
  EXPECT_FALSE(ldns_pkt_aa(r.get()));
  auto sibling = ask("notexample.com.", LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_pkt_get_rcode(sibling.get()), LDNS_RCODE_REFUSED);
}

TEST_F(EngineTest, MixedCaseIsMatchedAndKept) {
  auto r = ask("GoIm.CoMeT.dEv.GD.China.Example.COM.", LDNS_RR_TYPE_A);
  auto answers = rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(owner_text(answers[0]), "GoIm.CoMeT.dEv.GD.China.Example.COM.");
  auto q = rrs(r.get(), LDNS_SECTION_QUESTION, 0);
  EXPECT_EQ(owner_text(q[0]), "GoIm.CoMeT.dEv.GD.China.Example.COM.");
}

TEST_F(EngineTest, ServiceNameWinsOverInstanceName) {
  // "a.b.dev.gd.china" is both the service of appid "a.b" and host "a" of appid "b".
  auto r = ask("a.b.dev.gd.china.example.com.", LDNS_RR_TYPE_A);
  auto answers = rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(rdf_text(answers[0], 0), "10.0.2.2");
}

TEST_F(EngineTest, StaticRecordsAreServed) {
  auto r = ask("www.example.com.", LDNS_RR_TYPE_A);
  auto answers = rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(ldns_rr_ttl(answers[0]), 3600u);
}

TEST_F(EngineTest, LateInstancesLeftOutWhileFreshOnesExist) {
  auto instances = demo();
  instances[1].renew_ns = kNow - 100 * kSecond;  // comet-2: late
  snap_ = build(instances);
  auto r = ask(kService, LDNS_RR_TYPE_A);
  auto answers = rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(rdf_text(answers[0], 0), "10.0.0.11");
  EXPECT_EQ(ldns_rr_ttl(answers[0]), 25u);
  // All late: all served, with the minimum TTL.
  for (auto& inst : instances)
    inst.renew_ns = kNow - 100 * kSecond;
  snap_ = build(instances);
  auto all_late = ask(kService, LDNS_RR_TYPE_A);
  answers = rrs(all_late.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(ldns_rr_ttl(answers[0]), 1u);
}

TEST_F(EngineTest, TtlFollowsTimeWithoutRebuild) {
  auto later = ask(kService, LDNS_RR_TYPE_AAAA, {}, query::Transport::kUdp, kNow + 20 * kSecond);
  auto answers = rrs(later.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_AAAA);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(ldns_rr_ttl(answers[0]), 8u);  // renewed at -7 s: good until +28 s; 28 - 20
}

TEST_F(EngineTest, FileSourceTimeIsFrozenAtNewestRenew) {
  snap_ = build(demo(), /*last_good_ns=*/0);
  // An hour later, answers look as they did when the file was written.
  auto r = ask(kService, LDNS_RR_TYPE_AAAA, {}, query::Transport::kUdp, kNow + 3600 * kSecond);
  auto answers = rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_AAAA);
  ASSERT_EQ(answers.size(), 1u);
  // The newest renew in the data is kNow - 1 s, comet-3's 6 s older: 35 - 6 = 29.
  EXPECT_EQ(ldns_rr_ttl(answers[0]), 29u);
}

TEST_F(EngineTest, StaleModeCapsTtlThenServfails) {
  snap_ = build(demo(), kNow - 60 * kSecond, /*stale=*/true);
  auto r = ask(kService, LDNS_RR_TYPE_A);
  auto answers = rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A);
  ASSERT_FALSE(answers.empty());
  EXPECT_EQ(ldns_rr_ttl(answers[0]), 5u);
  auto too_old = ask(kService, LDNS_RR_TYPE_A, {}, query::Transport::kUdp, kNow + 3600 * kSecond);
  EXPECT_EQ(ldns_pkt_get_rcode(too_old.get()), LDNS_RCODE_SERVFAIL);
  auto missing = ask("x.dev.gd.china.example.com.", LDNS_RR_TYPE_A, {}, query::Transport::kUdp,
                     kNow + 3600 * kSecond);
  EXPECT_EQ(ldns_pkt_get_rcode(missing.get()), LDNS_RCODE_SERVFAIL);
  // The static zone still answers.
  auto apex =
      ask("example.com.", LDNS_RR_TYPE_SOA, {}, query::Transport::kUdp, kNow + 3600 * kSecond);
  EXPECT_EQ(ldns_pkt_get_rcode(apex.get()), LDNS_RCODE_NOERROR);
}

TEST_F(EngineTest, EdnsIsEchoedWithOurPayloadSizeAndDo) {
  QueryOptions options;
  options.edns = true;
  options.udp_size = 4096;
  options.dnssec_ok = true;
  auto r = ask(kService, LDNS_RR_TYPE_A, options);
  EXPECT_TRUE(ldns_pkt_edns(r.get()));
  EXPECT_EQ(ldns_pkt_edns_udp_size(r.get()), 1232);
  EXPECT_TRUE(ldns_pkt_edns_do(r.get()));
  auto plain = ask(kService, LDNS_RR_TYPE_A);
  EXPECT_FALSE(ldns_pkt_edns(plain.get()));
}

TEST_F(EngineTest, AnyGetsOneRrset) {
  auto r = ask(kService, LDNS_RR_TYPE_ANY);
  EXPECT_EQ(ldns_pkt_get_rcode(r.get()), LDNS_RCODE_NOERROR);
  auto answers = rrs(r.get(), LDNS_SECTION_ANSWER, 0);
  ASSERT_FALSE(answers.empty());
  for (auto* rr : answers)
    EXPECT_EQ(ldns_rr_get_type(rr), ldns_rr_get_type(answers[0]));
}

TEST_F(EngineTest, RecordsRotateBetweenQueries) {
  std::set<std::string> firsts;
  for (int i = 0; i < 4; ++i) {
    auto r = ask(kService, LDNS_RR_TYPE_A);
    firsts.insert(rdf_text(rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A)[0], 0));
  }
  EXPECT_EQ(firsts.size(), 2u);
}

std::vector<registry::Instance> many(int n) {
  std::vector<registry::Instance> out;
  for (int i = 0; i < n; ++i) {
    std::string ip = "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    out.push_back(instance("big.app", "dev", "gd", "big-instance-" + std::to_string(i),
                           {{"grpc", ip, static_cast<std::uint16_t>(9000 + i)}}, kNow - kSecond));
  }
  return out;
}

TEST_F(EngineTest, LargeSrvSetsTruncateOverUdpAndComeWholeOverTcp) {
  snap_ = build(many(60));
  const std::string name = "_grpc._tcp.big.app.dev.gd.china.example.com.";
  auto udp_bytes = respond(make_query(name, LDNS_RR_TYPE_SRV));
  ASSERT_TRUE(outcome_.respond);
  EXPECT_LE(udp_bytes.size(), 512u);
  auto udp = decode(udp_bytes);
  EXPECT_TRUE(ldns_pkt_tc(udp.get()));
  EXPECT_EQ(ldns_pkt_ancount(udp.get()), 0);  // never a partial RRset

  QueryOptions edns;
  edns.edns = true;
  edns.udp_size = 4096;
  auto big = respond(make_query(name, LDNS_RR_TYPE_SRV, edns));
  EXPECT_LE(big.size(), 1232u);

  auto tcp = ask(name, LDNS_RR_TYPE_SRV, {}, query::Transport::kTcp);
  EXPECT_FALSE(ldns_pkt_tc(tcp.get()));
  EXPECT_EQ(rrs(tcp.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_SRV).size(), 60u);
  EXPECT_EQ(rrs(tcp.get(), LDNS_SECTION_ADDITIONAL, LDNS_RR_TYPE_A).size(), 60u);
}

TEST_F(EngineTest, AdditionalsAreDroppedBeforeTruncating) {
  snap_ = build(many(6));
  auto r = ask("_grpc._tcp.big.app.dev.gd.china.example.com.", LDNS_RR_TYPE_SRV);
  EXPECT_FALSE(ldns_pkt_tc(r.get()));
  EXPECT_EQ(rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_SRV).size(), 6u);
  EXPECT_LT(rrs(r.get(), LDNS_SECTION_ADDITIONAL, LDNS_RR_TYPE_A).size(), 6u);
  EXPECT_LE(last_.size(), 512u);
}

TEST_F(EngineTest, AddressRecordCapPicksASubset) {
  snap_ = build(many(20));
  limits_.max_address_records = 4;
  auto r = ask("big.app.dev.gd.china.example.com.", LDNS_RR_TYPE_A);
  EXPECT_EQ(rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A).size(), 4u);
  EXPECT_FALSE(ldns_pkt_tc(r.get()));
}

}  // namespace
}  // namespace discodns::testing

namespace discodns::testing {
namespace {

TEST_F(EngineTest, SoaSerialIsTheSnapshotSerial) {
  auto r = ask("example.com.", LDNS_RR_TYPE_SOA);
  auto soa = rrs(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_SOA);
  ASSERT_EQ(soa.size(), 1u);
  EXPECT_EQ(ldns_rdf2native_int32(ldns_rr_rdf(soa[0], 2)), snap_->serial);
}

}  // namespace
}  // namespace discodns::testing
