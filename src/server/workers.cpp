#include "server/workers.hpp"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <string>

#include "common/cpu_budget.hpp"
#include "common/log.hpp"
#include "common/thread_priority.hpp"

namespace discodns::server {

void CounterTotals::add(const WorkerCounters& c) {
  auto get = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  udp_queries += get(c.udp_queries);
  udp_responses += get(c.udp_responses);
  udp_dropped += get(c.udp_dropped);
  udp_truncated += get(c.udp_truncated);
  udp_rate_limited += get(c.udp_rate_limited);
  udp_slipped += get(c.udp_slipped);
  tcp_queries += get(c.tcp_queries);
  tcp_responses += get(c.tcp_responses);
  tcp_dropped += get(c.tcp_dropped);
  tcp_sessions += get(c.tcp_sessions);
  errors += get(c.errors);
  query_log_dropped += get(c.query_log_dropped);
  for (std::size_t i = 0; i < rcodes.size(); ++i)
    rcodes[i] += get(c.rcodes[i]);
  for (std::size_t i = 0; i < qtypes.size(); ++i)
    qtypes[i] += get(c.qtypes[i]);
  for (std::size_t i = 0; i < latency.size(); ++i)
    latency[i] += get(c.latency[i]);
  latency_sum_ns += get(c.latency_sum_ns);
}

std::size_t latency_index(std::int64_t nanoseconds) {
  double seconds = static_cast<double>(nanoseconds) / 1e9;
  for (std::size_t i = 0; i < std::size(kLatencyBounds); ++i) {
    if (seconds <= kLatencyBounds[i]) return i;
  }
  return std::size(kLatencyBounds);
}

Worker::Worker(unsigned index, const query::SnapshotStore& store) : index_(index), reader_(store) {
  // One thread per io_context: tell Asio so it can skip internal locking.
  io_.emplace(1);
  guard_.emplace(io_->get_executor());
}

void Worker::start() {
  refresh_timer_.emplace(*io_);
  refresh_every_second();
  thread_ = std::thread([this] {
    common::name_current_thread(("dd-query-" + std::to_string(index_)).c_str());
    run();
  });
}

void Worker::run() {
  // Every UDP batch and TCP session step has its own catch boundary; an exception that still
  // gets here left this worker's sockets in an unknown state (a socket no longer read while
  // SO_REUSEPORT keeps sending it a share of the clients). Resuming would half-serve: stop
  // the process instead, loudly, and let systemd (Restart=on-failure) start a whole one.
  try {
    io_->run();
  } catch (const std::exception& e) {
    die(e.what());
  } catch (...) {
    die("an exception of unknown type");
  }
}

void Worker::die(const char* what) noexcept {
  try {
    spdlog::critical("worker {}: uncaught exception in the query loop, aborting: {}", index_, what);
    spdlog::default_logger()->flush();
  } catch (...) {
  }
  std::abort();
}

void Worker::refresh_every_second() {
  refresh_timer_->expires_after(std::chrono::seconds(1));
  refresh_timer_->async_wait([this](const boost::system::error_code& error) {
    if (error) return;  // cancelled: the worker is stopping
    (void)reader_.get();
    heartbeat_.beat();
    refresh_every_second();
  });
}

void Worker::stop_and_join() {
  if (io_) io_->stop();
  if (thread_.joinable()) thread_.join();
}

void Worker::release_io() {
  refresh_timer_.reset();
  guard_.reset();
  io_.reset();
}

WorkerPool::WorkerPool(unsigned count, const query::SnapshotStore& store) {
  if (count == 0) count = common::usable_cpus();
  workers_.reserve(count);
  for (unsigned i = 0; i < count; ++i)
    workers_.push_back(std::make_unique<Worker>(i, store));
}

WorkerPool::~WorkerPool() {
  stop();
  release();
}

void WorkerPool::set_query_sample(unsigned every) {
  query_log_ = every == 0 ? nullptr : std::make_unique<QueryLog>(workers_.size());
  for (auto& w : workers_)
    w->set_query_sample(every, query_log_.get());
}

void WorkerPool::set_miss_hook(MissHook hook) {
  miss_hook_ = std::move(hook);
  for (auto& w : workers_)
    w->set_miss_hook(miss_hook_ ? &miss_hook_ : nullptr);
}

void WorkerPool::start() {
  if (running_) return;
  running_ = true;
  if (query_log_) query_log_->start();
  for (auto& w : workers_)
    w->start();
}

void WorkerPool::stop() {
  for (auto& w : workers_)
    w->stop_and_join();
  if (query_log_) query_log_->stop();  // after the workers: their last lines are written
  running_ = false;
}

void WorkerPool::release() {
  for (auto& w : workers_)
    w->release_io();
}

std::vector<std::uint64_t> WorkerPool::queries_per_worker() const {
  std::vector<std::uint64_t> out;
  for (const auto& w : workers_) {
    const WorkerCounters& c = w->counters();
    out.push_back(c.udp_queries.load(std::memory_order_relaxed) +
                  c.tcp_queries.load(std::memory_order_relaxed));
  }
  return out;
}

CounterTotals WorkerPool::totals() const {
  CounterTotals t;
  for (const auto& w : workers_)
    t.add(w->counters());
  return t;
}

}  // namespace discodns::server
