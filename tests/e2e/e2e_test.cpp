// The real binary over real sockets: what a client sees (design.md §2, §3, §6).
#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "e2e/harness.hpp"

namespace discodns::e2e {
namespace {

const std::string kService = "goim.comet.dev.gd.china.example.com";
const std::string kSrv = "_grpc._tcp." + kService;

std::string host(const std::string& label) {
  return label + "." + kService;
}

void expect_ttls_in_range(const std::vector<const ldns_rr*>& records) {
  for (const ldns_rr* rr : records) {
    EXPECT_GE(ldns_rr_ttl(rr), 1u) << owner_text(rr);
    EXPECT_LE(ldns_rr_ttl(rr), 30u) << owner_text(rr);
  }
}

void expect_authoritative(const ldns_pkt* pkt) {
  ASSERT_NE(pkt, nullptr);
  EXPECT_TRUE(ldns_pkt_aa(pkt));
  EXPECT_FALSE(ldns_pkt_ra(pkt));
  EXPECT_TRUE(ldns_pkt_qr(pkt));
}

std::set<std::string> addresses(const std::vector<const ldns_rr*>& records) {
  std::set<std::string> out;
  for (const ldns_rr* rr : records)
    out.insert(rdf_text(ldns_rr_rdf(rr, 0)));
  return out;
}

std::set<std::string> txt_strings(const std::vector<const ldns_rr*>& records) {
  std::set<std::string> out;
  for (const ldns_rr* rr : records) {
    for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
      std::string s = rdf_text(ldns_rr_rdf(rr, i));
      if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
      out.insert(s);
    }
  }
  return out;
}

// SRV target -> "priority weight port".
std::map<std::string, std::string> srv_records(const std::vector<const ldns_rr*>& records) {
  std::map<std::string, std::string> out;
  for (const ldns_rr* rr : records) {
    std::ostringstream s;
    s << ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)) << " "
      << ldns_rdf2native_int16(ldns_rr_rdf(rr, 1)) << " "
      << ldns_rdf2native_int16(ldns_rr_rdf(rr, 2));
    std::string target = rdf_text(ldns_rr_rdf(rr, 3));
    std::transform(target.begin(), target.end(), target.begin(), ::tolower);
    out[target] = s.str();
  }
  return out;
}

const std::map<std::string, std::string> kExpectedSrv = {
    {host("comet-1") + ".", "0 10 3109"},
    {host("comet-2") + ".", "0 20 3109"},
    {host("comet-3") + ".", "0 10 3109"},  // no metadata.weight: 10, as the SDKs (README)
};

void expect_negative_soa(const ldns_pkt* pkt) {
  ASSERT_NE(pkt, nullptr);
  EXPECT_EQ(section_count(pkt, LDNS_SECTION_ANSWER), 0u);
  auto soa = expect_rr(pkt, LDNS_SECTION_AUTHORITY, "example.com.", LDNS_RR_TYPE_SOA);
  for (const ldns_rr* rr : soa)
    EXPECT_LE(ldns_rr_ttl(rr), 30u);  // min(SOA TTL, minimum)
}

using Discodns = DiscodnsTest;

TEST_F(Discodns, SrvHasWeightsPortsTargetsAndAdditionalAddresses) {
  Packet p = query_udp(kSrv, LDNS_RR_TYPE_SRV, /*edns=*/true);
  expect_rcode(p.get(), LDNS_RCODE_NOERROR);
  expect_authoritative(p.get());
  auto srv = expect_rr(p.get(), LDNS_SECTION_ANSWER, kSrv, LDNS_RR_TYPE_SRV);
  EXPECT_EQ(srv_records(srv), kExpectedSrv);
  expect_ttls_in_range(srv);
  EXPECT_EQ(addresses(expect_rr(p.get(), LDNS_SECTION_ADDITIONAL, host("comet-1"), LDNS_RR_TYPE_A)),
            std::set<std::string>{"10.0.0.11"});
  EXPECT_EQ(addresses(expect_rr(p.get(), LDNS_SECTION_ADDITIONAL, host("comet-2"), LDNS_RR_TYPE_A)),
            std::set<std::string>{"10.0.0.12"});
  EXPECT_EQ(
      addresses(expect_rr(p.get(), LDNS_SECTION_ADDITIONAL, host("comet-3"), LDNS_RR_TYPE_AAAA)),
      std::set<std::string>{"2001:db8::13"});
}

TEST_F(Discodns, AddressRecordsOfUsableInstancesOnly) {
  Packet a = query_udp(kService, LDNS_RR_TYPE_A);
  expect_rcode(a.get(), LDNS_RCODE_NOERROR);
  expect_authoritative(a.get());
  auto records = expect_rr(a.get(), LDNS_SECTION_ANSWER, kService, LDNS_RR_TYPE_A);
  // comet-4 is WAITING, comet-5 is late (600 s behind the newest renew).
  EXPECT_EQ(addresses(records), (std::set<std::string>{"10.0.0.11", "10.0.0.12"}));
  expect_ttls_in_range(records);

  Packet aaaa = query_udp(kService, LDNS_RR_TYPE_AAAA);
  expect_rcode(aaaa.get(), LDNS_RCODE_NOERROR);
  auto v6 = expect_rr(aaaa.get(), LDNS_SECTION_ANSWER, kService, LDNS_RR_TYPE_AAAA);
  EXPECT_EQ(addresses(v6), std::set<std::string>{"2001:db8::13"});
  expect_ttls_in_range(v6);
}

TEST_F(Discodns, InstanceNameHasAddressAndTxt) {
  Packet a = query_udp(host("comet-1"), LDNS_RR_TYPE_A);
  expect_rcode(a.get(), LDNS_RCODE_NOERROR);
  EXPECT_EQ(addresses(expect_rr(a.get(), LDNS_SECTION_ANSWER, host("comet-1"), LDNS_RR_TYPE_A)),
            std::set<std::string>{"10.0.0.11"});

  Packet txt = query_udp(host("comet-1"), LDNS_RR_TYPE_TXT);
  expect_rcode(txt.get(), LDNS_RCODE_NOERROR);
  expect_authoritative(txt.get());
  auto records = expect_rr(txt.get(), LDNS_SECTION_ANSWER, host("comet-1"), LDNS_RR_TYPE_TXT);
  auto strings = txt_strings(records);
  for (const char* s : {"version=v1.2", "zone=gd", "color=red", "weight=10"})
    EXPECT_TRUE(strings.count(s)) << "missing TXT " << s;
  expect_ttls_in_range(records);
}

TEST_F(Discodns, ApexSoaAndNs) {
  Packet soa = query_udp("example.com", LDNS_RR_TYPE_SOA);
  expect_rcode(soa.get(), LDNS_RCODE_NOERROR);
  expect_authoritative(soa.get());
  auto records = expect_rr(soa.get(), LDNS_SECTION_ANSWER, "example.com.", LDNS_RR_TYPE_SOA);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(rdf_text(ldns_rr_rdf(records[0], 0)), "ns1.example.com.");
  EXPECT_GE(ldns_rdf2native_int32(ldns_rr_rdf(records[0], 2)), 2026112501u);  // serial floor

  Packet ns = query_udp("example.com", LDNS_RR_TYPE_NS);
  expect_rcode(ns.get(), LDNS_RCODE_NOERROR);
  auto servers = expect_rr(ns.get(), LDNS_SECTION_ANSWER, "example.com.", LDNS_RR_TYPE_NS);
  EXPECT_EQ(addresses(servers), std::set<std::string>{"ns1.example.com."});
}

TEST_F(Discodns, NodataForAnotherTypeAtAnExistingName) {
  Packet p = query_udp(kService, LDNS_RR_TYPE_MX);
  expect_rcode(p.get(), LDNS_RCODE_NOERROR);
  expect_authoritative(p.get());
  expect_negative_soa(p.get());
}

TEST_F(Discodns, NxdomainWithSoa) {
  Packet p = query_udp("nosuch.dev.gd.china.example.com", LDNS_RR_TYPE_A);
  expect_rcode(p.get(), LDNS_RCODE_NXDOMAIN);
  expect_authoritative(p.get());
  expect_negative_soa(p.get());
}

TEST_F(Discodns, EmptyNonTerminalIsNoData) {
  for (const char* name : {"dev.gd.china.example.com", "gd.china.example.com", "china.example.com",
                           "comet.dev.gd.china.example.com"}) {
    SCOPED_TRACE(name);
    Packet p = query_udp(name, LDNS_RR_TYPE_A);
    expect_rcode(p.get(), LDNS_RCODE_NOERROR);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(section_count(p.get(), LDNS_SECTION_ANSWER), 0u);
  }
}

TEST_F(Discodns, RefusedOutsideTheDomain) {
  Packet p = query_udp("www.example.org", LDNS_RR_TYPE_A);
  expect_rcode(p.get(), LDNS_RCODE_REFUSED);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(ldns_pkt_ra(p.get()));
  EXPECT_EQ(section_count(p.get(), LDNS_SECTION_ANSWER), 0u);
}

TEST_F(Discodns, MixedCaseQueryKeepsItsCase) {
  const std::string asked = "GoIm.CoMeT.dev.GD.china.Example.COM";
  Packet p = query_udp(asked, LDNS_RR_TYPE_A);
  expect_rcode(p.get(), LDNS_RCODE_NOERROR);
  auto records = expect_rr(p.get(), LDNS_SECTION_ANSWER, kService, LDNS_RR_TYPE_A);
  for (const ldns_rr* rr : records)
    EXPECT_EQ(owner_text(rr), asked + ".");
  ASSERT_EQ(section_count(p.get(), LDNS_SECTION_QUESTION), 1u);
  EXPECT_EQ(owner_text(ldns_rr_list_rr(ldns_pkt_question(p.get()), 0)), asked + ".");
}

TEST_F(Discodns, TcpGivesTheSameAnswers) {
  Packet udp = query_udp(kSrv, LDNS_RR_TYPE_SRV, true);
  Packet tcp = query_tcp(kSrv, LDNS_RR_TYPE_SRV);
  expect_rcode(tcp.get(), LDNS_RCODE_NOERROR);
  expect_authoritative(tcp.get());
  auto srv = expect_rr(tcp.get(), LDNS_SECTION_ANSWER, kSrv, LDNS_RR_TYPE_SRV);
  EXPECT_EQ(srv_records(srv), kExpectedSrv);
  EXPECT_EQ(srv_records(srv),
            srv_records(find_rr(udp.get(), LDNS_SECTION_ANSWER, kSrv, LDNS_RR_TYPE_SRV)));

  Packet nx = query_tcp("nosuch.dev.gd.china.example.com", LDNS_RR_TYPE_A);
  expect_rcode(nx.get(), LDNS_RCODE_NXDOMAIN);
  Packet refused = query_tcp("example.net", LDNS_RR_TYPE_A);
  expect_rcode(refused.get(), LDNS_RCODE_REFUSED);
}

TEST_F(Discodns, LargeAnswerTruncatedOverUdpWholeOverTcp) {
  const std::string big = "big.app.dev.gd.china.example.com";
  Packet udp = query_udp(big, LDNS_RR_TYPE_A);  // no EDNS: 512 bytes at most
  ASSERT_NE(udp, nullptr);
  EXPECT_TRUE(ldns_pkt_tc(udp.get()));
  EXPECT_LE(ldns_pkt_size(udp.get()), 512u);
  Packet tcp = query_tcp(big, LDNS_RR_TYPE_A);
  expect_rcode(tcp.get(), LDNS_RCODE_NOERROR);
  ASSERT_NE(tcp, nullptr);
  EXPECT_FALSE(ldns_pkt_tc(tcp.get()));
  EXPECT_EQ(find_rr(tcp.get(), LDNS_SECTION_ANSWER, big, LDNS_RR_TYPE_A).size(), 40u);
}

TEST_F(Discodns, TcpSeveralQueriesOnOneConnectionInOrder) {
  TcpClient client(tcp_port_);
  ASSERT_TRUE(client.connected());
  // One after the other...
  ASSERT_TRUE(client.send(make_query(kService, LDNS_RR_TYPE_A, 1)));
  auto first = client.receive();
  ASSERT_TRUE(first.has_value());
  Packet p1 = decode(*first);
  ASSERT_NE(p1, nullptr);
  EXPECT_EQ(ldns_pkt_id(p1.get()), 1);
  expect_rr(p1.get(), LDNS_SECTION_ANSWER, kService, LDNS_RR_TYPE_A);
  // ...then two pipelined in one segment: answered in order.
  Bytes both;
  for (auto [id, type] : {std::pair<std::uint16_t, ldns_rr_type>{2, LDNS_RR_TYPE_SRV},
                          std::pair<std::uint16_t, ldns_rr_type>{3, LDNS_RR_TYPE_SOA}}) {
    Bytes q = make_query(id == 2 ? kSrv : "example.com", type, id);
    both.push_back(static_cast<std::uint8_t>(q.size() >> 8));
    both.push_back(static_cast<std::uint8_t>(q.size()));
    both.insert(both.end(), q.begin(), q.end());
  }
  ASSERT_TRUE(client.send_raw(both));
  auto second = client.receive();
  auto third = client.receive();
  ASSERT_TRUE(second.has_value());
  ASSERT_TRUE(third.has_value());
  Packet p2 = decode(*second);
  Packet p3 = decode(*third);
  ASSERT_NE(p2, nullptr);
  ASSERT_NE(p3, nullptr);
  EXPECT_EQ(ldns_pkt_id(p2.get()), 2);
  EXPECT_EQ(ldns_pkt_id(p3.get()), 3);
  EXPECT_EQ(srv_records(expect_rr(p2.get(), LDNS_SECTION_ANSWER, kSrv, LDNS_RR_TYPE_SRV)),
            kExpectedSrv);
  expect_rr(p3.get(), LDNS_SECTION_ANSWER, "example.com.", LDNS_RR_TYPE_SOA);
}

TEST_F(Discodns, TcpLengthShorterThanAHeaderClosesTheConnection) {
  TcpClient client(tcp_port_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send_raw({0, 5, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(client.closed_by_peer());
  // The server goes on serving others.
  Packet p = query_tcp(kService, LDNS_RR_TYPE_A);
  expect_rcode(p.get(), LDNS_RCODE_NOERROR);
}

TEST_F(Discodns, ManyUdpQueriesAllAnswered) {
  // Several sockets (source ports), so SO_REUSEPORT spreads them over both workers.
  for (int i = 0; i < 50; ++i) {
    auto wire = udp_exchange(udp_port_,
                             make_query(kService, LDNS_RR_TYPE_A, static_cast<std::uint16_t>(i)));
    ASSERT_TRUE(wire.has_value()) << "query " << i;
  }
}

TEST_F(Discodns, RegistryFileChangeIsServedWithoutRestart) {
  auto instances = default_instances();
  for (auto& i : instances)
    if (i.hostname == "comet-2") i.addrs = {"grpc://10.0.0.22:3109"};
  write_file(registry_file_, fetch_all_json(instances));
  const std::set<std::string> expected{"10.0.0.11", "10.0.0.22"};
  std::set<std::string> seen;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto wire = udp_exchange(udp_port_, make_query(kService, LDNS_RR_TYPE_A));
    if (wire) {
      Packet p = decode(*wire);
      if (p) seen = addresses(find_rr(p.get(), LDNS_SECTION_ANSWER, kService, LDNS_RR_TYPE_A));
      if (seen == expected) break;
    }
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(seen, expected);
}

TEST_F(Discodns, BrokenRegistryFileKeepsTheLastGoodData) {
  write_file(registry_file_, "{\"code\":0,\"data\":{\"goim.comet\":[{\"oops\"");
  std::this_thread::sleep_for(500ms);  // several check intervals
  Packet p = query_udp(kService, LDNS_RR_TYPE_A);
  expect_rcode(p.get(), LDNS_RCODE_NOERROR);
  EXPECT_EQ(addresses(find_rr(p.get(), LDNS_SECTION_ANSWER, kService, LDNS_RR_TYPE_A)),
            (std::set<std::string>{"10.0.0.11", "10.0.0.12"}));
}

class DiscodnsLimits : public DiscodnsTest {
 protected:
  std::string server_options() const override {
    return "tcp_max_connections = 2\ntcp_idle_timeout = \"500ms\"\n";
  }
};

TEST_F(DiscodnsLimits, ConnectionsBeyondTheCapAreClosedAtOnce) {
  TcpClient first(tcp_port_);
  TcpClient second(tcp_port_);
  ASSERT_TRUE(first.connected());
  ASSERT_TRUE(second.connected());
  // Both are served (and so certainly counted before the third arrives).
  for (TcpClient* c : {&first, &second}) {
    ASSERT_TRUE(c->send(make_query(kService, LDNS_RR_TYPE_A)));
    ASSERT_TRUE(c->receive().has_value());
  }
  TcpClient third(tcp_port_);
  ASSERT_TRUE(third.connected());  // accepted by the kernel, then closed by discodns
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(third.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 400ms);
}

TEST_F(DiscodnsLimits, IdleConnectionIsClosedAfterTheTimeout) {
  TcpClient client(tcp_port_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(make_query(kService, LDNS_RR_TYPE_A)));
  ASSERT_TRUE(client.receive().has_value());
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.closed_by_peer());  // the client's own timeout is 2 s
  auto idle = std::chrono::steady_clock::now() - started;
  EXPECT_GE(idle, 400ms);
  EXPECT_LT(idle, 1900ms);
}

// ---- the command line, without a running server ----

TEST(DiscodnsCli, BrokenConfigIsRefusedWithFileAndLine) {
  TempDir dir;
  auto config = dir.path() / "broken.toml";
  write_file(config,
             "[server]\n"
             "listen = [\"127.0.0.1:0\"]\n"
             "no_such_key = 1\n"
             "[zone]\n"
             "domain = \"example.com\"\n"
             "file = \"" DISCODNS_SOURCE_DIR "/zones/example.com.zone\"\n");
  const std::string where = config.string() + ":3";
  RunResult check = run_command({DISCODNS_BINARY, "--check-config", config.string()});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.err.find(where), std::string::npos) << check.err;
  EXPECT_NE(check.err.find("no_such_key"), std::string::npos) << check.err;
  EXPECT_EQ(check.out, "");

  RunResult run = run_command({DISCODNS_BINARY, "--config", config.string()});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find(where), std::string::npos) << run.err;
  EXPECT_EQ(run.out.find("ready"), std::string::npos);
}

TEST(DiscodnsCli, MissingRegistryFileFailsStart) {
  TempDir dir;
  auto config = dir.path() / "discodns.toml";
  write_file(config,
             "[server]\n"
             "listen = [\"127.0.0.1:0\"]\n"
             "[zone]\n"
             "domain = \"example.com\"\n"
             "file = \"" DISCODNS_SOURCE_DIR
             "/zones/example.com.zone\"\n"
             "[[registry]]\n"
             "region = \"china\"\n"
             "source = \"file\"\n"
             "file = \"missing.json\"\n");
  RunResult check = run_command({DISCODNS_BINARY, "--check-config", config.string()});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.err.find("missing.json"), std::string::npos) << check.err;
  RunResult run = run_command({DISCODNS_BINARY, "--config", config.string()});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("missing.json"), std::string::npos) << run.err;
  EXPECT_EQ(run.out.find("ready"), std::string::npos);
}

TEST(DiscodnsCli, Version) {
  RunResult r = run_command({DISCODNS_BINARY, "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_match(r.out, std::regex(R"(discodns \d+\.\d+\.\d+\n)"))) << r.out;
}

}  // namespace
}  // namespace discodns::e2e
