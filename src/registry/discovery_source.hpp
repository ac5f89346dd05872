// DiscoverySource: follows one discovery cluster (one [[registry]] source) on a thread of its
// own and delivers its data whenever it changes. The protocol work is DiscoveryClient's; this
// adds the thread, the hand-over of data and health, and the queue through which query
// threads report names they could not answer (on-miss fetch) without ever waiting.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

#include "common/clock.hpp"
#include "common/heartbeat.hpp"
#include "config/config.hpp"
#include "registry/discovery_client.hpp"
#include "registry/model.hpp"
#include "registry/transport.hpp"

namespace discodns::registry {

// A fixed ring of names, pushed by query threads without blocking or allocating (a push that
// finds the ring busy or full is dropped) and drained by the registry thread.
class MissQueue {
 public:
  static constexpr std::size_t kSlots = 32;
  static constexpr std::size_t kMaxName = 255;
  bool try_push(std::string_view wire_name) noexcept;
  // f(std::string_view) for every name queued, oldest first.
  template <class F>
  void drain(F&& f) {
    std::array<Slot, kSlots> taken;
    std::size_t n = 0;
    while (busy_.test_and_set(std::memory_order_acquire)) {
    }
    for (; n < count_; ++n)
      taken[n] = slots_[(head_ + n) % kSlots];
    head_ = (head_ + count_) % kSlots;
    count_ = 0;
    busy_.clear(std::memory_order_release);
    for (std::size_t i = 0; i < n; ++i)
      f(std::string_view(taken[i].bytes.data(), taken[i].length));
  }

 private:
  struct Slot {
    std::array<char, kMaxName> bytes;
    std::uint8_t length = 0;
  };
  std::atomic_flag busy_ = ATOMIC_FLAG_INIT;
  std::array<Slot, kSlots> slots_{};
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

// The apps a name below a region could belong to: `wire_prefix` is the lower-cased wire form
// of the labels before the region label (appid labels, env, zone; maybe a host label or
// _scheme._tcp first). Each suffix of the appid labels is a candidate (appids have dots).
std::vector<AppKey> miss_candidates(std::string_view wire_prefix);

class DiscoverySource {
 public:
  // Called on the source's thread with the complete current data (sorted) and health;
  // data may be the same pointer as last time when only the health changed.
  using Sink = std::function<void(std::shared_ptr<const RegistryData>, const SourceHealth& health)>;

  // `transport`: null = the curl client (tests pass a fake).
  DiscoverySource(config::RegistrySource config, MirrorOptions mirror, const common::Clock& clock,
                  Sink sink, std::unique_ptr<Transport> transport = nullptr);
  ~DiscoverySource();

  // Data known before the first fetch (warm start); delivered to nobody, only merged.
  void seed(std::shared_ptr<const RegistryData> data, common::Nanos saved_ns);
  void start();
  void stop();
  SourceHealth health() const;
  // Query threads: a name below this source's region that no app answers. Never blocks.
  void note_miss(std::string_view wire_prefix) noexcept { misses_.try_push(wire_prefix); }
  // Beats once per pass of the source's loop (every 100 ms or so, long polls or not).
  const common::Heartbeat& heartbeat() const { return heartbeat_; }

 private:
  void run();
  void pass(std::chrono::steady_clock::time_point& next_publish);
  void deliver(std::shared_ptr<const RegistryData> data, const SourceHealth& health);

  std::unique_ptr<Transport> transport_;
  DiscoveryClient client_;
  Sink sink_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  MissQueue misses_;
  mutable std::mutex health_mutex_;
  SourceHealth health_;  // a copy for readers on other threads
  std::shared_ptr<const RegistryData> delivered_;
  // Taken from the client but not yet accepted by the sink (it threw): delivered next pass.
  std::shared_ptr<const RegistryData> undelivered_;
  bool delivered_stale_ = true;
  common::Heartbeat heartbeat_;
};

}  // namespace discodns::registry
