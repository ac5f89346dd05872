#include "daemon/daemon.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <stdexcept>

#include "catalog/dump.hpp"
#include "common/guarded_loop.hpp"
#include "common/log.hpp"
#include "common/prometheus.hpp"
#include "common/siphash.hpp"
#include "common/thread_priority.hpp"
#include "daemon/config_sources.hpp"
#include "daemon/server_options.hpp"
#include "daemon/state_writer.hpp"
#include "daemon/systemd.hpp"
#include "daemon/transfer_options.hpp"
#include "daemon/ttl_from_config.hpp"
#include "daemon/watchdog.hpp"
#include "registry/persist.hpp"
#include "transfer/notify_tsig.hpp"
#include "wire/name.hpp"

namespace discodns::daemon {

using registry::RegistryData;

Daemon::Daemon(config::Config config)
    : config_(std::move(config)),
      ttl_(ttl_policy_from(config_.ttl)),
      publish_latency_({0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}) {}

Daemon::~Daemon() {
  stop();
}

void Daemon::start(std::optional<server::InheritedSockets> inherited) {
  if (started_) return;
  started_ = true;
  try {
    read_test_fault();
    zone_ = load_zone(config_);
    for (std::size_t i = 0; i < zone_->apex.size() && zone_->apex[i] != 0;
         i += 1 + static_cast<unsigned char>(zone_->apex[i]))
      ++apex_labels_;
    state_ = std::make_unique<StateWriter>(serial_file(config_));
    serial_ = state_->reserved();
    start_transfers();
    if (serial_ != 0) spdlog::info("zone serial continues above {}", serial_);
    open_sources();
    // A file source's first read happens here, synchronously: no answers from no data. A
    // live source starts from its warm-start copy, if any, and syncs in the background.
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      if (!sources_[i]->file) continue;
      auto result = sources_[i]->file->check_now();
      if (!result.ok()) throw std::runtime_error(result.error().text);
    }
    take_pending();
    rebuild();
    if (!store_.current()) throw std::runtime_error("could not build the first snapshot");
    update_thread_ = std::thread([this] {
      common::name_current_thread("dd-update");
      common::make_current_thread_background();
      update_loop();
    });
    // The synchronous first reads are done: from here on a delivery runs on a source's thread.
    if (registry_fault_armed_) registry_fault_.store(true);
    for (auto& s : sources_) {
      if (s->file) s->file->start();
      if (s->discovery) s->discovery->start();
    }
    start_server(std::move(inherited));
    // Only now may secondaries be told: a NOTIFY before the servers listen makes them ask for
    // the SOA in vain, and wait their SOA retry interval (minutes) before asking again.
    if (notifier_) {
      notify_servers_up_.store(true);
      notifier_->notify(store_.current()->serial);
    }
    // Before the admin thread: it reads server_ and watchdog_ (metrics), and starting that
    // thread after both are set is what orders its reads after these writes (TSan caught the
    // watchdog being created after it).
    start_watchdog();
    start_admin();
  } catch (...) {
    stop();
    throw;
  }
  std::string line = ready_line();
  spdlog::info("{} (workers={})", line, server_->workers());
  std::cout << line << std::endl;  // tests and supervisors wait for this line
  notify_systemd("READY=1\nSTATUS=serving");
}

// [transfer]: the serving side first (it keeps the journal from the first build on), then
// the NOTIFY sender, which announces every serial published from here on.
void Daemon::start_transfers() {
  if (auto options = primary_options_from(config_))
    primary_ = std::make_unique<transfer::Primary>(std::move(*options), store_, clock_);
  if (primary_ && serial_file(config_).empty())
    spdlog::warn(
        "[transfer] is on but the serial is kept nowhere (no zone.serial_file, no discovery "
        "state_file): after a restart it follows the clock and may go backwards, and "
        "secondaries then ignore this primary until their serial expires");
  auto targets = notify_targets(config_);
  if (targets.empty()) return;
  transfer::NotifyTsig tsig;
  if (const auto& key = config_.transfer.tsig)
    tsig = transfer::notify_tsig({key->name, key->algorithm, key->secret}, clock_);
  notifier_ = std::make_unique<transfer::Notifier>(std::move(targets), zone_->apex,
                                                   transfer::NotifyOptions{}, std::move(tsig));
}

void Daemon::start_server(std::optional<server::InheritedSockets> inherited) {
  server::ServerOptions options = server_options_from(config_);
  // Random per process: cookies then survive no restart, which RFC 7873 §7.1 allows (the
  // client just gets a fresh one).
  options.limits.cookie_secret = common::random_siphash_key();
  if (inherited) {
    spdlog::info(
        "socket activation: {} UDP and {} TCP sockets from systemd; [server] listen "
        "is not used",
        inherited->udp.size(), inherited->tcp.size());
    options.inherited = std::move(*inherited);
  }
  options.on_miss = [this](std::uint16_t region, std::span<const std::uint8_t> message) {
    note_miss(region, message);
  };
  options.transfers = primary_.get();
  server_ = std::make_unique<server::Server>(options, store_, clock_);
  server_->start();
}

namespace {

// The parts of `fresh` that differ from `running` and that a reload cannot apply (all but the
// zone file, [ttl] and log.level), as "[server], [[registry]]"; "" when none.
std::string needs_restart(const config::Config& fresh, const config::Config& running) {
  std::string out;
  auto note = [&out](bool differs, const char* what) {
    if (differs) out += (out.empty() ? "" : ", ") + std::string(what);
  };
  note(fresh.server != running.server, "[server]");
  note(fresh.registries != running.registries, "[[registry]]");
  note(fresh.admin != running.admin, "[admin]");
  note(fresh.transfer != running.transfer, "[transfer]");
  note(fresh.zone.serial_file != running.zone.serial_file, "zone.serial_file");
  note(fresh.log.query_sample != running.log.query_sample, "log.query_sample");
  return out;
}

}  // namespace

bool Daemon::reload() {
  notify_systemd("RELOADING=1");
  try {
    config::Config fresh = config::load_file(config_.source_file);
    if (fresh.zone.domain != config_.zone.domain) {
      throw std::runtime_error("zone.domain changed (" + config_.zone.domain + " -> " +
                               fresh.zone.domain + "): that needs a restart");
    }
    auto zone = load_zone(fresh);
    auto level = spdlog::level::from_str(fresh.log.level);
    if (auto kept = needs_restart(fresh, config_); !kept.empty()) {
      spdlog::warn(
          "reload: {} changed, which needs a restart (the running values stay); applying "
          "the zone file, [ttl] and log.level now",
          kept);
    }
    {
      std::lock_guard lock(mutex_);
      reload_zone_ = std::move(zone);
      reload_ttl_ = ttl_policy_from(fresh.ttl);
    }
    wake_.notify_all();
    spdlog::set_level(level);
    reloads_ok_.fetch_add(1);
    spdlog::info("reload: {} and {} applied", config_.source_file.string(),
                 fresh.zone.file.string());
    notify_systemd("READY=1\nSTATUS=serving (reloaded)");
    return true;
  } catch (const std::exception& e) {
    reloads_failed_.fetch_add(1);
    spdlog::error("reload refused, the running configuration stays: {}", e.what());
    notify_systemd("READY=1\nSTATUS=serving (last reload refused)");
    return false;
  }
}

void Daemon::open_sources() {
  pending_.assign(config_.registries.size(), Pending{});
  for (std::size_t i = 0; i < config_.registries.size(); ++i) {
    const auto& source = config_.registries[i];
    catalog::RegionData region;
    region.region = source.region;
    region.data = std::make_shared<const RegistryData>();
    auto s = std::make_unique<Source>();
    s->config = source;
    if (source.kind == config::SourceKind::kFile) {
      region.frozen_time = true;  // a snapshot file is never stale: it is served as written
      s->file = std::make_unique<registry::FileSource>(
          source.file, source.file_check_interval,
          [this, i](std::shared_ptr<const RegistryData> data) { deliver(i, std::move(data)); });
    } else {
      // Until the registry answers: the warm-start copy with capped TTLs, or SERVFAIL (never
      // NXDOMAIN) when there is none.
      region.stale = true;
      region.last_good_ns = 0;
      region.reconcile_interval_ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(source.reconcile_interval).count();
      s->discovery = std::make_unique<registry::DiscoverySource>(
          source, mirror_options(config_, source), clock_,
          [this, i](std::shared_ptr<const RegistryData> data, const registry::SourceHealth& h) {
            deliver(i, std::move(data), h);
          });
      if (!source.state_file.empty() && std::filesystem::exists(source.state_file)) {
        auto warm = registry::load_registry(source.state_file);
        if (warm) {
          // When it was saved: the last good answer it holds (max_stale counts from there).
          struct stat st {};
          common::Nanos saved_ns =
              ::stat(source.state_file.c_str(), &st) == 0
                  ? st.st_mtim.tv_sec * common::kNanosPerSecond + st.st_mtim.tv_nsec
                  : 0;
          auto data = std::make_shared<const RegistryData>(std::move(warm.value()));
          spdlog::info("{}: warm start from {} ({} instances)", source_name(source),
                       source.state_file.string(), data->instances());
          s->discovery->seed(data, saved_ns);
          region.data = data;
          region.last_good_ns = saved_ns;
          s->saved = data;
        } else {
          spdlog::warn("{}: ignoring the warm-start file: {}", source_name(source),
                       warm.error().text);
        }
      }
    }
    regions_.push_back(std::move(region));
    sources_.push_back(std::move(s));
  }
}

// Query threads: the question name of `message`, lower-cased, without its region label and
// the apex, to the region's discovery source. No allocation, no waiting.
void Daemon::note_miss(std::uint16_t region, std::span<const std::uint8_t> message) noexcept {
  if (region >= sources_.size() || !sources_[region]->discovery) return;
  constexpr std::size_t kHeader = 12;
  std::array<char, 255> name;
  std::size_t length = 0;
  std::size_t labels = 0;
  for (std::size_t pos = kHeader; pos < message.size() && message[pos] != 0;) {
    std::size_t n = message[pos];
    if (n > 63 || pos + 1 + n > message.size() || length + 1 + n > name.size()) return;
    ++labels;
    name[length++] = static_cast<char>(n);
    for (std::size_t i = 0; i < n; ++i)
      name[length++] = static_cast<char>(std::tolower(message[pos + 1 + i]));
    pos += 1 + n;
  }
  // The engine checked that the name lies below region.apex: drop those labels.
  const std::size_t suffix_labels = apex_labels_ + 1;
  if (labels <= suffix_labels) return;
  std::size_t end = 0;
  for (std::size_t i = 0, pos = 0; i < labels - suffix_labels; ++i) {
    pos += 1 + static_cast<unsigned char>(name[pos]);
    end = pos;
  }
  sources_[region]->discovery->note_miss({name.data(), end});
}

void Daemon::stop() {
  if (stopped_) return;
  stopped_ = true;
  notify_systemd("STOPPING=1");
  if (watchdog_) watchdog_->stop();  // first: what it watches is about to stop moving
  if (server_) {
    server_->stop();
    spdlog::info("servers stopped");
  }
  if (admin_) admin_->stop();
  if (notifier_) notifier_->stop();
  for (auto& s : sources_) {
    if (s->file) s->file->stop();
    if (s->discovery) s->discovery->stop();
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (update_thread_.joinable()) update_thread_.join();
  try {
    take_pending();
    if (state_) {
      save_state(true);
      state_->stop();
    }
  } catch (const std::exception& e) {
    spdlog::error("saving state at stop: {}", e.what());
  }
}

void Daemon::begin_shutdown() {
  shutting_down_.store(true);
  notify_systemd("STATUS=shutting down: answering until the grace period ends");
}

}  // namespace discodns::daemon
