// --dump-zone output: a master file that ldns (like NSD or Knot) loads, with the same
// records and TTLs the engine serves.
#include <cstdio>
#include <sstream>

#include "catalog/dump.hpp"
#include "oracle.hpp"

namespace discodns::testing {
namespace {

constexpr common::Nanos kNow = 1'800'000'000LL * common::kNanosPerSecond;

TEST(DumpZone, LoadsBackWithTheServedRecords) {
  auto snap = build({instance("goim.comet", "dev", "gd", "comet-1",
                              {{"grpc", "10.0.0.11", 3109}, {"http", "10.0.0.11", 3111}},
                              kNow - 15 * common::kNanosPerSecond),
                     instance("goim.comet", "dev", "gd", "comet-2", {{"grpc", "fd00::2", 3109}},
                              kNow - 5 * common::kNanosPerSecond)});
  std::ostringstream text;
  catalog::dump_zone(*snap, kNow, text);
  std::string s = text.str();
  FILE* f = fmemopen(s.data(), s.size(), "r");
  ASSERT_NE(f, nullptr);
  ldns_zone* zone = nullptr;
  int line = 0;
  ASSERT_EQ(ldns_zone_new_frm_fp_l(&zone, f, nullptr, 3600, LDNS_RR_CLASS_IN, &line),
            LDNS_STATUS_OK)
      << "line " << line << "\n"
      << s;
  fclose(f);
  ASSERT_NE(ldns_zone_soa(zone), nullptr);
  EXPECT_EQ(ldns_rdf2native_int32(ldns_rr_rdf(ldns_zone_soa(zone), 2)), snap->serial);
  // Static: NS, ns1 A, ns1 AAAA, www A. Synthesized: service A + AAAA, 2 SRV grpc, 1 SRV http,
  // comet-1 A + TXT, comet-2 AAAA + TXT.
  EXPECT_EQ(ldns_rr_list_rr_count(ldns_zone_rrs(zone)), 4u + 2u + 3u + 4u) << s;
  // comet-1 renewed 15 s before kNow: good until renew + 35 s, 20 s left.
  EXPECT_NE(s.find("goim.comet.dev.gd.china.example.com.\t20\tIN\tA\t10.0.0.11"), std::string::npos)
      << s;
  ldns_zone_deep_free(zone);
}

}  // namespace
}  // namespace discodns::testing
