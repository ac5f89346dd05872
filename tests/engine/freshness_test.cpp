// Answers as the TTL rules (catalog/ttl_policy.hpp) make them, decoded by ldns: lateness judged
// as of the reconcile that observed a renew time, negative TTLs at and below registry regions,
// and the on-miss signal (query::Outcome::miss_region).
#include <fstream>
#include <set>

#include "oracle.hpp"

namespace discodns::testing {
namespace {

constexpr common::Nanos kS = common::kNanosPerSecond;
constexpr common::Nanos kT = 1'800'000'000LL * kS;  // "t = 0" of the worked examples
const std::string kService = "goim.comet.dev.gd.china.example.com.";

registry::Instance comet(int n, common::Nanos renew, common::Nanos observed) {
  std::string ip = "10.0.0." + std::to_string(10 + n);
  auto inst = instance("goim.comet", "dev", "gd", "comet-" + std::to_string(n),
                       {{"grpc", ip, 3109}}, renew);
  inst.observed_ns = observed;
  return inst;
}

std::set<std::string> addresses(const ldns_pkt* pkt) {
  std::set<std::string> out;
  for (auto* rr : rrs(pkt, LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A))
    out.insert(rdf_text(rr, 0));
  return out;
}

std::uint32_t soa_ttl(const ldns_pkt* pkt) {
  auto soa = ttls(pkt, LDNS_SECTION_AUTHORITY, LDNS_RR_TYPE_SOA);
  EXPECT_EQ(soa.size(), 1u);
  return soa.empty() ? 0 : soa[0];
}

// README "TTLs": renew_interval 30 s, late_grace 5 s, reconcile every 15 s.
TEST(Freshness, WorkedExampleInRealAnswers) {
  // Both renewed at t=100 s, seen by the reconcile at t=125 s: good until 140 s.
  auto snap =
      build({comet(1, kT + 100 * kS, kT + 125 * kS), comet(2, kT + 100 * kS, kT + 125 * kS)});
  auto r = ask(*snap, kService, LDNS_RR_TYPE_A, kT + 126 * kS);
  EXPECT_EQ(addresses(r.get()), (std::set<std::string>{"10.0.0.11", "10.0.0.12"}));
  EXPECT_EQ(ttls(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A),
            (std::vector<std::uint32_t>{14, 14}));
  // The reconcile at t=140 s: comet-1 renewed at 130 s, comet-2 still at 100 s (late: 40 > 35).
  snap = build({comet(1, kT + 130 * kS, kT + 140 * kS), comet(2, kT + 100 * kS, kT + 140 * kS)});
  r = ask(*snap, kService, LDNS_RR_TYPE_A, kT + 141 * kS);
  EXPECT_EQ(addresses(r.get()), (std::set<std::string>{"10.0.0.11"}));
  // good until max(140 + 15, 130 + 35) = 165 s.
  EXPECT_EQ(ttls(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), (std::vector<std::uint32_t>{24}));
}

TEST(Freshness, LatenessIsJudgedAsOfObservationNotNow) {
  // comet-1 renewed 40 s before now, but the reconcile that carried it came 5 s after the
  // renew: not late, so served next to comet-2 (its time is up: the RRset gets ttl.min).
  auto snap = build({comet(1, kT - 40 * kS, kT - 35 * kS), comet(2, kT - 5 * kS, kT)});
  auto r = ask(*snap, kService, LDNS_RR_TYPE_A, kT);
  EXPECT_EQ(addresses(r.get()), (std::set<std::string>{"10.0.0.11", "10.0.0.12"}));
  EXPECT_EQ(ttls(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), (std::vector<std::uint32_t>{1, 1}));
  // Its own name too.
  auto host = ask(*snap, "comet-1." + kService, LDNS_RR_TYPE_A, kT);
  EXPECT_EQ(addresses(host.get()), (std::set<std::string>{"10.0.0.11"}));
}

TEST(Freshness, ASharedServiceAddressIsAsFreshAsItsFreshestInstance) {
  // comet-1 (late) and comet-2 (good until t + 25 s) both carry 10.0.0.99; comet-3 has its own.
  auto late = comet(1, kT - 60 * kS, kT);
  auto fresh = comet(2, kT - 10 * kS, kT);
  late.endpoints[0].host = fresh.endpoints[0].host = "10.0.0.99";
  auto snap = build({late, fresh, comet(3, kT - 5 * kS, kT)});
  auto r = ask(*snap, kService, LDNS_RR_TYPE_A, kT);
  EXPECT_EQ(addresses(r.get()), (std::set<std::string>{"10.0.0.99", "10.0.0.13"}));
  EXPECT_EQ(ttls(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A),
            (std::vector<std::uint32_t>{25, 25}));
  // comet-1's own name has only its own (late) time: served alone, with ttl.min.
  auto host = ask(*snap, "comet-1." + kService, LDNS_RR_TYPE_A, kT);
  EXPECT_EQ(ttls(host.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), (std::vector<std::uint32_t>{1}));
}

TEST(Freshness, NeverObservedIsNeverLate) {
  // observed 0 (poll-only data): good until renew + 35 s, and never left out.
  auto snap = build({comet(1, kT - 300 * kS, 0), comet(2, kT - 5 * kS, kT)});
  auto r = ask(*snap, kService, LDNS_RR_TYPE_A, kT);
  EXPECT_EQ(addresses(r.get()), (std::set<std::string>{"10.0.0.11", "10.0.0.12"}));
  auto young = build({comet(1, kT - 5 * kS, 0)});
  auto y = ask(*young, kService, LDNS_RR_TYPE_A, kT);
  EXPECT_EQ(ttls(y.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), (std::vector<std::uint32_t>{30}));
}

TEST(Freshness, LatenessStaysAsLastObservedWhileTheRegistryIsUnreachable) {
  // Last good answer at t: comet-1 fresh then, comet-2 late then. A minute later, with no
  // reconcile since, comet-1 is still served and comet-2 still left out.
  auto instances = observed_at({comet(1, kT - 2 * kS, 0), comet(2, kT - 50 * kS, 0)}, kT);
  auto snap = build(instances, /*last_good_ns=*/kT, /*stale=*/true);
  auto r = ask(*snap, kService, LDNS_RR_TYPE_A, kT + 60 * kS);
  EXPECT_EQ(addresses(r.get()), (std::set<std::string>{"10.0.0.11"}));
  EXPECT_EQ(ttls(r.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A), (std::vector<std::uint32_t>{1}));
  auto early = ask(*snap, kService, LDNS_RR_TYPE_A, kT + kS);
  EXPECT_EQ(ttls(early.get(), LDNS_SECTION_ANSWER, LDNS_RR_TYPE_A),
            (std::vector<std::uint32_t>{5}));  // stale cap
}

std::vector<registry::Instance> one_service() {
  return observed_at({comet(1, kT - kS, 0)}, kT);
}

TEST(NegativeTtl, ShortAtAndBelowRegions) {
  auto snap = build(one_service());
  // Below (and at) the region: min(SOA negative TTL 30, ttl.negative 5).
  for (const char* name : {"nope.dev.gd.china.example.com.", "china.example.com.",
                           "dev.gd.china.example.com.", "x.y.z.china.example.com."}) {
    auto r = ask(*snap, name, LDNS_RR_TYPE_A, kT);
    EXPECT_EQ(soa_ttl(r.get()), 5u) << name;
  }
  auto nodata = ask(*snap, kService, LDNS_RR_TYPE_MX, kT);
  EXPECT_EQ(ldns_pkt_get_rcode(nodata.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(soa_ttl(nodata.get()), 5u);
  // Static names and names outside every region: the SOA's, as before.
  for (const char* name : {"www.example.com.", "example.com.", "nope.example.com."}) {
    auto r = ask(*snap, name, LDNS_RR_TYPE_MX, kT);
    EXPECT_EQ(soa_ttl(r.get()), 30u) << name;
  }
}

TEST(NegativeTtl, NeverLongerThanTheSoaSays) {
  catalog::BuildInput input = build_input(one_service());
  input.ttl.negative_s = 60;
  auto snap = catalog::build_snapshot(input);
  EXPECT_EQ(soa_ttl(ask(*snap, "nope.dev.gd.china.example.com.", LDNS_RR_TYPE_A, kT).get()), 30u);
  input.ttl.negative_s = 2;
  snap = catalog::build_snapshot(input);
  EXPECT_EQ(soa_ttl(ask(*snap, "nope.dev.gd.china.example.com.", LDNS_RR_TYPE_A, kT).get()), 2u);
}

TEST(NegativeTtl, StaticNameBelowARegionKeepsTheSoaTtl) {
  std::string path = ::testing::TempDir() + "discodns_static_below_region.zone";
  {
    std::ifstream in(std::string(DISCODNS_SOURCE_DIR) + "/zones/example.com.zone");
    std::ofstream out(path);
    out << in.rdbuf() << "pinned.china IN A 192.0.2.99\n";
  }
  catalog::BuildInput input = build_input(one_service());
  input.zone =
      std::make_shared<catalog::StaticZone>(catalog::load_static_zone(path, "example.com."));
  auto snap = catalog::build_snapshot(input);
  auto pinned = ask(*snap, "pinned.china.example.com.", LDNS_RR_TYPE_MX, kT);
  EXPECT_EQ(ldns_pkt_get_rcode(pinned.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(soa_ttl(pinned.get()), 30u);
  auto below = ask(*snap, "nope.pinned.china.example.com.", LDNS_RR_TYPE_A, kT);
  EXPECT_EQ(ldns_pkt_get_rcode(below.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(soa_ttl(below.get()), 5u);
}

TEST(MissRegion, SetForMissesThatCouldBeAnAppNotFetchedYet) {
  catalog::BuildInput input = build_input(one_service());
  catalog::RegionData other = input.regions[0];
  other.region = "other";
  other.data = registry_data(
      observed_at({instance("pay", "prod", "sh", "p-1", {{"grpc", "10.9.0.1", 1}}, kT - kS)}, kT));
  input.regions.push_back(other);
  auto snap = catalog::build_snapshot(input);
  struct Case {
    const char* name;
    ldns_rr_type type;
    std::uint16_t region;
  };
  constexpr std::uint16_t kNo = catalog::kNoRegion;
  for (const Case& c : std::initializer_list<Case>{
           {"new.dev.gd.china.example.com.", LDNS_RR_TYPE_A, 0},    // NXDOMAIN, 3 labels
           {"NEW.Dev.GD.China.example.com.", LDNS_RR_TYPE_SRV, 0},  // case does not matter
           {"a.new.dev.gd.china.example.com.", LDNS_RR_TYPE_A, 0},  // dotted appid
           {"new.prod.sh.other.example.com.", LDNS_RR_TYPE_A, 1},   // the second region
           {"comet.dev.gd.china.example.com.", LDNS_RR_TYPE_A, 0},  // empty non-terminal
           {"prod.sh.other.example.com.", LDNS_RR_TYPE_A, kNo},     // 2 labels: env.zone
           {"nope.gd.china.example.com.", LDNS_RR_TYPE_A, kNo},     // NXDOMAIN, 2 labels
           {"china.example.com.", LDNS_RR_TYPE_A, kNo},             // the region itself
           {kService.c_str(), LDNS_RR_TYPE_A, kNo},                 // an answer
           {kService.c_str(), LDNS_RR_TYPE_MX, kNo},                // NODATA at a name
           {"x.y.z.nowhere.example.com.", LDNS_RR_TYPE_A, kNo},     // no such region
           {"nope.example.com.", LDNS_RR_TYPE_A, kNo},              // the static zone
       }) {
    query::Outcome outcome;
    ask(*snap, c.name, c.type, kT, &outcome);
    EXPECT_EQ(outcome.miss_region, c.region) << c.name;
  }
}

}  // namespace
}  // namespace discodns::testing
