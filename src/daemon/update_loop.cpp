// The registry-update path of Daemon, start to end: sources deliver their data, the update
// thread takes it, rebuilds the snapshot (changed apps only), publishes it, rests, and hands
// warm-start copies to the state writer.
#include <algorithm>
#include <chrono>

#include "catalog/serial.hpp"
#include "common/guarded_loop.hpp"
#include "common/log.hpp"
#include "daemon/daemon.hpp"
#include "daemon/state_writer.hpp"

namespace discodns::daemon {

using registry::RegistryData;

void Daemon::deliver(std::size_t source, std::shared_ptr<const RegistryData> data,
                     std::optional<registry::SourceHealth> health) {
  if (!data) return;
  if (registry_fault_.exchange(false)) throw std::runtime_error("DISCODNS_TEST_FAULT=registry");
  {
    std::lock_guard lock(mutex_);
    if (!pending_[source].data) pending_[source].delivered = std::chrono::steady_clock::now();
    pending_[source].data = std::move(data);
    if (health) pending_[source].health = std::move(health);
  }
  wake_.notify_one();
}

bool Daemon::take_pending() {
  std::vector<Pending> taken;
  {
    std::lock_guard lock(mutex_);
    taken.swap(pending_);
    pending_.assign(taken.size(), Pending{});
  }
  bool changed = !store_.current();
  {
    std::lock_guard lock(mutex_);
    if (reload_zone_) {
      zone_ = std::move(reload_zone_);
      changed = true;
    }
    if (reload_ttl_) {
      ttl_ = *reload_ttl_;
      reload_ttl_.reset();
      changed = true;
    }
  }
  // Compared outside the lock so sources never wait on a deep comparison.
  for (std::size_t i = 0; i < taken.size(); ++i) {
    catalog::RegionData& region = regions_[i];
    if (taken[i].health) {
      const registry::SourceHealth& h = *taken[i].health;
      if (h.stale != region.stale || h.last_good_ns != region.last_good_ns) changed = true;
      region.stale = h.stale;
      region.last_good_ns = h.last_good_ns;
    }
    if (!taken[i].data) continue;
    if (taken[i].data != region.data && *taken[i].data != *region.data) {
      changed = true;
      if (!change_delivered_ || taken[i].delivered < *change_delivered_)
        change_delivered_ = taken[i].delivered;
    }
    reclaimer_.drop(std::exchange(region.data, std::move(taken[i].data)));
  }
  return changed;
}

// Hands each live source's data to the state writer for its state_file: at most every 5 s
// (a busy registry must not turn into a busy disk), and always at stop.
void Daemon::save_state(bool force) {
  constexpr auto kMinInterval = std::chrono::seconds(5);
  auto now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    Source& s = *sources_[i];
    const catalog::RegionData& region = regions_[i];
    if (!s.discovery || s.config.state_file.empty() || region.data == s.saved) continue;
    if (region.stale && region.last_good_ns == 0) continue;  // nothing good to save yet
    if (!force && now - s.saved_at < kMinInterval) continue;
    state_->save(s.config.state_file, region.data);
    reclaimer_.drop(std::exchange(s.saved, region.data));
    s.saved_at = now;
  }
}

void Daemon::rebuild() {
  auto started = std::chrono::steady_clock::now();
  catalog::BuildInput input;
  input.previous = std::move(build_state_);  // a failed build starts the next one afresh
  input.zone = zone_;
  input.regions = regions_;
  input.ttl = ttl_;
  input.built_ns = clock_.now_ns();
  input.serial = catalog::next_serial(serial_, zone_->soa_serial, input.built_ns);
  catalog::BuildStats stats;
  std::shared_ptr<const catalog::BuildState> state = catalog::build(input, &stats);
  serial_ = input.serial;
  state_->reserve(serial_);  // durable before any client or secondary can see it
  if (primary_) {
    const catalog::BuildState* previous = input.previous.get();
    primary_->record_publish(previous ? previous->snapshot.get() : nullptr, *state->snapshot);
  }
  // What this build replaced goes to the reclaimer: at 100k instances, freeing a registry
  // version every app of which renewed costs more than the build itself.
  reclaimer_.drop(store_.publish(state->snapshot));
  build_state_ = std::move(state);
  if (notifier_ && notify_servers_up_.load()) notifier_->notify(serial_);
  if (change_delivered_) {
    std::chrono::duration<double> waited = std::chrono::steady_clock::now() - *change_delivered_;
    change_delivered_.reset();
    std::lock_guard lock(mutex_);
    publish_latency_.observe(waited.count());
  }
  reclaimer_.drop(std::move(input.previous));
  builds_.fetch_add(1);
  blocks_built_.fetch_add(stats.blocks_built);
  if (!stats.incremental) full_builds_.fetch_add(1);
  blocks_reused_.fetch_add(stats.blocks_reused);
  std::uint64_t skipped = stats.invalid_names + stats.skipped_instances;
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
  last_build_us_.store(static_cast<std::uint64_t>(ms.count() * 1000));
  // Full builds are events worth a line; incremental ones happen with every registry change.
  spdlog::log(stats.incremental ? spdlog::level::debug : spdlog::level::info,
              "snapshot serial={} ({}) names={} services={} instances={} skipped={} collisions={} "
              "shadowed={} blocks_built={} blocks_reused={} in {:.1f} ms",
              serial_, stats.incremental ? "incremental" : "full", stats.names, stats.services,
              stats.instances, skipped, stats.hostname_collisions, stats.shadowed_names,
              stats.blocks_built, stats.blocks_reused, ms.count());
}

// Snapshot builds take at most about 1/(1 + kBuildRestFactor) of a core: after a build that
// took d, the next one waits k·d (at most kMaxRest). A build compiles only the apps that
// changed (a tenth of a millisecond for one app), so this matters for full builds (a zone
// reload, 250 ms at 100k instances) and for reconciles that see many renewed apps at once:
// changes arriving meanwhile are merged into the next build, and the query workers keep
// their CPU (tests/bench/propagation.py, "qps while the registry changes").
constexpr int kBuildRestFactor = 4;
constexpr std::chrono::seconds kMaxRest{1};

void Daemon::update_loop() {
  std::chrono::steady_clock::time_point rest_until{};
  bool retry = false;  // the last build threw: build again even with nothing new
  for (;;) {
    update_beat_.beat();
    {
      std::unique_lock lock(mutex_);
      // After a build, rest: changes arriving meanwhile are merged into the next build.
      wake_.wait_until(lock, rest_until, [this] { return stopping_; });
      // Woken by a delivery; the timeout flushes warm-start saves that were held back (and
      // beats the heartbeat at least every second or two).
      wake_.wait_for(lock, std::chrono::seconds(1), [this] {
        if (stopping_) return true;
        if (reload_zone_ || reload_ttl_) return true;
        for (const auto& p : pending_)
          if (p.data || p.health) return true;
        return false;
      });
      if (stopping_) return;
    }
    // A failed build keeps the last snapshot: the old answers beat none.
    common::guarded_pass(common::BackgroundThread::kUpdate,
                         [&] { update_pass(rest_until, retry); });
  }
}

void Daemon::update_pass(std::chrono::steady_clock::time_point& rest_until, bool& retry) {
  using Steady = std::chrono::steady_clock;
  // The snapshots the workers let go of since the last pass: freed by the reclaimer, never
  // by a worker or on this thread.
  auto retired = store_.take_retired();
  reclaimer_.drop_all(retired);
  if (take_pending() || retry) {
    retry = true;
    auto started = Steady::now();
    rebuild();
    retry = false;
    auto took = Steady::now() - started;
    rest_until = Steady::now() + std::min<Steady::duration>(took * kBuildRestFactor, kMaxRest);
  }
  save_state(false);
}

}  // namespace discodns::daemon
