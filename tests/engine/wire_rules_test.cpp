// Header, EDNS and malformed-packet rules (RFC 1035, 6891, 7873, 7828), with hand-built
// packets, including hostile ones.
#include <random>

#include "oracle.hpp"
#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace discodns::testing {
namespace {

constexpr common::Nanos kNow = 1'800'000'000LL * common::kNanosPerSecond;

const std::string kName = "goim.comet.dev.gd.china.example.com";

class WireRulesTest : public ::testing::Test {
 protected:
  std::vector<std::uint8_t> respond(const std::vector<std::uint8_t>& wire,
                                    query::Transport transport = query::Transport::kUdp) {
    return testing::respond(*snap_, wire, kNow, limits_, transport, outcome_);
  }
  std::uint8_t rcode_of(const std::vector<std::uint8_t>& r) { return r[3] & 0xF; }
  std::uint16_t count(const std::vector<std::uint8_t>& r, int which) {
    return wire::read_u16(&r[4 + 2 * which]);
  }

  std::shared_ptr<const catalog::Snapshot> snap_ =
      build({instance("goim.comet", "dev", "gd", "comet-1", {{"grpc", "10.0.0.11", 3109}}, kNow)});
  query::Limits limits_;
  query::Outcome outcome_;
};

TEST_F(WireRulesTest, ShortPacketsAndResponsesAreDropped) {
  for (std::size_t n = 0; n < 12; ++n) {
    respond(std::vector<std::uint8_t>(n, 0));
    EXPECT_FALSE(outcome_.respond) << n;
  }
  Packet p;
  p.header(0x8000, 1).question(kName);  // QR=1: a response, never answered (no loops)
  respond(p.b);
  EXPECT_FALSE(outcome_.respond);
}

TEST_F(WireRulesTest, UnknownOpcodeIsNotImpWithQuestionEchoed) {
  Packet p;
  p.header(2 << 11 | 0x0100, 1).question(kName);  // STATUS, RD
  auto r = respond(p.b);
  ASSERT_TRUE(outcome_.respond);
  EXPECT_EQ(rcode_of(r), wire::rcode::kNotImp);
  EXPECT_EQ((r[2] >> 3) & 0xF, 2);  // opcode echoed
  EXPECT_EQ(r[2] & 0x01, 1);        // RD echoed
  EXPECT_EQ(count(r, 0), 1);
  auto pkt = decode(r);
  EXPECT_EQ(owner_text(rrs(pkt.get(), LDNS_SECTION_QUESTION)[0]), kName + ".");
}

TEST_F(WireRulesTest, QuestionCountOtherThanOneIsFormErr) {
  for (std::uint16_t qd : {0, 2}) {
    Packet p;
    p.header(0, qd).question(kName);
    if (qd == 2) p.question(kName);
    auto r = respond(p.b);
    ASSERT_TRUE(outcome_.respond);
    EXPECT_EQ(rcode_of(r), wire::rcode::kFormErr);
    EXPECT_EQ(wire::read_u16(&r[0]), 0xBEEF);
    EXPECT_EQ(r.size(), 12u);
  }
}

TEST_F(WireRulesTest, MalformedQuestionsAreFormErr) {
  std::vector<Packet> bad(6);
  bad[0].header(0, 1).name(kName);                           // no type/class
  bad[1].header(0, 1).u8(5).u8('a');                         // label runs past the end
  bad[2].header(0, 1).u8(0xC0).u8(12).u16(1).u16(1);         // pointer to itself: a loop
  bad[3].header(0, 1).u8(0x40).u8('a').u8(0).u16(1).u16(1);  // extended label type
  bad[4].header(0, 1);                                       // question missing
  for (int i = 0; i < 5; ++i)
    bad[5].name("a" + std::string(60, 'x'));  // > 255 octets
  bad[5].b.resize(12);
  Packet longname;
  longname.header(0, 1);
  for (int i = 0; i < 5; ++i) {
    longname.u8(60);
    for (int k = 0; k < 60; ++k)
      longname.u8('x');
  }
  longname.u8(0).u16(1).u16(1);
  bad[5] = longname;
  for (std::size_t i = 0; i < bad.size(); ++i) {
    auto r = respond(bad[i].b);
    ASSERT_TRUE(outcome_.respond) << i;
    EXPECT_EQ(rcode_of(r), wire::rcode::kFormErr) << i;
  }
}

TEST_F(WireRulesTest, TrailingGarbageAndRecordsInAnswerSectionAreFormErr) {
  Packet trailing;
  trailing.header(0, 1).question(kName).u8(0xAB);
  auto r = respond(trailing.b);
  EXPECT_EQ(rcode_of(r), wire::rcode::kFormErr);
  Packet answer;
  answer.header(0, 1, 1).question(kName).name(kName).u16(1).u16(1).u32(0).u16(4).u32(0);
  r = respond(answer.b);
  EXPECT_EQ(rcode_of(r), wire::rcode::kFormErr);
}

TEST_F(WireRulesTest, TwoOptRecordsAreFormErr) {
  Packet p;
  p.header(0, 1, 0, 0, 2).question(kName).opt(1232).opt(1232);
  auto r = respond(p.b);
  EXPECT_EQ(rcode_of(r), wire::rcode::kFormErr);
}

TEST_F(WireRulesTest, EdnsVersionAboveZeroIsBadVers) {
  Packet p;
  p.header(0, 1, 0, 0, 1).question(kName).opt(1232, 1);
  auto r = respond(p.b);
  ASSERT_TRUE(outcome_.respond);
  EXPECT_EQ(outcome_.rcode, wire::rcode::kBadVers);
  auto pkt = decode(r);
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0);
  EXPECT_TRUE(ldns_pkt_edns(pkt.get()));
  EXPECT_EQ(ldns_pkt_edns_extended_rcode(pkt.get()), 1);  // 16 >> 4
  EXPECT_EQ(ldns_pkt_edns_version(pkt.get()), 0);
  EXPECT_EQ(rcode_of(r), 0);
}

TEST_F(WireRulesTest, SmallPayloadSizesCountAs512AndUnknownOptionsAreIgnored) {
  Packet p;
  p.header(0, 1, 0, 0, 1).question(kName).opt(100, 0, {{65001, {1, 2, 3}}});
  auto r = respond(p.b);
  ASSERT_TRUE(outcome_.respond);
  EXPECT_EQ(rcode_of(r), 0);
  EXPECT_EQ(count(r, 1), 1);
  auto pkt = decode(r);
  EXPECT_EQ(ldns_pkt_edns_udp_size(pkt.get()), 1232);
  EXPECT_EQ(ldns_pkt_edns_data(pkt.get()), nullptr);  // the unknown option is not echoed
}

TEST_F(WireRulesTest, CookiesGetAServerCookie) {
  std::vector<std::uint8_t> client = {1, 2, 3, 4, 5, 6, 7, 8};
  Packet p;
  p.header(0, 1, 0, 0, 1).question(kName).opt(1232, 0, {{10, client}});
  auto r = respond(p.b);
  ASSERT_TRUE(outcome_.respond);
  // OPT is last: its option starts 4 + 8 + 16 bytes before the end.
  ASSERT_GE(r.size(), 28u);
  const std::uint8_t* option = r.data() + r.size() - 28;
  EXPECT_EQ(wire::read_u16(option), 10);
  EXPECT_EQ(wire::read_u16(option + 2), 24);
  EXPECT_TRUE(std::equal(client.begin(), client.end(), option + 4));
  EXPECT_EQ(option[12], 1);  // RFC 9018 version
  // Same client, same time: same cookie (stateless, verifiable).
  auto again = respond(p.b);
  EXPECT_EQ(r, again);

  Packet bad;
  bad.header(0, 1, 0, 0, 1).question(kName).opt(1232, 0, {{10, {1, 2, 3, 4, 5}}});
  EXPECT_EQ(rcode_of(respond(bad.b)), wire::rcode::kFormErr);
}

TEST_F(WireRulesTest, TcpKeepaliveIsAnsweredOnTcpOnly) {
  Packet p;
  p.header(0, 1, 0, 0, 1).question(kName).opt(1232, 0, {{11, {}}});
  auto tcp = respond(p.b, query::Transport::kTcp);
  ASSERT_GE(tcp.size(), 6u);
  const std::uint8_t* option = tcp.data() + tcp.size() - 6;
  EXPECT_EQ(wire::read_u16(option), 11);
  EXPECT_EQ(wire::read_u16(option + 4), limits_.tcp_idle_timeout_100ms);
  auto udp = respond(p.b, query::Transport::kUdp);
  EXPECT_EQ(wire::read_u16(udp.data() + udp.size() - 2), 0);  // OPT with no options
}

TEST_F(WireRulesTest, OtherClassesAndTransfersAreRefused) {
  Packet chaos;
  chaos.header(0, 1).question("version.bind", 16, 3);
  EXPECT_EQ(rcode_of(respond(chaos.b)), wire::rcode::kRefused);
  Packet axfr;
  axfr.header(0, 1).question("example.com", 252);
  EXPECT_EQ(rcode_of(respond(axfr.b)), wire::rcode::kRefused);
}

TEST_F(WireRulesTest, FlagsAreCopiedAndSet) {
  Packet p;
  p.header(0x0100 | 0x0010, 1).question(kName);  // RD + CD
  auto r = respond(p.b);
  std::uint16_t flags = wire::read_u16(&r[2]);
  EXPECT_TRUE(flags & 0x8000);   // QR
  EXPECT_TRUE(flags & 0x0400);   // AA
  EXPECT_TRUE(flags & 0x0100);   // RD copied
  EXPECT_TRUE(flags & 0x0010);   // CD copied
  EXPECT_FALSE(flags & 0x0080);  // RA never
}

TEST_F(WireRulesTest, RandomGarbageNeverCrashesOrOverflows) {
  std::mt19937 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::size_t size = rng() % (i % 100 == 0 ? 65535 : 300);
    std::vector<std::uint8_t> junk(size);
    for (auto& c : junk)
      c = static_cast<std::uint8_t>(rng());
    if (size >= 12 && i % 2 == 0) {
      junk[2] &= 0x07;  // make it look like a query more often
      junk[4] = 0;
      junk[5] = 1;
    }
    auto r = respond(junk);
    if (outcome_.respond) {
      EXPECT_GE(r.size(), 12u);
      EXPECT_LE(r.size(), 512u);
    }
  }
}

TEST_F(WireRulesTest, MutatedValidQueriesNeverCrash) {
  Packet base;
  base.header(0, 1, 0, 0, 1).question(kName, 33).opt(4096, 0, {{10, {1, 2, 3, 4, 5, 6, 7, 8}}});
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    auto mutated = base.b;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) {
      mutated[rng() % mutated.size()] = static_cast<std::uint8_t>(rng());
    }
    if (rng() % 4 == 0) mutated.resize(rng() % mutated.size());
    auto r = respond(mutated);
    if (outcome_.respond) {
      EXPECT_LE(r.size(), 1232u);
    }
  }
}

}  // namespace
}  // namespace discodns::testing
