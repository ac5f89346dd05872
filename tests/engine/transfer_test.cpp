// Zone transfers answered by transfer::Primary, decoded with ldns: AXFR message sequences,
// IXFR from the journal (applied to the old zone, it gives the new one), the AXFR fall-back
// when the journal does not reach back, "up to date" across the serial wrap, the allow-list
// and TSIG (signed answers verified by ldns, bad key, bad signature, bad time).
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "oracle.hpp"
#include "query/store.hpp"
#include "transfer/primary.hpp"

#include <ldns/ldns.h>  // after the C++ headers: ldns's own headers define `bool`

namespace discodns::testing {
namespace {

constexpr common::Nanos kS = common::kNanosPerSecond;
constexpr std::uint8_t kLoopback[4] = {127, 0, 0, 1};
constexpr std::uint8_t kStranger[4] = {192, 0, 2, 99};
const char* const kKeyName = "xfr-key.";
const char* const kSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==";

std::vector<registry::Instance> apps(int n, int per_app = 3, common::Nanos renew = 0) {
  std::vector<registry::Instance> out;
  const common::Nanos now = common::wall_now_ns();
  for (int a = 0; a < n; ++a) {
    for (int i = 0; i < per_app; ++i) {
      out.push_back(instance("app" + std::to_string(a), "dev", "gd", "h" + std::to_string(i),
                             {{"grpc",
                               "10." + std::to_string(a / 250) + "." + std::to_string(a % 250) +
                                   "." + std::to_string(i + 1),
                               9000}},
                             renew != 0 ? renew : now - kS));
    }
  }
  return out;
}

Built build_at(std::vector<registry::Instance> instances, std::uint32_t serial,
               const Built& previous = nullptr) {
  auto input = build_input(std::move(instances), 1, false, previous);
  input.serial = serial;
  return Built(catalog::build(input));
}

std::vector<std::uint8_t> ixfr_query(std::uint32_t serial) {
  ldns_pkt* pkt = nullptr;
  EXPECT_EQ(
      ldns_pkt_query_new_frm_str(&pkt, "example.com.", LDNS_RR_TYPE_IXFR, LDNS_RR_CLASS_IN, 0),
      LDNS_STATUS_OK);
  ldns_rr* soa = nullptr;
  std::string text = "example.com. 0 IN SOA . . " + std::to_string(serial) + " 0 0 0 0";
  EXPECT_EQ(ldns_rr_new_frm_str(&soa, text.c_str(), 0, nullptr, nullptr), LDNS_STATUS_OK);
  ldns_pkt_push_rr(pkt, LDNS_SECTION_AUTHORITY, soa);
  std::vector<std::uint8_t> out = to_wire(pkt);
  ldns_pkt_free(pkt);
  return out;
}

// `wire` signed with `secret` under kKeyName; `mac` receives the request MAC.
std::vector<std::uint8_t> sign(const std::vector<std::uint8_t>& wire, const char* secret,
                               std::vector<std::uint8_t>* mac = nullptr) {
  ldns_pkt* pkt = nullptr;
  EXPECT_EQ(ldns_wire2pkt(&pkt, wire.data(), wire.size()), LDNS_STATUS_OK);
  EXPECT_EQ(ldns_pkt_tsig_sign(pkt, kKeyName, secret, 300, "hmac-sha256.", nullptr),
            LDNS_STATUS_OK);
  if (mac != nullptr) {
    const ldns_rdf* rdf = ldns_rr_rdf(ldns_pkt_tsig(pkt), 3);
    mac->assign(ldns_rdf_data(rdf), ldns_rdf_data(rdf) + ldns_rdf_size(rdf));
  }
  std::vector<std::uint8_t> result = to_wire(pkt);
  ldns_pkt_free(pkt);
  return result;
}

class TransferTest : public ::testing::Test {
 protected:
  void start(transfer::PrimaryOptions options = {}) {
    if (options.allow.empty()) options.allow.push_back(*common::parse_address_prefix("127.0.0.1"));
    primary_ = std::make_unique<transfer::Primary>(std::move(options), store_, clock_);
  }
  // Publishes `next` as the daemon does: its delta first, then the snapshot.
  void publish(const Built& next) {
    primary_->record_publish(last_.state ? &*last_ : nullptr, *next);
    store_.publish(next);
    last_ = next;
  }
  std::vector<std::vector<std::uint8_t>> messages(const std::vector<std::uint8_t>& query,
                                                  const std::uint8_t* client = kLoopback) {
    std::vector<std::vector<std::uint8_t>> out;
    auto stream = primary_->start(query, {client, 4});
    if (!stream) return out;
    std::vector<std::uint8_t> buffer(65535);
    while (std::size_t size = stream->next(buffer)) {
      out.emplace_back(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(size));
      if (out.size() > 10'000) break;
    }
    return out;
  }
  // Every answer record of the messages, in order, as ldns prints it.
  std::vector<std::string> records(const std::vector<std::vector<std::uint8_t>>& msgs) {
    std::vector<std::string> out;
    for (const auto& m : msgs) {
      auto pkt = decode(m);
      EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
      for (ldns_rr* rr : rrs(pkt.get(), LDNS_SECTION_ANSWER)) {
        char* text = ldns_rr2str(rr);
        out.emplace_back(text);
        free(text);
      }
    }
    return out;
  }
  std::vector<std::string> axfr() {
    return records(messages(make_query("example.com.", LDNS_RR_TYPE_AXFR)));
  }

  common::ManualClock clock_{common::wall_now_ns()};
  query::SnapshotStore store_;
  std::unique_ptr<transfer::Primary> primary_;
  Built last_;
};

bool is_soa(const std::string& rr, std::uint32_t serial) {
  return rr.find("\tSOA\t") != std::string::npos &&
         rr.find(" " + std::to_string(serial) + " ") != std::string::npos;
}

// Records that start with `head` ("owner\tttl\tIN\tTYPE\t..."); a `head` that starts with a
// tab or a digit is looked for anywhere (a type, an RDATA).
std::size_t count_of(const std::vector<std::string>& rrs, const std::string& head) {
  return static_cast<std::size_t>(std::count_if(rrs.begin(), rrs.end(), [&](const std::string& r) {
    if (head[0] == '\t' || (head[0] >= '0' && head[0] <= '9'))
      return r.find(head) != std::string::npos;
    return r.starts_with(head);
  }));
}

TEST_F(TransferTest, AxfrIsSoaEveryRecordSoaWithTheTransferTtl) {
  transfer::PrimaryOptions options;
  options.synthesized_ttl = 77;
  start(std::move(options));
  publish(build_at(apps(3), 100));
  auto rrs = axfr();
  ASSERT_GE(rrs.size(), 3u);
  EXPECT_TRUE(is_soa(rrs.front(), 100)) << rrs.front();
  EXPECT_TRUE(is_soa(rrs.back(), 100)) << rrs.back();
  EXPECT_EQ(count_of(rrs, "\tSOA\t"), 2u);  // never in between
  EXPECT_EQ(count_of(rrs, "app1.dev.gd.china.example.com.\t77\tIN\tA\t"), 3u);
  EXPECT_EQ(count_of(rrs, "_grpc._tcp.app2.dev.gd.china.example.com.\t77\tIN\tSRV\t"), 3u);
  EXPECT_EQ(count_of(rrs, "www.example.com.\t3600\tIN\tA\t192.0.2.10"), 1u);  // zone file TTL
}

TEST_F(TransferTest, LargeAxfrSpansMessagesUnder64KiBEachCompressed) {
  start();
  publish(build_at(apps(3000), 100));
  auto msgs = messages(make_query("example.com.", LDNS_RR_TYPE_AXFR));
  ASSERT_GT(msgs.size(), 3u);
  std::size_t bytes = 0;
  for (const auto& m : msgs) {
    EXPECT_LE(m.size(), 65535u);
    bytes += m.size();
  }
  auto rrs = records(msgs);
  EXPECT_EQ(count_of(rrs, "\tIN\tA\t10."), 3000u * 3 * 2);  // service name and host name
  EXPECT_TRUE(is_soa(rrs.front(), 100));
  EXPECT_TRUE(is_soa(rrs.back(), 100));
  // Compressed owners: well under what the records take written out in full.
  std::size_t uncompressed = 0;
  for (const auto& m : msgs) {
    auto pkt = decode(m);
    for (ldns_rr* rr : testing::rrs(pkt.get(), LDNS_SECTION_ANSWER))
      uncompressed += ldns_rr_uncompressed_size(rr);
  }
  EXPECT_LT(bytes, uncompressed * 7 / 10);
  EXPECT_EQ(ldns_pkt_qdcount(decode(msgs[0]).get()), 1);  // the question, first message only
  EXPECT_EQ(ldns_pkt_qdcount(decode(msgs[1]).get()), 0);
}

TEST_F(TransferTest, LateInstanceLeftOutWhileAPunctualOneRemains) {
  start();
  const common::Nanos now = common::wall_now_ns();
  auto instances = observed_at(apps(1, 3, now - kS), now);
  instances[0].renew_ns = now - 120 * kS;  // late as observed
  publish(build_at(instances, 100));
  auto rrs = axfr();
  EXPECT_EQ(count_of(rrs, "app0.dev.gd.china.example.com.\t30\tIN\tA\t"), 2u);
  // Only under its own name, as in answers (an RRset of late records alone is served).
  EXPECT_EQ(count_of(rrs, "10.0.0.1\n"), 1u);
  EXPECT_EQ(count_of(rrs, "h0.app0.dev.gd.china.example.com.\t30\tIN\tA\t10.0.0.1\n"), 1u);
}

// The IXFR's deletions and additions, applied to the AXFR of the old serial, give the AXFR of
// the new one.
std::set<std::string> apply_ixfr(std::set<std::string> zone, const std::vector<std::string>& ixfr) {
  bool deleting = false;
  for (std::size_t i = 1; i + 1 < ixfr.size(); ++i) {
    if (ixfr[i].find("\tSOA\t") != std::string::npos) {
      deleting = !deleting;
      continue;
    }
    if (deleting) {
      EXPECT_EQ(zone.erase(ixfr[i]), 1u) << "deleting what is not there: " << ixfr[i];
    } else {
      EXPECT_TRUE(zone.insert(ixfr[i]).second) << "adding what is there: " << ixfr[i];
    }
  }
  return zone;
}

std::set<std::string> without_soa(const std::vector<std::string>& rrs) {
  std::set<std::string> out;
  for (const auto& r : rrs)
    if (r.find("\tSOA\t") == std::string::npos) out.insert(r);
  return out;
}

TEST_F(TransferTest, IxfrFromTheJournalTurnsTheOldZoneIntoTheNew) {
  start();
  auto instances = apps(20);
  publish(build_at(instances, 100));
  auto zone_100 = axfr();
  instances.erase(instances.begin());  // app0 loses h0
  instances.push_back(instance("app7", "dev", "gd", "h9", {{"grpc", "10.0.7.9", 9000}},
                               common::wall_now_ns()));  // app7 gains h9
  publish(build_at(instances, 101, last_));
  instances.pop_back();
  publish(build_at(instances, 102, last_));
  auto zone_102 = axfr();

  auto ixfr = records(messages(ixfr_query(100)));
  ASSERT_GE(ixfr.size(), 6u);
  EXPECT_TRUE(is_soa(ixfr.front(), 102));
  EXPECT_TRUE(is_soa(ixfr[1], 100));  // incremental, not AXFR form
  EXPECT_TRUE(is_soa(ixfr.back(), 102));
  EXPECT_EQ(apply_ixfr(without_soa(zone_100), ixfr), without_soa(zone_102));
  EXPECT_LT(ixfr.size(), 40u);  // the changes, not the zone
  auto m = primary_->metrics();
  EXPECT_EQ(m.transfers[static_cast<int>(transfer::TransferKind::kIxfr)][0], 1u);
  EXPECT_EQ(m.journal_changes, 2u);
}

TEST_F(TransferTest, RenewTimesAloneThatMakeAnInstanceLateAreADelta) {
  start();
  const common::Nanos now = common::wall_now_ns();
  auto instances = observed_at(apps(2, 3, now - kS), now);
  publish(build_at(instances, 100));
  auto before = axfr();
  instances[1].renew_ns = now - 120 * kS;  // the same shape, only late now
  catalog::BuildStats stats;
  auto input = build_input(instances, 1, false, last_);
  input.serial = 101;
  publish(Built(catalog::build(input, &stats)));
  EXPECT_TRUE(stats.incremental);
  EXPECT_EQ(stats.blocks_built, 0u);
  EXPECT_EQ(stats.blocks_refreshed, 1u);
  auto ixfr = records(messages(ixfr_query(100)));
  EXPECT_EQ(apply_ixfr(without_soa(before), ixfr), without_soa(axfr()));
  EXPECT_EQ(count_of(ixfr, "10.0.0.2\n"), 1u);  // the service's A; its own name keeps it
}

TEST_F(TransferTest, UpToDateClientGetsTheSoaAloneAcrossTheSerialWrap) {
  start();
  publish(build_at(apps(2), 0xFFFFFFF0u));
  for (std::uint32_t client : {0xFFFFFFF0u, 0xFFFFFFFFu, 5u}) {  // ours, and after it (RFC 1982)
    auto rrs = records(messages(ixfr_query(client)));
    ASSERT_EQ(rrs.size(), 1u) << client;
    EXPECT_TRUE(is_soa(rrs[0], 0xFFFFFFF0u));
  }
  // Behind us across the wrap: 0xFFFFFFF0 - 0x20 is older, and unknown to the journal.
  auto rrs = records(messages(ixfr_query(0xFFFFFFD0u)));
  EXPECT_GT(rrs.size(), 2u);
  EXPECT_FALSE(rrs[1].find("\tSOA\t") != std::string::npos);  // AXFR form
}

TEST_F(TransferTest, ClientOlderThanTheJournalGetsTheWholeZone) {
  transfer::PrimaryOptions options;
  options.journal.max_changes = 2;
  start(std::move(options));
  auto instances = apps(5);
  publish(build_at(instances, 100));
  for (std::uint32_t serial = 101; serial <= 104; ++serial) {
    instances.pop_back();
    publish(build_at(instances, serial, last_));
  }
  EXPECT_EQ(primary_->metrics().journal_changes, 2u);
  auto from_102 = records(messages(ixfr_query(102)));
  EXPECT_TRUE(is_soa(from_102[1], 102));  // still in the journal
  auto from_101 = records(messages(ixfr_query(101)));
  EXPECT_EQ(without_soa(from_101), without_soa(axfr()));  // AXFR form
  EXPECT_EQ(count_of(from_101, "\tSOA\t"), 2u);
  auto m = primary_->metrics();
  EXPECT_EQ(m.transfers[static_cast<int>(transfer::TransferKind::kIxfrFull)][0], 1u);
}

TEST_F(TransferTest, JournalBytesLimitDropsOldDeltas) {
  transfer::PrimaryOptions options;
  options.journal.max_bytes = 600;  // one small delta fits, two do not
  start(std::move(options));
  auto instances = apps(5);
  publish(build_at(instances, 100));
  instances.pop_back();
  publish(build_at(instances, 101, last_));
  instances.pop_back();
  publish(build_at(instances, 102, last_));
  auto m = primary_->metrics();
  EXPECT_EQ(m.journal_changes, 1u);
  EXPECT_LE(m.journal_bytes, 600u);
  auto from_100 = records(messages(ixfr_query(100)));
  EXPECT_FALSE(from_100[1].find("\tSOA\t") != std::string::npos);  // AXFR form
}

TEST_F(TransferTest, SourceOutsideTheAllowListIsRefused) {
  start();
  publish(build_at(apps(1), 100));
  auto msgs = messages(make_query("example.com.", LDNS_RR_TYPE_AXFR), kStranger);
  ASSERT_EQ(msgs.size(), 1u);
  auto pkt = decode(msgs[0]);
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_REFUSED);
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0);
  EXPECT_EQ(primary_->metrics().transfers[0][static_cast<int>(transfer::TransferOutcome::kRefused)],
            1u);
  // Not the apex: left to the engine (which refuses it too).
  EXPECT_FALSE(
      primary_->start(make_query("china.example.com.", LDNS_RR_TYPE_AXFR), {kLoopback, 4}));
}

class TsigTransferTest : public TransferTest {
 protected:
  void SetUp() override {
    transfer::PrimaryOptions options;
    options.key = transfer::TsigKey{kKeyName, "hmac-sha256", kSecret};
    start(std::move(options));
    publish(build_at(apps(1500), 100));  // several messages
  }
  std::uint8_t rcode_of(const std::vector<std::uint8_t>& query) {
    auto msgs = messages(query);
    EXPECT_EQ(msgs.size(), 1u);
    return msgs.empty() ? 255
                        : static_cast<std::uint8_t>(ldns_pkt_get_rcode(decode(msgs[0]).get()));
  }
};

TEST_F(TsigTransferTest, EveryMessageIsSignedAndChainsToThePreviousMac) {
  std::vector<std::uint8_t> mac;
  auto msgs = messages(sign(make_query("example.com.", LDNS_RR_TYPE_AXFR), kSecret, &mac));
  ASSERT_GT(msgs.size(), 2u);
  ldns_rdf* previous = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, mac.size(), mac.data());
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    ldns_pkt* pkt = nullptr;
    ASSERT_EQ(ldns_wire2pkt(&pkt, msgs[i].data(), msgs[i].size()), LDNS_STATUS_OK);
    ASSERT_NE(ldns_pkt_tsig(pkt), nullptr) << "message " << i;
    EXPECT_TRUE(ldns_pkt_tsig_verify_next(pkt, msgs[i].data(), msgs[i].size(), kKeyName, kSecret,
                                          previous, i == 0 ? 0 : 1))
        << "message " << i;
    ldns_rdf_deep_free(previous);
    previous = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(pkt), 3));
    ldns_pkt_free(pkt);
  }
  ldns_rdf_deep_free(previous);
}

TEST_F(TsigTransferTest, UnsignedIsRefusedAndAWrongKeyIsNotAuth) {
  EXPECT_EQ(rcode_of(make_query("example.com.", LDNS_RR_TYPE_AXFR)), LDNS_RCODE_REFUSED);
  const char* wrong = "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmc9PT0=";
  EXPECT_EQ(rcode_of(sign(make_query("example.com.", LDNS_RR_TYPE_AXFR), wrong)),
            LDNS_RCODE_NOTAUTH);
  EXPECT_EQ(rcode_of(sign(ixfr_query(1), wrong)), LDNS_RCODE_NOTAUTH);
  auto m = primary_->metrics();
  EXPECT_EQ(m.transfers[0][static_cast<int>(transfer::TransferOutcome::kNotAuth)], 1u);
  EXPECT_EQ(m.transfers[1][static_cast<int>(transfer::TransferOutcome::kNotAuth)], 1u);
}

TEST_F(TsigTransferTest, ASignatureFromAnHourAgoIsNotAuth) {
  clock_.advance(3600 * kS);  // our clock an hour ahead of the time the request was signed
  EXPECT_EQ(rcode_of(sign(make_query("example.com.", LDNS_RR_TYPE_AXFR), kSecret)),
            LDNS_RCODE_NOTAUTH);
}

// A secondary's signed SOA check: the engine answers it, the primary signs the answer.
TEST_F(TsigTransferTest, SignedSoaQueryGetsASignedAnswer) {
  std::vector<std::uint8_t> mac;
  auto query = sign(make_query("example.com.", LDNS_RR_TYPE_SOA), kSecret, &mac);
  query::Outcome outcome;
  auto answer = respond(*last_, query, clock_.now_ns(), {}, query::Transport::kUdp, outcome);
  ASSERT_TRUE(outcome.signed_query);
  answer.resize(4096);
  answer.resize(primary_->sign_answer(query, answer, outcome.size));
  ASSERT_FALSE(answer.empty());
  ldns_pkt* pkt = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&pkt, answer.data(), answer.size()), LDNS_STATUS_OK);
  ldns_rdf* request_mac = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, mac.size(), mac.data());
  EXPECT_TRUE(
      ldns_pkt_tsig_verify(pkt, answer.data(), answer.size(), kKeyName, kSecret, request_mac));
  EXPECT_EQ(ldns_pkt_ancount(pkt), 1);
  ldns_rdf_deep_free(request_mac);
  ldns_pkt_free(pkt);
  EXPECT_EQ(primary_->metrics().signed_answers, 1u);

  const char* wrong = "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmc9PT0=";
  query = sign(make_query("example.com.", LDNS_RR_TYPE_SOA), wrong);
  answer = respond(*last_, query, clock_.now_ns(), {}, query::Transport::kUdp, outcome);
  answer.resize(4096);
  answer.resize(primary_->sign_answer(query, answer, outcome.size));
  auto refused = decode(answer);
  EXPECT_EQ(ldns_pkt_get_rcode(refused.get()), LDNS_RCODE_NOTAUTH);
  EXPECT_EQ(ldns_pkt_ancount(refused.get()), 0);
  EXPECT_EQ(primary_->metrics().unverified_queries, 1u);
}

}  // namespace
}  // namespace discodns::testing
