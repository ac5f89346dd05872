#include "registry/discovery_source.hpp"

#include <random>

#include "common/guarded_loop.hpp"
#include "common/thread_priority.hpp"
#include "registry/http_client.hpp"

namespace discodns::registry {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kLoopTick{100};
// Changes closer together than this are delivered together: an isolated change goes out at
// once, a burst (a deploy restarting hundreds of instances, the ~1,500 polls that answer at
// once after a full fetch of 100k apps) costs one delivery per interval instead of one per
// poll answer.
constexpr milliseconds kPublishInterval{5};

std::unique_ptr<Transport> or_curl(std::unique_ptr<Transport> transport) {
  return transport ? std::move(transport) : std::make_unique<HttpClient>();
}

std::uint64_t random64() {
  std::random_device random;
  return (std::uint64_t{random()} << 32) ^ random();
}

}  // namespace

bool MissQueue::try_push(std::string_view wire_name) noexcept {
  if (wire_name.size() > kMaxName) return false;
  if (busy_.test_and_set(std::memory_order_acquire)) return false;  // never wait
  bool pushed = count_ < kSlots;
  if (pushed) {
    Slot& slot = slots_[(head_ + count_++) % kSlots];
    std::copy(wire_name.begin(), wire_name.end(), slot.bytes.begin());
    slot.length = static_cast<std::uint8_t>(wire_name.size());
  }
  busy_.clear(std::memory_order_release);
  return pushed;
}

std::vector<AppKey> miss_candidates(std::string_view wire) {
  std::vector<std::string> labels;
  for (std::size_t pos = 0; pos < wire.size();) {
    std::size_t n = static_cast<unsigned char>(wire[pos]);
    if (n == 0 || pos + 1 + n > wire.size()) return {};
    labels.emplace_back(wire.substr(pos + 1, n));
    pos += 1 + n;
  }
  if (labels.size() < 3) return {};  // appid.env.zone at least
  const std::string& env = labels[labels.size() - 2];
  std::size_t first = 0;
  while (first + 2 < labels.size() && labels[first].starts_with('_'))
    ++first;  // _scheme._tcp.<service>
  std::vector<AppKey> out;
  std::string appid;
  for (std::size_t end = labels.size() - 2; end-- > first;) {
    appid = appid.empty() ? labels[end] : labels[end] + "." + appid;
    out.push_back({appid, env});
  }
  return out;
}

DiscoverySource::DiscoverySource(config::RegistrySource config, MirrorOptions mirror,
                                 const common::Clock& clock, Sink sink,
                                 std::unique_ptr<Transport> transport)
    : transport_(or_curl(std::move(transport))),
      client_(config, std::move(mirror), *transport_, clock, random64(),
              make_poll_identity(random64())),
      sink_(std::move(sink)) {
  health_ = client_.health(Steady::now());
}

DiscoverySource::~DiscoverySource() {
  stop();
}

void DiscoverySource::seed(std::shared_ptr<const RegistryData> data, common::Nanos saved_ns) {
  client_.seed(*data, saved_ns);
  delivered_ = client_.take_changed();
  std::lock_guard lock(health_mutex_);
  health_ = client_.health(Steady::now());
}

void DiscoverySource::run() {
  Steady::time_point next_publish{};
  while (!stopping_.load()) {
    heartbeat_.beat();
    // An exception (a bug in decoding, the sink, out of memory) costs this pass, not the
    // process: the client's state stays as the last complete step left it.
    common::guarded_pass(common::BackgroundThread::kRegistry, [&] { pass(next_publish); });
  }
  client_.stop();
}

void DiscoverySource::pass(Steady::time_point& next_publish) {
  Steady::time_point now = Steady::now();
  misses_.drain([&](std::string_view name) { client_.want(miss_candidates(name), now); });
  milliseconds wait = kLoopTick;
  if (client_.has_changes())
    wait =
        std::clamp(std::chrono::ceil<milliseconds>(next_publish - now), milliseconds(0), kLoopTick);
  client_.step(now, wait);
  now = Steady::now();
  const SourceHealth& health = client_.health(now);
  if (client_.has_changes() && now >= next_publish) {
    undelivered_ = client_.take_changed();
    next_publish = now + kPublishInterval;
  }
  {
    std::lock_guard lock(health_mutex_);
    health_ = health;
  }
  if (undelivered_ || (health.has_data && health.stale != delivered_stale_))
    deliver(undelivered_ ? undelivered_ : delivered_, health);
}

void DiscoverySource::deliver(std::shared_ptr<const RegistryData> data,
                              const SourceHealth& health) {
  if (!data) return;
  sink_(data, health);
  // Only once the sink took it: a sink that threw gets the same data again next pass.
  delivered_ = std::move(data);
  delivered_stale_ = health.stale;
  undelivered_.reset();
}

void DiscoverySource::start() {
  thread_ = std::thread([this] {
    common::name_current_thread("dd-registry");
    common::make_current_thread_background();
    run();
  });
}

void DiscoverySource::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  transport_->wakeup();
  thread_.join();
}

SourceHealth DiscoverySource::health() const {
  std::lock_guard lock(health_mutex_);
  return health_;
}

}  // namespace discodns::registry
