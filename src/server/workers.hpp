// Query worker threads. Each Worker owns one io_context run by one thread, its counters and
// its snapshot handle; every UDP socket and TCP session it serves runs on that thread only, so
// none of these need a lock. Created and stopped by server::Server.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "catalog/store.hpp"
#include "common/heartbeat.hpp"
#include "query/engine.hpp"
#include "server/query_log.hpp"

namespace discodns::server {

// Answer classes counted per worker, for /metrics (labels in this order).
inline constexpr const char* kRcodeNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                              "NOTIMP",  "REFUSED", "BADVERS",  "other"};
inline constexpr const char* kQtypeNames[] = {"A",   "AAAA", "SRV", "TXT",
                                              "SOA", "NS",   "ANY", "other"};
// Upper bounds (seconds) of the answer-latency histogram buckets; +Inf follows.
inline constexpr double kLatencyBounds[] = {10e-6,  25e-6, 50e-6, 100e-6, 250e-6,
                                            500e-6, 1e-3,  5e-3,  25e-3};
inline constexpr std::size_t kLatencyBuckets = std::size(kLatencyBounds) + 1;

std::size_t rcode_index(std::uint8_t rcode);
std::size_t qtype_index(std::uint16_t qtype);
std::size_t latency_index(std::int64_t nanoseconds);

// Written by the owning worker only (plain load + store, no locked instruction); read by
// anyone (metrics), summed by CounterTotals. One cache line apart so workers never share one.
struct alignas(64) WorkerCounters {
  std::atomic<std::uint64_t> udp_queries{0};
  std::atomic<std::uint64_t> udp_responses{0};
  std::atomic<std::uint64_t> udp_dropped{0};  // unparsable, oversized, or the send failed
  std::atomic<std::uint64_t> udp_truncated{0};
  std::atomic<std::uint64_t> udp_rate_limited{0};  // RRL: dropped
  std::atomic<std::uint64_t> udp_slipped{0};       // RRL: sent as an empty TC=1 reply
  std::atomic<std::uint64_t> tcp_queries{0};
  std::atomic<std::uint64_t> tcp_responses{0};
  std::atomic<std::uint64_t> tcp_dropped{0};
  std::atomic<std::uint64_t> tcp_sessions{0};
  std::atomic<std::uint64_t> errors{0};  // exceptions caught at a batch or session boundary
  std::atomic<std::uint64_t> query_log_dropped{0};  // sampled, but the log's queue was full
  std::array<std::atomic<std::uint64_t>, std::size(kRcodeNames)> rcodes{};
  std::array<std::atomic<std::uint64_t>, std::size(kQtypeNames)> qtypes{};
  // Receive-to-send time; UDP counts each query of a batch with the batch's time (an upper
  // bound: the clock is read once per batch, not per query).
  std::array<std::atomic<std::uint64_t>, kLatencyBuckets> latency{};
  std::atomic<std::uint64_t> latency_sum_ns{0};
};

// Counts one answer by rcode and qtype.
inline void count_answer(WorkerCounters& c, std::uint8_t rcode, std::uint16_t qtype) noexcept;

// Single-writer increment.
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

struct CounterTotals {
  std::uint64_t udp_queries = 0;
  std::uint64_t udp_responses = 0;
  std::uint64_t udp_dropped = 0;
  std::uint64_t udp_truncated = 0;
  std::uint64_t udp_rate_limited = 0;
  std::uint64_t udp_slipped = 0;
  std::uint64_t tcp_queries = 0;
  std::uint64_t tcp_responses = 0;
  std::uint64_t tcp_dropped = 0;
  std::uint64_t tcp_sessions = 0;
  std::uint64_t errors = 0;
  std::uint64_t query_log_dropped = 0;
  std::array<std::uint64_t, std::size(kRcodeNames)> rcodes{};
  std::array<std::uint64_t, std::size(kQtypeNames)> qtypes{};
  std::array<std::uint64_t, kLatencyBuckets> latency{};  // per bucket, not cumulative
  std::uint64_t latency_sum_ns = 0;

  void add(const WorkerCounters& c);
};

inline void count_answer(WorkerCounters& c, std::uint8_t rcode, std::uint16_t qtype) noexcept {
  bump(c.rcodes[rcode_index(rcode)]);
  bump(c.qtypes[qtype_index(qtype)]);
}

// Counts `n` answers that took `nanoseconds` each.
inline void count_latency(WorkerCounters& c, std::int64_t nanoseconds, std::uint64_t n) noexcept {
  bump(c.latency[latency_index(nanoseconds)], n);
  bump(c.latency_sum_ns, static_cast<std::uint64_t>(nanoseconds) * n);
}

// (region index, the query message): see Worker::note_miss.
using MissHook = std::function<void(std::uint16_t, std::span<const std::uint8_t>)>;

class Worker {
 public:
  Worker(unsigned index, const catalog::SnapshotStore& store);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  unsigned index() const { return index_; }
  boost::asio::io_context& io() { return *io_; }
  WorkerCounters& counters() { return counters_; }
  const WorkerCounters& counters() const { return counters_; }
  // Current snapshot, or nullptr before the first publish. Worker thread only.
  const catalog::Snapshot* snapshot() { return reader_.get(); }
  // Where each answer's RRsets start; spreads load between records. Worker thread only.
  std::uint32_t next_rotation() { return rotation_++; }
  // The sampled query log: hands one query in N to `log` (never blocks). Worker thread only.
  void sample_query(const query::QueryContext& context, std::span<const std::uint8_t> message,
                    const query::Outcome& outcome) noexcept {
    if (!sampler_.hit()) return;
    if (!query_log_->record(index_, context.transport, context.client_address, message, outcome))
      bump(counters_.query_log_dropped);
  }
  void set_query_sample(unsigned every, QueryLog* log) {
    sampler_ = QuerySampler(log != nullptr ? every : 0);
    query_log_ = log;
  }
  // A name below a registry region that no app answers (query::Outcome::miss_region): told to
  // the hook (the daemon's on-miss fetch), which must not block. Worker thread only.
  void note_miss(const query::Outcome& outcome, std::span<const std::uint8_t> message) {
    if (outcome.miss_region != catalog::kNoRegion && miss_hook_ != nullptr)
      (*miss_hook_)(outcome.miss_region, message);
  }
  void set_miss_hook(const MissHook* hook) { miss_hook_ = hook; }
  // Beats with every snapshot refresh (1 s): the systemd watchdog's proof of this thread.
  const common::Heartbeat& heartbeat() const { return heartbeat_; }

  void start();
  void stop_and_join();
  // Destroys the io_context and with it every handler still queued (sessions end here).
  // Only after stop_and_join, and after the sockets bound to it are gone.
  void release_io();

 private:
  void run();
  [[noreturn]] void die(const char* what) noexcept;
  void refresh_every_second();

  unsigned index_;
  WorkerCounters counters_;
  catalog::SnapshotReader reader_;
  // Takes the current snapshot every second, queries or not: a worker that SO_REUSEPORT
  // hands no queries would otherwise keep an old snapshot (tens of MB) alive indefinitely.
  std::optional<boost::asio::steady_timer> refresh_timer_;
  common::Heartbeat heartbeat_;
  std::uint32_t rotation_ = 0;
  QuerySampler sampler_;
  QueryLog* query_log_ = nullptr;
  const MissHook* miss_hook_ = nullptr;
  std::optional<boost::asio::io_context> io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
};

class WorkerPool {
 public:
  // count 0 = one per hardware thread.
  WorkerPool(unsigned count, const catalog::SnapshotStore& store);
  ~WorkerPool();

  std::size_t size() const { return workers_.size(); }
  Worker& operator[](std::size_t i) { return *workers_[i]; }
  const Worker& operator[](std::size_t i) const { return *workers_[i]; }

  // [log] query_sample: one query in `every` is logged (0 = none). Before start().
  void set_query_sample(unsigned every);
  // Before start(); the pool keeps the hook.
  void set_miss_hook(MissHook hook);
  void start();
  void stop();  // idempotent; joins every thread
  void release();
  CounterTotals totals() const;
  // UDP and TCP queries each worker received: shows an uneven SO_REUSEPORT spread.
  std::vector<std::uint64_t> queries_per_worker() const;

 private:
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<QueryLog> query_log_;  // with query_sample only
  MissHook miss_hook_;
  bool running_ = false;
};

}  // namespace discodns::server
