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

#include "common/heartbeat.hpp"
#include "query/engine.hpp"
#include "query/store.hpp"
#include "server/query_log.hpp"
#include "wire/names.hpp"

namespace discodns::server {

// Upper bounds (seconds) of the answer-latency histogram buckets; +Inf follows.
inline constexpr double kLatencyBounds[] = {10e-6,  25e-6, 50e-6, 100e-6, 250e-6,
                                            500e-6, 1e-3,  5e-3,  25e-3};
inline constexpr std::size_t kLatencyBuckets = std::size(kLatencyBounds) + 1;

std::size_t latency_index(std::int64_t nanoseconds);

// Every counter a worker keeps, written once for both kinds: T is an atomic in a worker's own
// WorkerCounters and a plain number in the sums over workers (CounterTotals).
template <class T>
struct CounterFields {
  T udp_queries{};
  T udp_responses{};
  T udp_dropped{};  // unparsable, oversized, or the send failed
  T udp_truncated{};
  T udp_rate_limited{};  // RRL: dropped
  T udp_slipped{};       // RRL: sent as an empty TC=1 reply
  T tcp_queries{};
  T tcp_responses{};
  T tcp_dropped{};
  T tcp_sessions{};
  T errors{};             // exceptions caught at a batch or session boundary
  T query_log_dropped{};  // sampled, but the log's queue was full
  std::array<T, std::size(wire::kRcodeNames)> rcodes{};
  std::array<T, std::size(wire::kQtypeNames)> qtypes{};
  // Receive-to-send time, per bucket (not cumulative); UDP counts each query of a batch with
  // the batch's time (an upper bound: the clock is read once per batch, not per query).
  std::array<T, kLatencyBuckets> latency{};
  T latency_sum_ns{};
};

// Written by the owning worker only (plain load + store, no locked instruction); read by
// anyone (metrics), summed by CounterTotals. One cache line apart so workers never share one.
struct alignas(64) WorkerCounters : CounterFields<std::atomic<std::uint64_t>> {};

// Counts one answer by rcode and qtype.
inline void count_answer(WorkerCounters& c, std::uint8_t rcode, std::uint16_t qtype) noexcept;

// Single-writer increment.
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

struct CounterTotals : CounterFields<std::uint64_t> {
  void add(const WorkerCounters& c);
};

inline void count_answer(WorkerCounters& c, std::uint8_t rcode, std::uint16_t qtype) noexcept {
  bump(c.rcodes[wire::rcode_index(rcode)]);
  bump(c.qtypes[wire::qtype_index(qtype)]);
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
  Worker(unsigned index, const query::SnapshotStore& store);
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
    if (outcome.miss_region != query::kNoRegion && miss_hook_ != nullptr)
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
  query::SnapshotReader reader_;
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
  WorkerPool(unsigned count, const query::SnapshotStore& store);
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
