// Notifier over real UDP on 127.0.0.1 against an in-test secondary that answers (or not) as
// told; the NOTIFY bytes checked with ldns as an independent decoder.
#include "transfer/notifier.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "transfer/notify_message.hpp"

namespace discodns::transfer {
namespace {

using boost::asio::ip::udp;
using namespace std::chrono_literals;

constexpr common::Nanos kMs = 1'000'000;
const std::string kApex("\7example\3com\0", 13);

// Short timings so that retries take milliseconds.
NotifyOptions fast_options() {
  NotifyOptions options;
  options.coalesce = 5 * kMs;
  options.initial_retry = 50 * kMs;
  options.max_retry = 200 * kMs;
  options.max_attempts = 5;
  return options;
}

struct Datagram {
  std::vector<std::uint8_t> bytes;
  sockaddr_in from{};
  std::uint16_t id() const { return static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]); }
};

// A secondary's UDP socket on 127.0.0.1: receives with a bounded wait, answers when told to.
class Secondary {
 public:
  Secondary() : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      throw std::runtime_error("test secondary: cannot bind 127.0.0.1");
    port_ = ntohs(address.sin_port);
  }
  ~Secondary() { ::close(fd_); }
  Secondary(const Secondary&) = delete;
  Secondary& operator=(const Secondary&) = delete;

  udp::endpoint endpoint() const {
    return udp::endpoint(boost::asio::ip::address_v4::loopback(), port_);
  }

  std::optional<Datagram> receive(std::chrono::milliseconds timeout = 5s) {
    pollfd waiting{fd_, POLLIN, 0};
    if (::poll(&waiting, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    Datagram datagram;
    datagram.bytes.resize(4096);
    socklen_t length = sizeof datagram.from;
    const ssize_t size = ::recvfrom(fd_, datagram.bytes.data(), datagram.bytes.size(), 0,
                                    reinterpret_cast<sockaddr*>(&datagram.from), &length);
    if (size < 12) return std::nullopt;
    datagram.bytes.resize(static_cast<std::size_t>(size));
    return datagram;
  }

  // The NOTIFY echoed back as its answer (QR set), with `id` and `rcode` as given.
  void answer(const Datagram& notify, std::uint16_t id, std::uint8_t rcode = 0) {
    std::vector<std::uint8_t> reply = notify.bytes;
    reply[0] = static_cast<std::uint8_t>(id >> 8);
    reply[1] = static_cast<std::uint8_t>(id);
    reply[2] |= 0x80;
    reply[3] = static_cast<std::uint8_t>((reply[3] & 0xF0) | rcode);
    ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<const sockaddr*>(&notify.from),
             sizeof notify.from);
  }
  void answer(const Datagram& notify) { answer(notify, notify.id()); }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

// Polls `condition` until it holds or 5 s pass.
bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Decodes `bytes` with ldns and checks what makes it a NOTIFY for example.com.
void expect_notify_for_example_com(const std::vector<std::uint8_t>& bytes) {
  ldns_pkt* packet = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&packet, bytes.data(), bytes.size()), LDNS_STATUS_OK);
  EXPECT_EQ(ldns_pkt_get_opcode(packet), LDNS_PACKET_NOTIFY);
  EXPECT_FALSE(ldns_pkt_qr(packet));
  EXPECT_TRUE(ldns_pkt_aa(packet));
  EXPECT_EQ(ldns_pkt_qdcount(packet), 1);
  EXPECT_EQ(ldns_pkt_ancount(packet), 0);
  const ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(packet), 0);
  ASSERT_NE(question, nullptr);
  EXPECT_EQ(ldns_rr_get_type(question), LDNS_RR_TYPE_SOA);
  EXPECT_EQ(ldns_rr_get_class(question), LDNS_RR_CLASS_IN);
  char* owner = ldns_rdf2str(ldns_rr_owner(question));
  EXPECT_STREQ(owner, "example.com.");
  free(owner);
  ldns_pkt_free(packet);
}

TEST(BuildNotify, IsANotifyForTheApexSoaWithAaSet) {
  std::array<std::uint8_t, 512> buffer{};
  const std::size_t size = build_notify(buffer, 0xBEEF, kApex, 42);
  ASSERT_EQ(size, 12u + kApex.size() + 4u);
  EXPECT_EQ(buffer[0], 0xBE);
  EXPECT_EQ(buffer[1], 0xEF);
  expect_notify_for_example_com({buffer.begin(), buffer.begin() + size});
}

TEST(BuildNotify, RefusesASmallBufferAndANonName) {
  std::array<std::uint8_t, 512> buffer{};
  EXPECT_EQ(build_notify(std::span(buffer).first(20), 1, kApex, 1), 0u);
  EXPECT_EQ(build_notify(buffer, 1, "", 1), 0u);
  EXPECT_EQ(build_notify(buffer, 1, std::string_view("\7example", 8), 1), 0u);  // no root
  EXPECT_EQ(build_notify(buffer, 1, std::string_view("\0\0", 2), 1), 0u);       // past the root
  EXPECT_EQ(build_notify(buffer, 1, std::string_view("\0", 1), 1), 17u);        // the root zone
}

TEST(ReadNotifyAnswer, TakesOnlyNotifyResponses) {
  std::array<std::uint8_t, 512> buffer{};
  const std::size_t size = build_notify(buffer, 0x1234, kApex, 1);
  EXPECT_FALSE(read_notify_answer(std::span(buffer).first(size)));  // a query, QR=0
  buffer[2] |= 0x80;
  buffer[3] = 5;  // REFUSED
  const auto answer = read_notify_answer(std::span(buffer).first(size));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->id, 0x1234);
  EXPECT_EQ(answer->rcode, 5);
  EXPECT_FALSE(read_notify_answer(std::span(buffer).first(11)));
  buffer[2] = 0x80;  // QR, opcode QUERY
  EXPECT_FALSE(read_notify_answer(std::span(buffer).first(size)));
}

TEST(Notifier, AnAnsweredNotifyIsAcknowledged) {
  Secondary secondary;
  Notifier notifier({secondary.endpoint()}, kApex, fast_options());
  notifier.notify(2024061501);
  const std::optional<Datagram> notify = secondary.receive();
  ASSERT_TRUE(notify);
  expect_notify_for_example_com(notify->bytes);
  EXPECT_EQ(ntohl(notify->from.sin_addr.s_addr), INADDR_LOOPBACK);  // sent from loopback
  secondary.answer(*notify);
  ASSERT_TRUE(eventually([&] { return notifier.status()[0].acked == 1; }));
  const NotifyCounters counters = notifier.status()[0];
  EXPECT_EQ(counters.sent, 1u);
  EXPECT_EQ(counters.failed, 0u);
  EXPECT_EQ(counters.last_acked_serial, 2024061501u);
  EXPECT_FALSE(counters.in_flight);
  EXPECT_FALSE(counters.pending);
}

TEST(Notifier, TheThirdAttemptIsAckedWhenTheFirstTwoGoUnanswered) {
  Secondary secondary;
  Notifier notifier({secondary.endpoint()}, kApex, fast_options());
  notifier.notify(7);
  std::vector<std::uint16_t> ids;
  std::optional<Datagram> notify;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    notify = secondary.receive();
    ASSERT_TRUE(notify) << "attempt " << attempt;
    expect_notify_for_example_com(notify->bytes);
    ids.push_back(notify->id());
  }
  secondary.answer(*notify);
  ASSERT_TRUE(eventually([&] { return notifier.status()[0].acked == 1; }));
  const NotifyCounters counters = notifier.status()[0];
  EXPECT_EQ(counters.sent, 3u);
  EXPECT_EQ(counters.failed, 2u);
  EXPECT_EQ(counters.last_acked_serial, 7u);
  EXPECT_NE(ids[0], ids[1]);  // a fresh id per attempt (random: equal 1 time in 65,536)
}

TEST(Notifier, AnAnswerWithAnotherIdIsIgnored) {
  Secondary secondary;
  Notifier notifier({secondary.endpoint()}, kApex, fast_options());
  notifier.notify(8);
  const std::optional<Datagram> first = secondary.receive();
  ASSERT_TRUE(first);
  secondary.answer(*first, static_cast<std::uint16_t>(first->id() ^ 0x5A5A));
  const std::optional<Datagram> retry = secondary.receive();  // the first timed out regardless
  ASSERT_TRUE(retry);
  ASSERT_TRUE(eventually([&] { return notifier.status()[0].failed == 1; }));
  EXPECT_EQ(notifier.status()[0].acked, 0u);
  secondary.answer(*retry);
  ASSERT_TRUE(eventually([&] { return notifier.status()[0].acked == 1; }));
  EXPECT_EQ(notifier.status()[0].last_acked_serial, 8u);
}

TEST(Notifier, AnAnswerFromAnotherPortIsIgnored) {
  Secondary secondary;
  Secondary impostor;
  Notifier notifier({secondary.endpoint()}, kApex, fast_options());
  notifier.notify(9);
  const std::optional<Datagram> first = secondary.receive();
  ASSERT_TRUE(first);
  impostor.answer(*first);           // the right id, from the wrong port
  ASSERT_TRUE(secondary.receive());  // the retry: the impostor's answer acknowledged nothing
  ASSERT_TRUE(eventually([&] { return notifier.status()[0].failed == 1; }));
  EXPECT_EQ(notifier.status()[0].acked, 0u);
}

TEST(Notifier, RefusedIsRetriedAndAGiveUpIsCounted) {
  Secondary secondary;
  NotifyOptions options = fast_options();
  options.max_attempts = 2;
  Notifier notifier({secondary.endpoint()}, kApex, options);
  notifier.notify(10);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    const std::optional<Datagram> notify = secondary.receive();
    ASSERT_TRUE(notify) << "attempt " << attempt;
    secondary.answer(*notify, notify->id(), 5);  // REFUSED
  }
  ASSERT_TRUE(eventually([&] { return notifier.status()[0].given_up == 1; }));
  const NotifyCounters counters = notifier.status()[0];
  EXPECT_EQ(counters.sent, 2u);
  EXPECT_EQ(counters.failed, 2u);
  EXPECT_EQ(counters.acked, 0u);
  EXPECT_FALSE(counters.pending);
  EXPECT_FALSE(secondary.receive(100ms));  // given up: nothing more
}

TEST(Notifier, EachTargetIsNotifiedAndCountedOnItsOwn) {
  Secondary answering;
  Secondary silent;
  Notifier notifier({answering.endpoint(), silent.endpoint()}, kApex, fast_options());
  notifier.notify(11);
  const std::optional<Datagram> notify = answering.receive();
  ASSERT_TRUE(notify);
  ASSERT_TRUE(silent.receive());
  answering.answer(*notify);
  ASSERT_TRUE(eventually([&] { return notifier.status()[0].acked == 1; }));
  EXPECT_EQ(notifier.status()[1].acked, 0u);
  ASSERT_TRUE(silent.receive());  // the silent one gets its retry
  EXPECT_FALSE(answering.receive(100ms));
}

TEST(Notifier, SignsWithTheHookAndDropsAnswersThatDoNotVerify) {
  Secondary secondary;
  NotifyTsig tsig;
  tsig.sign = [](std::span<std::uint8_t> buffer, std::size_t size) {
    buffer[size] = 0xAB;  // a stand-in for a TSIG RR
    return size + 1;
  };
  std::atomic<int> verified{0};
  tsig.verify = [&](std::span<const std::uint8_t> answer) {
    ++verified;
    return answer.back() == 0xAB && (answer[3] & 0xF) == 0;
  };
  Notifier notifier({secondary.endpoint()}, kApex, fast_options(), tsig);
  notifier.notify(12);
  std::optional<Datagram> notify = secondary.receive();
  ASSERT_TRUE(notify);
  EXPECT_EQ(notify->bytes.back(), 0xAB);
  std::vector<std::uint8_t> unsigned_notify = notify->bytes;
  unsigned_notify.pop_back();
  expect_notify_for_example_com(unsigned_notify);
  notify->bytes.back() = 0xCD;  // a signature that does not verify
  secondary.answer(*notify);
  notify = secondary.receive();  // so the retry comes
  ASSERT_TRUE(notify);
  ASSERT_TRUE(eventually([&] { return notifier.status()[0].failed == 1; }));
  EXPECT_EQ(notifier.status()[0].acked, 0u);
  secondary.answer(*notify);
  ASSERT_TRUE(eventually([&] { return notifier.status()[0].acked == 1; }));
  EXPECT_EQ(verified.load(), 2);
}

TEST(Notifier, StopIsIdempotentAndNotifyAfterItDoesNothing) {
  Secondary secondary;
  Notifier notifier({secondary.endpoint()}, kApex, fast_options());
  notifier.stop();
  notifier.stop();
  notifier.notify(13);
  EXPECT_FALSE(secondary.receive(50ms));
  EXPECT_EQ(notifier.status()[0], NotifyCounters{});
}

}  // namespace
}  // namespace discodns::transfer
