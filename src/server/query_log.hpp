// The optional sampled query log ([log] query_sample = N): one line for one query in N, so an
// operator can see what clients ask without paying a log line per query. The query thread
// only counts down (QuerySampler) and, on a hit, copies the query's header and question into
// its own lock-free queue; a log thread formats and writes the lines. A full queue drops the
// line (counted), so a slow or blocked log never stalls answering.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "query/engine.hpp"

namespace discodns::server {

class QuerySampler {
 public:
  explicit QuerySampler(unsigned every = 0) : every_(every), countdown_(every) {}
  bool hit() noexcept {
    if (every_ == 0 || --countdown_ != 0) return false;
    countdown_ = every_;
    return true;
  }

 private:
  unsigned every_;
  unsigned countdown_;
};

// What a log line needs, copied on the query thread: header and question fit in 271 bytes.
struct SampledQuery {
  static constexpr std::size_t kKeptBytes = 12 + 255 + 4;
  query::Transport transport = query::Transport::kUdp;
  bool truncated = false;
  std::uint8_t rcode = 0;
  std::uint8_t address_length = 0;
  std::array<std::uint8_t, 16> address{};
  std::uint16_t qtype = 0;
  std::uint16_t kept = 0;
  std::uint32_t response_size = 0;
  std::array<std::uint8_t, kKeptBytes> message{};
};

// "query udp 192.0.2.1 goim.comet.dev.gd.china.example.com. A NOERROR 86B" (+ " TC").
std::string query_line(const SampledQuery& query);

class QueryLog {
 public:
  using Sink = std::function<void(std::string_view line)>;
  static constexpr std::size_t kQueueLength = 256;  // per producer

  // One queue per producer (query worker); `sink` writes a line (default: spdlog info).
  explicit QueryLog(std::size_t producers, Sink sink = {});
  ~QueryLog();
  QueryLog(const QueryLog&) = delete;
  QueryLog& operator=(const QueryLog&) = delete;

  // From producer `producer`'s thread only. Never blocks or allocates; false when its queue
  // is full and the line was dropped.
  bool record(std::size_t producer, query::Transport transport,
              std::span<const std::uint8_t> client_address, std::span<const std::uint8_t> message,
              const query::Outcome& outcome) noexcept;

  // The log thread (dd-query-log): writes queued lines every 50 ms. stop() writes the rest.
  void start();
  void stop();
  // Writes every queued line on the calling thread; returns how many (the log thread and
  // tests). Not concurrently with itself.
  std::size_t drain();

 private:
  struct Queue;
  std::vector<std::unique_ptr<Queue>> queues_;
  Sink sink_;
  std::mutex mutex_;  // the log thread's wake-up only; producers never take it
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace discodns::server
