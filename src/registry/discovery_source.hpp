// DiscoverySource: follows one discovery cluster (one [[registry]] source) and delivers its
// data whenever it changes. Runs one thread of its own with one HttpClient.
//
// Protocol (discovery-protocol.md §4, §6, §10): fetch/all at start and after every node
// switch; then long polls (/discovery/polls), one env per request, appids chunked, a unique
// poll hostname per request; and a periodic reconcile (fetch/all again) because polls never
// report renews, /set changes, vanished apps or new appids. Nodes: the seeds plus those that
// /discovery/nodes lists; on a transport error, an error code (-500 protect mode, …) or an
// undecodable answer the node gets an exponential backoff with jitter and the next one is
// used, with every latest_timestamp reset to 0. Bad answers never replace good data.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>

#include "common/clock.hpp"
#include "common/histogram.hpp"
#include "config/config.hpp"
#include "registry/model.hpp"

namespace discodns::registry {

// What the rest of the process may know about a source's health.
struct SourceHealth {
  bool has_data = false;
  bool stale = false;              // no good answer for stale_after: registry unreachable
  common::Nanos last_good_ns = 0;  // wall time of the last good answer
  std::string node;                // node in use
  std::uint64_t requests = 0;      // sent
  // Completed requests by (node, endpoint, outcome). Endpoints: fetch_all, polls, nodes.
  // Outcomes: ok, not_modified, transport_error, http_error, error_code, bad_answer.
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> completed;
  common::Histogram poll_seconds;       // long polls that answered (data or -304)
  common::Histogram reconcile_seconds;  // fetch/all: request sent to data applied
  std::uint64_t failures = 0;
  std::uint64_t node_switches = 0;
  std::uint64_t polls_changed = 0;  // polls that returned data
  std::uint64_t reconciles = 0;
};

class DiscoverySource {
 public:
  // Called on the source's thread with the complete current data (sorted) and health;
  // data may be the same pointer as last time when only the health changed.
  using Sink = std::function<void(std::shared_ptr<const RegistryData>, const SourceHealth& health)>;

  DiscoverySource(config::RegistrySource config, const common::Clock& clock, Sink sink);
  ~DiscoverySource();

  // Data known before the first fetch (warm start); delivered to nobody, only merged.
  void seed(std::shared_ptr<const RegistryData> data, common::Nanos saved_ns);
  void start();
  void stop();
  SourceHealth health() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace discodns::registry
