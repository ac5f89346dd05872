// DiscoveryClient: follows one discovery cluster over a Transport, on one thread, one step at
// a time (the caller's loop, or a unit test with a scripted transport). What it asks for
// (protocol §4, §6, §10): fetch/all at start, after a node failure and every
// reconcile_interval; long polls (/discovery/polls), one env and up to kAppidsPerPoll appids
// each, under a poll hostname unique to this process and request; /discovery/nodes with
// every reconcile; /discovery/fetchs for apps a query missed (rate-limited) and for apps a
// poll answer made doubtful. Answers go into a Mirror, which decides what they mean.
//
// Failures by kind: a failed poll is retried on its own, with back-off; the node is given up
// (back-off, another node, every poll position reset) only when it fails as a node: it
// cannot be connected to, a full fetch fails, it refuses reads (-500, protect mode), or
// kPollFailuresPerNode polls in a row failed on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "common/clock.hpp"
#include "common/histogram.hpp"
#include "config/config.hpp"
#include "registry/mirror.hpp"
#include "registry/node_set.hpp"
#include "registry/transport.hpp"

namespace discodns::registry {

// What the rest of the process may know about a source's health.
struct SourceHealth {
  bool has_data = false;
  bool stale = false;              // no good answer for stale_after: registry unreachable
  common::Nanos last_good_ns = 0;  // wall time of the last good answer
  std::string node;                // node in use
  std::uint64_t requests = 0;      // sent
  // Completed requests by (node, endpoint, outcome). Endpoints: fetch_all, polls, nodes,
  // fetchs. Outcomes: ok, not_modified, transport_error, http_error, error_code, bad_answer.
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> completed;
  common::Histogram poll_seconds;       // long polls that answered (data or -304)
  common::Histogram reconcile_seconds;  // fetch/all: request sent to data applied
  std::uint64_t failures = 0;           // node failures
  std::uint64_t node_switches = 0;      // node failures that moved to another node
  std::uint64_t poll_retries = 0;       // polls retried on their own after a failure
  std::uint64_t polls_changed = 0;      // polls that returned data
  std::uint64_t reconciles = 0;
  std::uint64_t miss_fetches = 0;    // fetchs sent for names queried but unknown
  std::uint64_t misses_dropped = 0;  // misses not fetched: rate limit or recently fetched
  std::uint64_t nodes_known = 0;
  std::vector<std::string> nodes;  // every node known: configured, then learned
  MirrorStats mirror;
};

class DiscoveryClient {
 public:
  using Time = std::chrono::steady_clock::time_point;
  using Millis = std::chrono::milliseconds;
  static constexpr std::size_t kAppidsPerPoll = 64;  // keeps a poll URL a sane size
  static constexpr std::size_t kAppidsPerFetch = 16;
  static constexpr int kPollFailuresPerNode = 3;
  static constexpr Millis kPollHold{30'000};  // the server's own maximum (§4.4)
  static constexpr Millis kFetchTimeout{10'000};
  // An app fetched on a miss is not fetched again on a miss for this long.
  static constexpr Millis kMissMemory{30'000};

  // `identity` makes poll hostnames unique across every client of the registry (§4.7).
  DiscoveryClient(const config::RegistrySource& config, MirrorOptions mirror, Transport& transport,
                  const common::Clock& wall, std::uint64_t random_seed, std::string identity);

  void seed(const RegistryData& data, common::Nanos saved_ns);
  // Submits what is due, then lets the transport run for at most `wait`, applying answers.
  void step(Time now, Millis wait);
  // Apps a query asked for and did not find: the candidates are fetched (rate-limited).
  void want(std::vector<AppKey> candidates, Time now);
  void stop() { transport_.cancel_all(); }

  bool has_changes() const { return health_.has_data && (mirror_.changed() || !published_); }
  // The data, when it changed since the last call (a copy that shares every app with it).
  std::shared_ptr<const RegistryData> take_changed();
  // Health as of `now`: stale once no good answer came for stale_after.
  const SourceHealth& health(Time now);
  std::string poll_hostname_prefix() const { return identity_; }

 private:
  struct Poll {
    std::string env;
    std::vector<const Mirror::Apps::value_type*> apps;  // into mirror_.apps()
    std::uint64_t id = 0;                               // in flight; 0 = none
    int failures = 0;
    Time retry_at{};
    std::map<std::string, std::int64_t> sent;  // appid -> position as sent
  };
  struct Fetch {
    std::string env;
    std::vector<std::string> appids;
    bool on_miss = false;
  };

  void schedule(Time now);
  void plan_polls();
  void submit_fetch_all(Time now);
  void submit_nodes();
  void submit_poll(Poll& poll);
  void submit_fetchs();
  void on_fetch_all(HttpResponse r, Mirror::Ticket ticket, Time sent);
  void on_poll(std::size_t index, HttpResponse r);
  void on_fetchs(const Fetch& fetch, Mirror::Ticket ticket, HttpResponse r);
  void poll_failed(Poll& poll, const char* outcome, const std::string& why);
  void node_failed(const char* endpoint, const char* outcome, const std::string& why);
  bool transport_failed(const char* endpoint, const HttpResponse& r);
  void mark_good();
  void count(const char* endpoint, const char* outcome);
  std::uint64_t submit(std::string path, Millis timeout, Transport::Callback done,
                       std::vector<std::string> headers = {});

  config::RegistrySource config_;
  Transport& transport_;
  const common::Clock& wall_;
  NodeSet nodes_;
  Mirror mirror_;
  std::string identity_;
  std::uint64_t poll_serial_ = 0;
  std::vector<Poll> polls_;
  bool need_full_ = true;
  std::uint64_t fetch_all_id_ = 0;
  std::uint64_t nodes_id_ = 0;
  std::uint64_t fetchs_id_ = 0;
  Time next_reconcile_{};
  Time now_{};  // of the current step
  Time last_good_{};
  int poll_failures_in_row_ = 0;  // on the current node
  Millis stale_after_{};
  std::deque<Fetch> fetch_queue_;
  std::map<AppKey, Time> recent_misses_;
  double miss_tokens_ = 0;
  Time miss_tokens_at_{};
  SourceHealth health_;
  std::shared_ptr<const RegistryData> published_;
};

// "discodns-<host name>-<random 64-bit nonce in hex>": unique per process even where every
// container runs discodns as pid 1 under the same host name (§4.7).
std::string make_poll_identity(std::uint64_t nonce);

}  // namespace discodns::registry
