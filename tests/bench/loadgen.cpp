// loadgen: a UDP DNS load generator for the benchmarks, cheaper per query than dnsperf
// (sendmmsg/recvmmsg batches, one busy thread), so a 2-core machine measures the server and
// not the client. Two modes:
//   closed loop (default): keeps --window queries in flight, as fast as answers come back;
//   open loop (--rate N):  sends N queries per second whatever happens, so latency
//                          percentiles are those of a server under a known load.
// Prints one line of key=value figures: sent, answered, lost (no answer within 1 s),
// qps (answers per second), latency avg/p50/p99/p99.9/max in microseconds, and answers by
// rcode (servfail, other errors).
//
//   loadgen --server 127.0.0.1:15353 --queries FILE [--seconds 10] [--rate N] [--window 500]
//           [--sockets 16]
// FILE: dnsperf's format, one "NAME TYPE" per line (A, AAAA, SRV, TXT, SOA, NS, ANY).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kBatch = 64;
constexpr std::int64_t kTimeoutNs = 1'000'000'000;
constexpr std::size_t kHistogramUs = 200'000;  // 1 µs buckets up to 200 ms, then one more

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "loadgen: %s\n", why.c_str());
  std::exit(2);
}

std::uint16_t type_code(const std::string& type) {
  static const std::map<std::string, std::uint16_t> kTypes{
      {"A", 1}, {"NS", 2}, {"SOA", 6}, {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}, {"ANY", 255}};
  auto it = kTypes.find(type);
  if (it == kTypes.end()) die("unknown query type " + type);
  return it->second;
}

// A query in wire format with ID 0; the ID is patched per send.
std::vector<std::uint8_t> encode_query(const std::string& name, std::uint16_t type) {
  std::vector<std::uint8_t> out = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  std::stringstream labels(name);
  std::string label;
  while (std::getline(labels, label, '.')) {
    if (label.empty()) continue;
    if (label.size() > 63) die("label too long in " + name);
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
  }
  out.push_back(0);
  out.push_back(static_cast<std::uint8_t>(type >> 8));
  out.push_back(static_cast<std::uint8_t>(type));
  out.push_back(0);
  out.push_back(1);  // IN
  return out;
}

struct Options {
  sockaddr_in server{};
  std::string queries;
  double seconds = 10;
  double rate = 0;  // 0 = closed loop
  std::size_t window = 500;
  std::size_t sockets = 16;
};

Options parse(int argc, char** argv) {
  Options o;
  o.server.sin_family = AF_INET;
  bool have_server = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) die("missing value for " + arg);
    std::string value = argv[++i];
    if (arg == "--server") {
      auto colon = value.rfind(':');
      if (colon == std::string::npos ||
          ::inet_pton(AF_INET, value.substr(0, colon).c_str(), &o.server.sin_addr) != 1)
        die("--server wants IPV4:PORT");
      o.server.sin_port = htons(static_cast<std::uint16_t>(std::stoi(value.substr(colon + 1))));
      have_server = true;
    } else if (arg == "--queries") {
      o.queries = value;
    } else if (arg == "--seconds") {
      o.seconds = std::stod(value);
    } else if (arg == "--rate") {
      o.rate = std::stod(value);
    } else if (arg == "--window") {
      o.window = std::stoul(value);
    } else if (arg == "--sockets") {
      o.sockets = std::clamp<std::size_t>(std::stoul(value), 1, 256);
    } else {
      die("unknown option " + arg);
    }
  }
  if (!have_server || o.queries.empty()) die("usage: loadgen --server IP:PORT --queries FILE");
  return o;
}

struct Stream {
  int fd = -1;
  std::uint16_t next_id = 0;
  std::vector<std::int64_t> sent_at = std::vector<std::int64_t>(65536, 0);  // 0 = free
};

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse(argc, argv);
  std::vector<std::vector<std::uint8_t>> queries;
  {
    std::ifstream in(opt.queries);
    if (!in) die("cannot read " + opt.queries);
    std::string name, type;
    while (in >> name >> type)
      queries.push_back(encode_query(name, type_code(type)));
    if (queries.empty()) die(opt.queries + " has no queries");
  }
  std::vector<Stream> streams(opt.sockets);
  for (auto& s : streams) {
    s.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int size = 8 << 20;
    ::setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    ::setsockopt(s.fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    if (s.fd < 0 || ::connect(s.fd, reinterpret_cast<sockaddr*>(&opt.server), sizeof opt.server))
      die(std::string("socket: ") + std::strerror(errno));
  }

  std::vector<std::uint64_t> histogram(kHistogramUs + 1, 0);
  std::uint64_t sent = 0, answered = 0, lost = 0, servfail = 0, other_errors = 0, late = 0;
  std::int64_t latency_sum_ns = 0, latency_max_ns = 0;
  std::size_t in_flight = 0, next_query = 0, next_stream = 0;

  std::array<std::array<std::uint8_t, 512>, kBatch> tx{};
  std::array<std::array<std::uint8_t, 4096>, kBatch> rx{};
  std::array<iovec, kBatch> tx_iov{}, rx_iov{};
  std::array<mmsghdr, kBatch> tx_msg{}, rx_msg{};
  for (std::size_t i = 0; i < kBatch; ++i) {
    rx_iov[i] = {rx[i].data(), rx[i].size()};
    rx_msg[i].msg_hdr.msg_iov = &rx_iov[i];
    rx_msg[i].msg_hdr.msg_iovlen = 1;
  }

  auto receive = [&](Stream& s, std::int64_t now) {
    for (;;) {
      int got = ::recvmmsg(s.fd, rx_msg.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (got <= 0) return;
      for (int i = 0; i < got; ++i) {
        if (rx_msg[i].msg_len < 12) continue;
        std::uint16_t id = static_cast<std::uint16_t>(rx[i][0] << 8 | rx[i][1]);
        std::int64_t at = s.sent_at[id];
        if (at == 0) {  // answered after we gave up on it, or a duplicate
          ++late;
          continue;
        }
        s.sent_at[id] = 0;
        --in_flight;
        ++answered;
        std::int64_t latency = now - at;
        latency_sum_ns += latency;
        latency_max_ns = std::max(latency_max_ns, latency);
        ++histogram[std::min<std::size_t>(static_cast<std::size_t>(latency / 1000), kHistogramUs)];
        std::uint8_t rcode = rx[i][3] & 0x0f;
        if (rcode == 2)
          ++servfail;
        else if (rcode != 0 && rcode != 3)
          ++other_errors;
      }
      if (static_cast<std::size_t>(got) < kBatch) return;
    }
  };
  auto expire = [&](std::int64_t now) {
    for (auto& s : streams) {
      for (auto& at : s.sent_at) {
        if (at != 0 && now - at > kTimeoutNs) {
          at = 0;
          --in_flight;
          ++lost;
        }
      }
    }
  };

  const std::int64_t start = now_ns();
  const std::int64_t end = start + static_cast<std::int64_t>(opt.seconds * 1e9);
  std::int64_t next_expire = start + kTimeoutNs;
  for (std::int64_t now = start; now < end; now = now_ns()) {
    std::size_t want;
    if (opt.rate > 0) {
      auto due = static_cast<std::uint64_t>(static_cast<double>(now - start) * opt.rate / 1e9);
      want = due > sent ? std::min<std::uint64_t>(due - sent, kBatch) : 0;
    } else {
      want = in_flight < opt.window ? std::min(opt.window - in_flight, kBatch) : 0;
    }
    if (want > 0) {
      Stream& s = streams[next_stream++ % streams.size()];
      std::size_t n = 0;
      for (; n < want; ++n) {
        std::uint16_t id = s.next_id++;
        if (s.sent_at[id] != 0) break;  // this stream's IDs are all in flight
        const auto& q = queries[next_query++ % queries.size()];
        std::memcpy(tx[n].data(), q.data(), q.size());
        tx[n][0] = static_cast<std::uint8_t>(id >> 8);
        tx[n][1] = static_cast<std::uint8_t>(id);
        tx_iov[n] = {tx[n].data(), q.size()};
        tx_msg[n].msg_hdr = {};
        tx_msg[n].msg_hdr.msg_iov = &tx_iov[n];
        tx_msg[n].msg_hdr.msg_iovlen = 1;
        s.sent_at[id] = now;
      }
      int put = n > 0 ? ::sendmmsg(s.fd, tx_msg.data(), static_cast<unsigned>(n), 0) : 0;
      put = std::max(put, 0);
      for (std::size_t i = static_cast<std::size_t>(put); i < n; ++i) {  // not sent: free again
        std::uint16_t id = static_cast<std::uint16_t>(tx[i][0] << 8 | tx[i][1]);
        s.sent_at[id] = 0;
      }
      sent += static_cast<std::uint64_t>(put);
      in_flight += static_cast<std::size_t>(put);
    }
    now = now_ns();
    for (auto& s : streams)
      receive(s, now);
    if (now >= next_expire) {
      expire(now);
      next_expire = now + kTimeoutNs / 10;
    }
  }
  // Stragglers: whatever is still in flight gets its full timeout.
  for (std::int64_t stop = now_ns() + kTimeoutNs; in_flight > 0 && now_ns() < stop;) {
    for (auto& s : streams)
      receive(s, now_ns());
  }
  expire(now_ns() + 2 * kTimeoutNs);

  auto percentile = [&](double p) -> double {
    auto target = static_cast<std::uint64_t>(static_cast<double>(answered) * p);
    std::uint64_t seen = 0;
    for (std::size_t us = 0; us < histogram.size(); ++us) {
      seen += histogram[us];
      if (seen > target) return static_cast<double>(us) + 0.5;
    }
    return static_cast<double>(kHistogramUs);
  };
  double elapsed = static_cast<double>(end - start) / 1e9;
  std::printf(
      "sent=%llu answered=%llu lost=%llu late=%llu qps=%.0f avg_us=%.1f p50_us=%.1f "
      "p99_us=%.1f p999_us=%.1f max_us=%.1f servfail=%llu other_errors=%llu\n",
      static_cast<unsigned long long>(sent), static_cast<unsigned long long>(answered),
      static_cast<unsigned long long>(lost), static_cast<unsigned long long>(late),
      static_cast<double>(answered) / elapsed,
      answered ? static_cast<double>(latency_sum_ns) / static_cast<double>(answered) / 1e3 : 0.0,
      percentile(0.50), percentile(0.99), percentile(0.999),
      static_cast<double>(latency_max_ns) / 1e3, static_cast<unsigned long long>(servfail),
      static_cast<unsigned long long>(other_errors));
  return lost == 0 ? 0 : 1;
}
