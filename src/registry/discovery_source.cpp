#include "registry/discovery_source.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "common/thread_priority.hpp"
#include "registry/decode.hpp"
#include "registry/http_client.hpp"

namespace discodns::registry {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kPollHold{30'000};  // the server's own maximum (§4.4)
constexpr milliseconds kFetchTimeout{10'000};
constexpr std::size_t kAppidsPerPoll = 64;  // keeps a poll URL a sane size
constexpr milliseconds kBackoffBase{500};
constexpr milliseconds kBackoffMax{10'000};  // a recovered registry is used again soon
constexpr milliseconds kLoopTick{100};
// Changes closer together than this are delivered together: an isolated change goes out at
// once, a burst (a deploy restarting hundreds of instances, the ~1,500 polls that answer at
// once after a full fetch of 100k apps) costs one delivery per interval instead of one per
// poll answer.
constexpr milliseconds kPublishInterval{5};
// Histogram buckets (seconds). A long poll is held up to 30 s; a reconcile should be quick.
const std::vector<double> kPollBounds{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 20, 30, 35, 45};
const std::vector<double> kReconcileBounds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

struct NodeState {
  std::string addr;
  int failures = 0;
  Steady::time_point backoff_until{};
};

struct AppEntry {
  std::int64_t latest = 0;  // app-level latest_timestamp on the current node (0 = unknown)
};

// Within an app the registry sends instances in random order (§10.13); RegistryData is sorted.
void sort_instances(AppInstances& instances) {
  std::sort(instances.begin(), instances.end(), [](const AppInstance& a, const AppInstance& b) {
    return std::tie(a.zone, a.hostname) < std::tie(b.zone, b.hostname);
  });
}

std::string url_escape(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

struct DiscoverySource::Impl {
  Impl(config::RegistrySource c, const common::Clock& clk, Sink s)
      : cfg(std::move(c)), clock(clk), sink(std::move(s)), rng(std::random_device{}()) {
    for (const auto& n : cfg.nodes)
      nodes.push_back({n});
    current = nodes.empty() ? 0 : rng() % nodes.size();  // spread processes over the seeds
    stale_after = std::max<milliseconds>(2 * cfg.reconcile_interval, milliseconds(2000));
    health.node = nodes.empty() ? "" : nodes[current].addr;
    health.poll_seconds = common::Histogram(kPollBounds);
    health.reconcile_seconds = common::Histogram(kReconcileBounds);
  }

  config::RegistrySource cfg;
  const common::Clock& clock;
  Sink sink;
  std::mt19937_64 rng;
  HttpClient http;
  std::thread thread;
  std::atomic<bool> stopping{false};

  mutable std::mutex health_mutex;
  SourceHealth health;  // guarded by health_mutex for readers on other threads

  std::vector<NodeState> nodes;
  std::size_t current = 0;
  std::map<AppKey, AppEntry> apps;  // the apps polled (an app may have no instances)
  struct PollChunk {
    std::string env;
    std::size_t chunk;
    std::vector<const std::pair<const AppKey, AppEntry>*> entries;  // into `apps`
  };
  std::vector<PollChunk> poll_plan;
  bool poll_plan_stale = true;  // `apps` was replaced
  RegistryData data;            // current data: copied out (shard pointers) on publish
  std::shared_ptr<const RegistryData> published;
  bool need_full = true;
  std::uint64_t fetch_id = 0;  // in-flight fetch/all, 0 = none
  Steady::time_point fetch_sent{};
  bool changed = false;  // data differs from published
  bool publish_pending = false;
  Steady::time_point next_publish{};
  std::uint64_t nodes_id = 0;
  std::map<std::pair<std::string, std::size_t>, std::uint64_t> polls;  // (env, chunk) -> id
  Steady::time_point next_reconcile{};
  Steady::time_point last_good{};
  milliseconds stale_after{};
  std::uint64_t poll_serial = 0;

  void run() {
    while (!stopping.load()) {
      schedule(Steady::now());
      milliseconds wait = kLoopTick;
      if (publish_pending) {
        auto until = std::chrono::ceil<milliseconds>(next_publish - Steady::now());
        wait = std::clamp(until, milliseconds(0), kLoopTick);
      }
      http.poll(wait);
      if (publish_pending && Steady::now() >= next_publish) publish_now();
      check_stale(Steady::now());
    }
    http.cancel_all();
  }

  NodeState* usable_node(Steady::time_point now) {
    if (nodes.empty()) return nullptr;
    if (nodes[current].backoff_until <= now) return &nodes[current];
    return nullptr;
  }

  std::string base_url() const { return "http://" + nodes[current].addr; }

  void schedule(Steady::time_point now) {
    NodeState* node = usable_node(now);
    if (node == nullptr) return;
    if ((need_full || now >= next_reconcile) && fetch_id == 0) {
      next_reconcile = now + cfg.reconcile_interval;
      submit_fetch_all();
      if (nodes_id == 0) submit_nodes();
    }
    if (need_full) return;
    if (poll_plan_stale) plan_polls();
    if (polls.size() == poll_plan.size()) return;  // every poll is in flight: nothing to do
    for (const PollChunk& p : poll_plan) {
      if (!polls.contains({p.env, p.chunk})) submit_poll(p.env, p.chunk, p.entries);
    }
  }

  // One poll per (env, chunk of appids); every appid of the env is always being polled. The
  // plan changes only when the set of apps does (this runs on every event otherwise).
  void plan_polls() {
    poll_plan.clear();
    std::map<std::string, std::vector<const std::pair<const AppKey, AppEntry>*>> by_env;
    for (const auto& entry : apps)
      by_env[entry.first.env].push_back(&entry);
    for (auto& [env, entries] : by_env) {
      for (std::size_t begin = 0; begin < entries.size(); begin += kAppidsPerPoll) {
        std::size_t end = std::min(entries.size(), begin + kAppidsPerPoll);
        poll_plan.push_back({env,
                             begin / kAppidsPerPoll,
                             {entries.begin() + static_cast<std::ptrdiff_t>(begin),
                              entries.begin() + static_cast<std::ptrdiff_t>(end)}});
      }
    }
    poll_plan_stale = false;
  }

  void submit_fetch_all() {
    HttpRequest req;
    req.url = base_url() + "/discovery/fetch/all";
    req.timeout = kFetchTimeout;
    count_request();
    fetch_sent = Steady::now();
    fetch_id = http.submit(std::move(req), [this](HttpResponse r) { on_fetch_all(std::move(r)); });
  }

  void submit_nodes() {
    HttpRequest req;
    req.url = base_url() + "/discovery/nodes";
    req.timeout = kFetchTimeout;
    count_request();
    nodes_id = http.submit(std::move(req), [this](HttpResponse r) {
      nodes_id = 0;
      // Optional: on any failure the seeds keep working.
      if (!r.transport_ok) return count_outcome("nodes", "transport_error");
      if (r.status != 200) return count_outcome("nodes", "http_error");
      auto listed = decode_nodes(r.body);
      if (!listed) return count_outcome("nodes", "bad_answer");
      count_outcome("nodes", "ok");
      for (auto& addr : listed.value()) {
        bool known = std::any_of(nodes.begin(), nodes.end(),
                                 [&](const NodeState& n) { return n.addr == addr; });
        if (!known) {
          spdlog::info("registry {}: learned discovery node {}", cfg.region, addr);
          nodes.push_back({addr});
        }
      }
    });
  }

  void submit_poll(const std::string& env, std::size_t chunk,
                   const std::vector<const std::pair<const AppKey, AppEntry>*>& entries) {
    // A unique hostname per concurrent poll: polls sharing one are cross-wired (§4.7).
    std::string url = base_url() + "/discovery/polls?env=" + url_escape(env) +
                      "&hostname=discodns-" + std::to_string(::getpid()) + "-" +
                      std::to_string(++poll_serial);
    for (const auto* e : entries)
      url += "&appid=" + url_escape(e->first.appid);
    for (const auto* e : entries)
      url += "&latest_timestamp=" + std::to_string(e->second.latest);
    HttpRequest req;
    req.url = std::move(url);
    req.headers.push_back("x1-bmspy-timeout: " + std::to_string(kPollHold.count()));
    req.timeout = kPollHold + kFetchTimeout;
    count_request();
    auto key = std::make_pair(env, chunk);
    polls[key] = http.submit(std::move(req), [this, key, env](HttpResponse r) {
      polls.erase(key);
      on_poll(env, std::move(r));
    });
  }

  void on_fetch_all(HttpResponse r) {
    fetch_id = 0;
    if (stopping.load()) return;
    if (!r.transport_ok) return failed("fetch_all", "transport_error", r.error);
    if (r.status != 200)
      return failed("fetch_all", "http_error", "HTTP " + std::to_string(r.status));
    auto decoded = decode_fetch_all(r.body);
    if (!decoded) return failed("fetch_all", "bad_answer", decoded.error().text);
    std::map<AppKey, AppInstances> fresh;
    std::set<std::string> envs(cfg.envs.begin(), cfg.envs.end());
    for (auto& inst : decoded->instances) {
      if (!envs.empty() && !envs.contains(inst.env)) continue;
      AppKey key{inst.appid, inst.env};
      fresh[key].push_back(std::move(inst));  // the AppInstance part: the key is the map's
    }
    bool same_apps = fresh.size() == apps.size() &&
                     std::equal(fresh.begin(), fresh.end(), apps.begin(),
                                [](const auto& a, const auto& b) { return a.first == b.first; });
    std::map<AppKey, AppEntry> polled;
    for (auto& [key, instances] : fresh) {
      auto old = apps.find(key);
      polled[key].latest = old != apps.end() ? old->second.latest : 0;  // keep the poll position
      sort_instances(instances);
      // Unchanged apps (most of them, at every reconcile) keep their copy: no rebuild.
      changed |= data.set(key, std::move(instances));
    }
    for (const auto& [key, entry] : apps) {
      if (!fresh.contains(key)) changed |= data.set(key, {});
    }
    changed |= data.skipped_instances != decoded->skipped_instances ||
               data.skipped_addrs != decoded->skipped_addrs;
    data.skipped_instances = decoded->skipped_instances;
    data.skipped_addrs = decoded->skipped_addrs;
    apps = std::move(polled);
    poll_plan_stale = true;
    if (!same_apps) restart_polls();  // new or vanished appids: polls must list the new set
    need_full = false;
    mark_good();
    publish();
    std::lock_guard lock(health_mutex);
    ++health.reconciles;
    count_outcome_locked("fetch_all", "ok");
    health.reconcile_seconds.observe(
        std::chrono::duration<double>(Steady::now() - fetch_sent).count());
  }

  void on_poll(const std::string& env, HttpResponse r) {
    if (stopping.load()) return;  // many answers may be queued: stop() must not wait for all
    if (!r.transport_ok) return failed("polls", "transport_error", r.error);
    if (r.status != 200) return failed("polls", "http_error", "HTTP " + std::to_string(r.status));
    auto decoded = decode_polls(r.body);
    if (!decoded) return failed("polls", "bad_answer", decoded.error().text);
    PollsAnswer& answer = *decoded;
    if (answer.code != 0 && answer.code != -304)
      return failed("polls", "error_code", "code " + std::to_string(answer.code));
    {
      std::lock_guard lock(health_mutex);
      count_outcome_locked("polls", answer.code == -304 ? "not_modified" : "ok");
      health.poll_seconds.observe(r.seconds);
    }
    if (answer.code == -304) return mark_good();
    // Each returned appid comes with its complete current InstanceInfo (UP only, §4.3).
    std::map<std::string, AppInstances> by_app;
    for (auto& [appid, latest] : answer.latest)
      by_app[appid];
    for (auto& inst : answer.data.instances) {
      if (inst.env == env) by_app[inst.appid].push_back(std::move(inst));
    }
    for (auto& [appid, instances] : by_app) {
      auto it = apps.find({appid, env});
      if (it == apps.end()) continue;  // not ours (any more)
      auto latest = answer.latest.find(appid);
      if (latest != answer.latest.end()) it->second.latest = latest->second;
      // Polls carry UP instances only: keep the WAITING ones we know of that the answer does
      // not mention, so data does not flap between polls and reconciles.
      if (AppPtr known = data.find(it->first)) {
        for (const auto& old : *known) {
          bool mentioned =
              std::any_of(instances.begin(), instances.end(), [&](const AppInstance& i) {
                return i.zone == old.zone && i.hostname == old.hostname;
              });
          if (old.status == Status::kWaiting && !mentioned) instances.push_back(old);
        }
      }
      sort_instances(instances);
      changed |= data.set(it->first, std::move(instances));
    }
    mark_good();
    {
      std::lock_guard lock(health_mutex);
      ++health.polls_changed;
    }
    publish();
  }

  void restart_polls() {
    for (auto& [key, id] : polls)
      http.cancel(id);
    polls.clear();
  }

  void failed(const char* endpoint, const char* outcome, const std::string& why) {
    count_outcome(endpoint, outcome);
    node_failed(std::string(endpoint) + ": " + why);
  }

  void node_failed(const std::string& why) {
    NodeState& node = nodes[current];
    ++node.failures;
    auto backoff =
        std::min<milliseconds>(kBackoffMax, kBackoffBase * (1 << std::min(node.failures - 1, 10)));
    std::uniform_real_distribution<double> jitter(0.5, 1.0);  // never in lock step, never > max
    node.backoff_until =
        Steady::now() + milliseconds(static_cast<long>(backoff.count() * jitter(rng)));
    spdlog::warn("registry {}: node {} failed ({}); backing off {} ms", cfg.region, node.addr, why,
                 backoff.count());
    // Switch to the node whose backoff ends first; timestamps are per node (§4.8).
    http.cancel_all();
    polls.clear();
    fetch_id = 0;
    nodes_id = 0;
    std::size_t best = current;
    for (std::size_t i = 1; i <= nodes.size(); ++i) {
      std::size_t candidate = (current + i) % nodes.size();
      if (nodes[candidate].backoff_until < nodes[best].backoff_until) best = candidate;
    }
    current = best;
    for (auto& [key, entry] : apps)
      entry.latest = 0;
    need_full = true;
    std::lock_guard lock(health_mutex);
    ++health.failures;
    ++health.node_switches;
    health.node = nodes[current].addr;
  }

  void mark_good() {
    nodes[current].failures = 0;
    last_good = Steady::now();
    bool was_stale;
    {
      std::lock_guard lock(health_mutex);
      was_stale = health.stale;
      health.stale = false;
      health.last_good_ns = clock.now_ns();
      health.node = nodes[current].addr;
    }
    if (was_stale) {
      spdlog::info("registry {}: registry reachable again via {}", cfg.region, nodes[current].addr);
      deliver(published);
    }
  }

  void check_stale(Steady::time_point now) {
    {
      std::lock_guard lock(health_mutex);
      if (health.stale || !health.has_data || now - last_good < stale_after) return;
      health.stale = true;
    }
    spdlog::warn("registry {}: no good answer for {} ms: serving stale data", cfg.region,
                 std::chrono::duration_cast<milliseconds>(now - last_good).count());
    deliver(published);
  }

  void count_request() {
    std::lock_guard lock(health_mutex);
    ++health.requests;
  }

  void count_outcome(const char* endpoint, const char* outcome) {
    std::lock_guard lock(health_mutex);
    count_outcome_locked(endpoint, outcome);
  }

  void count_outcome_locked(const char* endpoint, const char* outcome) {
    ++health.completed[{nodes[current].addr, endpoint, outcome}];
  }

  // New data to deliver: now, or at the end of the current publish interval.
  void publish() {
    publish_pending = true;
    if (Steady::now() >= next_publish) publish_now();
  }

  // A copy of `data` shares every app with it: O(shards), whatever the registry's size.
  void publish_now() {
    publish_pending = false;
    next_publish = Steady::now() + kPublishInterval;
    if (!changed && published) return;
    changed = false;
    published = std::make_shared<const RegistryData>(data);
    deliver(published);
  }

  void deliver(const std::shared_ptr<const RegistryData>& data) {
    if (!data) return;
    SourceHealth copy;
    {
      std::lock_guard lock(health_mutex);
      health.has_data = true;
      copy = health;
    }
    sink(data, copy);
  }
};

DiscoverySource::DiscoverySource(config::RegistrySource config, const common::Clock& clock,
                                 Sink sink)
    : impl_(std::make_unique<Impl>(std::move(config), clock, std::move(sink))) {}

DiscoverySource::~DiscoverySource() {
  stop();
}

void DiscoverySource::seed(std::shared_ptr<const RegistryData> data, common::Nanos saved_ns) {
  Impl& s = *impl_;
  for (const auto& [key, instances] : data->sorted())
    s.apps[*key];
  s.poll_plan_stale = true;
  s.data = *data;
  s.published = std::move(data);
  std::lock_guard lock(s.health_mutex);
  s.health.has_data = true;
  s.health.stale = true;  // from disk: short TTLs until the registry confirms it
  s.health.last_good_ns = saved_ns;
}

void DiscoverySource::start() {
  impl_->thread = std::thread([this] {
    common::name_current_thread("dd-registry");
    common::make_current_thread_background();
    impl_->run();
  });
}

void DiscoverySource::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->stopping.store(true);
  impl_->http.wakeup();
  impl_->thread.join();
}

SourceHealth DiscoverySource::health() const {
  std::lock_guard lock(impl_->health_mutex);
  return impl_->health;
}

}  // namespace discodns::registry
