#include "registry/discovery_client.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "registry/decode.hpp"

namespace discodns::registry {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kPollRetryBase{1000};
constexpr milliseconds kPollRetryMax{10'000};
// Histogram buckets (seconds). A long poll is held up to 30 s; a reconcile should be quick.
const std::vector<double> kPollBounds{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 20, 30, 35, 45};
const std::vector<double> kReconcileBounds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

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

double seconds_since(std::chrono::steady_clock::time_point t,
                     std::chrono::steady_clock::time_point now) {
  return std::chrono::duration<double>(now - t).count();
}

}  // namespace

std::string make_poll_identity(std::uint64_t nonce) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == 0) std::snprintf(host, 8, "host");
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(nonce));
  return "discodns-" + url_escape(host) + "-" + hex;
}

DiscoveryClient::DiscoveryClient(const config::RegistrySource& config, MirrorOptions mirror,
                                 Transport& transport, const common::Clock& wall,
                                 std::uint64_t random_seed, std::string identity)
    : config_(config),
      transport_(transport),
      wall_(wall),
      nodes_(config.nodes, random_seed),
      mirror_(std::move(mirror)),
      identity_(std::move(identity)) {
  stale_after_ = std::max<Millis>(2 * config_.reconcile_interval, Millis(2000));
  health_.node = nodes_.empty() ? "" : nodes_.current();
  health_.poll_seconds = common::Histogram(kPollBounds);
  health_.reconcile_seconds = common::Histogram(kReconcileBounds);
  miss_tokens_ = config_.miss_fetches_per_second;
}

void DiscoveryClient::seed(const RegistryData& data, common::Nanos saved_ns) {
  mirror_.seed(data);
  health_.has_data = true;
  health_.stale = true;  // from disk: short TTLs until the registry confirms it
  health_.last_good_ns = saved_ns;
  published_ = std::make_shared<const RegistryData>(mirror_.data());
  mirror_.take_changed();
}

void DiscoveryClient::step(Time now, Millis wait) {
  now_ = now;
  if (!nodes_.empty()) schedule(now);
  transport_.poll(wait);
}

void DiscoveryClient::schedule(Time now) {
  if (!nodes_.usable(now)) return;
  if ((need_full_ || now >= next_reconcile_) && fetch_all_id_ == 0) {
    next_reconcile_ = now + config_.reconcile_interval;
    submit_fetch_all(now);
    if (nodes_id_ == 0) submit_nodes();
  }
  if (need_full_) return;
  if (mirror_.take_apps_changed()) plan_polls();
  for (Poll& poll : polls_) {
    if (poll.id == 0 && poll.retry_at <= now) submit_poll(poll);
  }
  if (fetchs_id_ == 0 && !fetch_queue_.empty()) submit_fetchs();
}

// One poll per (env, chunk of appids); every appid of the env is always being polled. Polls
// in flight list the old set of apps: they are cancelled and sent again.
void DiscoveryClient::plan_polls() {
  for (const Poll& poll : polls_) {
    if (poll.id != 0) transport_.cancel(poll.id);
  }
  polls_.clear();
  std::map<std::string, std::vector<const Mirror::Apps::value_type*>> by_env;
  for (const auto& entry : mirror_.apps())
    by_env[entry.first.env].push_back(&entry);
  for (auto& [env, entries] : by_env) {
    for (std::size_t begin = 0; begin < entries.size(); begin += kAppidsPerPoll) {
      std::size_t end = std::min(entries.size(), begin + kAppidsPerPoll);
      Poll& poll = polls_.emplace_back();
      poll.env = env;
      poll.apps.assign(entries.begin() + static_cast<std::ptrdiff_t>(begin),
                       entries.begin() + static_cast<std::ptrdiff_t>(end));
    }
  }
}

std::uint64_t DiscoveryClient::submit(std::string path, Millis timeout, Transport::Callback done,
                                      std::vector<std::string> headers) {
  HttpRequest req;
  req.url = "http://" + nodes_.current() + path;
  req.timeout = timeout;
  req.headers = std::move(headers);
  ++health_.requests;
  return transport_.submit(std::move(req), std::move(done));
}

void DiscoveryClient::submit_fetch_all(Time now) {
  Mirror::Ticket ticket = mirror_.ticket();
  fetch_all_id_ =
      submit("/discovery/fetch/all", kFetchTimeout, [this, ticket, now](HttpResponse r) {
        fetch_all_id_ = 0;
        on_fetch_all(std::move(r), ticket, now);
      });
}

void DiscoveryClient::submit_nodes() {
  nodes_id_ = submit("/discovery/nodes", kFetchTimeout, [this](HttpResponse r) {
    nodes_id_ = 0;
    // Optional: on any failure the nodes known keep working.
    if (!r.transport_ok) return count("nodes", "transport_error");
    if (r.status != 200) return count("nodes", "http_error");
    auto listed = decode_nodes(r.body);
    if (!listed) return count("nodes", "bad_answer");
    count("nodes", "ok");
    const auto before = nodes_.addresses();
    bool lost_current = nodes_.listed(listed.value());
    const auto after = nodes_.addresses();
    auto has = [](const std::vector<std::string>& list, const std::string& addr) {
      return std::find(list.begin(), list.end(), addr) != list.end();
    };
    for (const auto& addr : after) {
      if (!has(before, addr))
        spdlog::info("registry {}: learned discovery node {}", config_.region, addr);
    }
    for (const auto& addr : before) {
      if (!has(after, addr))
        spdlog::info("registry {}: forgot discovery node {} (no longer listed)", config_.region,
                     addr);
    }
    health_.nodes_known = nodes_.size();
    if (lost_current) node_failed("nodes", "ok", "the node in use is no longer listed");
  });
}

void DiscoveryClient::submit_poll(Poll& poll) {
  // A unique hostname per concurrent poll: polls sharing one are cross-wired (§4.7).
  std::string path = "/discovery/polls?env=" + url_escape(poll.env) + "&hostname=" + identity_ +
                     "-" + std::to_string(++poll_serial_);
  poll.sent.clear();
  for (const auto* e : poll.apps) {
    path += "&appid=" + url_escape(e->first.appid);
    poll.sent[e->first.appid] = e->second.latest;
  }
  for (const auto* e : poll.apps)
    path += "&latest_timestamp=" + std::to_string(e->second.latest);
  std::size_t index = static_cast<std::size_t>(&poll - polls_.data());
  poll.id = submit(std::move(path), kPollHold + kFetchTimeout,
                   [this, index](HttpResponse r) { on_poll(index, std::move(r)); },
                   {"x1-bmspy-timeout: " + std::to_string(kPollHold.count())});
}

void DiscoveryClient::submit_fetchs() {
  Fetch fetch = std::move(fetch_queue_.front());
  fetch_queue_.pop_front();
  std::string path = "/discovery/fetchs?env=" + url_escape(fetch.env) + "&status=3";
  for (const auto& appid : fetch.appids)
    path += "&appid=" + url_escape(appid);
  if (fetch.on_miss) ++health_.miss_fetches;
  Mirror::Ticket ticket = mirror_.ticket();
  fetchs_id_ = submit(std::move(path), kFetchTimeout, [this, fetch, ticket](HttpResponse r) {
    fetchs_id_ = 0;
    on_fetchs(fetch, ticket, std::move(r));
  });
}

// Transport and HTTP failures of any request; true when there was one (counted).
bool DiscoveryClient::transport_failed(const char* endpoint, const HttpResponse& r) {
  if (!r.transport_ok) return count(endpoint, "transport_error"), true;
  if (r.status != 200) return count(endpoint, "http_error"), true;
  return false;
}

void DiscoveryClient::on_fetch_all(HttpResponse r, Mirror::Ticket ticket, Time sent) {
  const char* endpoint = "fetch_all";
  if (!r.transport_ok) return node_failed(endpoint, "transport_error", r.error);
  if (r.status != 200)
    return node_failed(endpoint, "http_error", "HTTP " + std::to_string(r.status));
  auto decoded = decode_fetch_all(r.body);
  if (!decoded) return node_failed(endpoint, "bad_answer", decoded.error().text);
  mirror_.apply_full(std::move(decoded.value()), ticket, wall_.now_ns());
  need_full_ = false;
  mark_good();
  ++health_.reconciles;
  count(endpoint, "ok");
  health_.reconcile_seconds.observe(seconds_since(sent, std::chrono::steady_clock::now()));
}

void DiscoveryClient::on_poll(std::size_t index, HttpResponse r) {
  Poll& poll = polls_[index];
  poll.id = 0;
  if (!r.transport_ok && r.connect_failed) return node_failed("polls", "transport_error", r.error);
  if (!r.transport_ok) return poll_failed(poll, "transport_error", r.error);
  if (r.status != 200) return poll_failed(poll, "http_error", "HTTP " + std::to_string(r.status));
  auto decoded = decode_polls(r.body);
  if (!decoded) return poll_failed(poll, "bad_answer", decoded.error().text);
  PollsAnswer& answer = *decoded;
  // -500: the node refuses reads (protect mode, §5.4): the node, not this poll, is the problem.
  if (answer.code == -500) return node_failed("polls", "error_code", "code -500");
  if (answer.code != 0 && answer.code != -304)
    return poll_failed(poll, "error_code", "code " + std::to_string(answer.code));
  count("polls", answer.code == -304 ? "not_modified" : "ok");
  health_.poll_seconds.observe(r.seconds);
  poll.failures = 0;
  poll_failures_in_row_ = 0;
  mark_good();
  if (answer.code == -304) return;
  ++health_.polls_changed;
  auto doubtful = mirror_.apply_poll(poll.env, std::move(answer), poll.sent, wall_.now_ns());
  for (std::size_t i = 0; i < doubtful.size(); i += kAppidsPerFetch) {
    Fetch& fetch = fetch_queue_.emplace_back();
    fetch.env = poll.env;
    for (std::size_t j = i; j < std::min(doubtful.size(), i + kAppidsPerFetch); ++j)
      fetch.appids.push_back(doubtful[j].appid);
  }
}

void DiscoveryClient::on_fetchs(const Fetch& fetch, Mirror::Ticket ticket, HttpResponse r) {
  if (transport_failed("fetchs", r)) return;  // best effort: the next reconcile covers it
  auto decoded = decode_fetchs(r.body);
  if (!decoded) return count("fetchs", "bad_answer");
  count("fetchs", "ok");
  mirror_.apply_fetch(fetch.appids, fetch.env, std::move(decoded.value()), ticket, wall_.now_ns());
}

void DiscoveryClient::poll_failed(Poll& poll, const char* outcome, const std::string& why) {
  count("polls", outcome);
  ++poll.failures;
  if (++poll_failures_in_row_ >= kPollFailuresPerNode)
    return node_failed("polls", outcome,
                       why + " (" + std::to_string(poll_failures_in_row_) + " polls in a row)");
  ++health_.poll_retries;
  poll.retry_at = now_ + backoff_for(poll.failures, kPollRetryBase, kPollRetryMax);
  spdlog::warn("registry {}: a poll to {} failed ({}); retrying it alone", config_.region,
               nodes_.current(), why);
}

void DiscoveryClient::node_failed(const char* endpoint, const char* outcome,
                                  const std::string& why) {
  if (std::string_view(outcome) != "ok") count(endpoint, outcome);
  const std::string failed = nodes_.current();
  Millis backoff = nodes_.failed(now_);
  spdlog::warn("registry {}: node {} failed ({}: {}); backing off {} ms, using {}", config_.region,
               failed, endpoint, why, backoff.count(), nodes_.current());
  transport_.cancel_all();
  for (Poll& poll : polls_) {
    poll.id = 0;
    poll.failures = 0;
    poll.retry_at = {};
  }
  fetch_all_id_ = nodes_id_ = fetchs_id_ = 0;
  poll_failures_in_row_ = 0;
  mirror_.reset_positions();  // positions are per node (§4.8); the node may have restarted
  need_full_ = true;
  ++health_.failures;
  if (nodes_.current() != failed) ++health_.node_switches;
  health_.node = nodes_.current();
}

void DiscoveryClient::mark_good() {
  nodes_.succeeded();
  last_good_ = now_;
  if (health_.stale && health_.has_data)
    spdlog::info("registry {}: registry reachable again via {}", config_.region, nodes_.current());
  health_.stale = false;
  health_.has_data = true;
  health_.last_good_ns = wall_.now_ns();
  health_.node = nodes_.current();
}

void DiscoveryClient::count(const char* endpoint, const char* outcome) {
  ++health_.completed[{nodes_.current(), endpoint, outcome}];
}

void DiscoveryClient::want(std::vector<AppKey> candidates, Time now) {
  if (config_.miss_fetches_per_second == 0) return;
  const double rate = config_.miss_fetches_per_second;
  miss_tokens_ = std::min(rate, miss_tokens_ + rate * seconds_since(miss_tokens_at_, now));
  miss_tokens_at_ = now;
  std::erase_if(recent_misses_, [&](const auto& e) { return now - e.second > kMissMemory; });
  std::erase_if(candidates, [&](const AppKey& key) {
    return mirror_.data().find(key) != nullptr || recent_misses_.contains(key) ||
           (!config_.envs.empty() &&
            std::find(config_.envs.begin(), config_.envs.end(), key.env) == config_.envs.end());
  });
  if (candidates.empty()) return;
  if (miss_tokens_ < 1 || fetch_queue_.size() >= 64) {
    ++health_.misses_dropped;
    return;
  }
  miss_tokens_ -= 1;
  Fetch fetch;
  fetch.on_miss = true;
  fetch.env = candidates.front().env;
  for (const AppKey& key : candidates) {
    recent_misses_[key] = now;
    if (key.env == fetch.env && fetch.appids.size() < kAppidsPerFetch)
      fetch.appids.push_back(key.appid);
  }
  fetch_queue_.push_back(std::move(fetch));
}

std::shared_ptr<const RegistryData> DiscoveryClient::take_changed() {
  if (!mirror_.take_changed() && published_) return nullptr;
  published_ = std::make_shared<const RegistryData>(mirror_.data());
  return published_;
}

const SourceHealth& DiscoveryClient::health(Time now) {
  if (!health_.stale && health_.has_data && now - last_good_ >= stale_after_) {
    spdlog::warn("registry {}: no good answer for {} ms: serving stale data", config_.region,
                 std::chrono::duration_cast<Millis>(now - last_good_).count());
    health_.stale = true;
  }
  health_.mirror = mirror_.stats();
  health_.nodes_known = nodes_.size();
  health_.nodes = nodes_.addresses();
  return health_;
}

}  // namespace discodns::registry
