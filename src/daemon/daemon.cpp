#include "daemon/daemon.hpp"

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <stdexcept>

#include "catalog/dump.hpp"
#include "common/log.hpp"

namespace discodns::daemon {
namespace {

using registry::RegistryData;

std::shared_ptr<const catalog::StaticZone> load_zone(const config::Config& config) {
  return std::make_shared<const catalog::StaticZone>(
      catalog::load_static_zone(config.zone.file, config.zone.domain));
}

std::string source_name(const config::RegistrySource& source) {
  return "registry \"" + source.region + "\"";
}

// The RFC 7873 server-cookie key: random per process (cookies then survive no restart, which
// RFC 7873 §7.1 allows: the client just gets a fresh one).
std::array<std::uint8_t, 16> random_secret() {
  std::random_device random;
  std::array<std::uint8_t, 16> secret{};
  for (auto& b : secret)
    b = static_cast<std::uint8_t>(random());
  return secret;
}

// Reads a file source once, outside any running daemon (--check-config, --dump-zone).
std::shared_ptr<const RegistryData> read_file_source(const config::RegistrySource& source) {
  std::shared_ptr<const RegistryData> data;
  registry::FileSource reader(source.file, source.file_check_interval,
                              [&data](std::shared_ptr<const RegistryData> d) { data = d; });
  auto result = reader.check_now();
  if (!result.ok()) throw std::runtime_error(result.error().text);
  if (!data) data = std::make_shared<const RegistryData>();
  return data;
}

void require_file_sources(const config::Config& config) {
  for (const auto& source : config.registries) {
    if (source.kind == config::SourceKind::kDiscovery) {
      spdlog::error("{}: source = \"discovery\" is not implemented yet", source_name(source));
      throw std::runtime_error(source_name(source) +
                               ": source = \"discovery\" is not implemented yet; use "
                               "source = \"file\"");
    }
  }
}

}  // namespace

struct Daemon::Source {
  config::RegistrySource config;
  std::unique_ptr<registry::FileSource> file;
};

Daemon::Daemon(config::Config config)
    : config_(std::move(config)), ttl_(catalog::TtlPolicy::from_config(config_.ttl)) {}

Daemon::~Daemon() {
  stop();
}

void Daemon::start() {
  if (started_) return;
  started_ = true;
  try {
    zone_ = load_zone(config_);
    require_file_sources(config_);
    open_sources();
    // Each source's first read happens here, synchronously: no answers from no data.
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      auto result = sources_[i]->file->check_now();
      if (!result.ok()) throw std::runtime_error(result.error().text);
    }
    take_pending();
    rebuild();
    if (!store_.current()) throw std::runtime_error("could not build the first snapshot");
    update_thread_ = std::thread([this] { update_loop(); });
    for (auto& s : sources_)
      s->file->start();

    server::ServerOptions options = server::options_from_config(config_.server);
    options.limits.cookie_secret = random_secret();
    server_ = std::make_unique<server::Server>(options, store_, clock_);
    server_->start();
  } catch (...) {
    stop();
    throw;
  }
  std::string line = ready_line();
  spdlog::info("{} (workers={})", line, server_->workers());
  std::cout << line << std::endl;  // tests and supervisors wait for this line
}

void Daemon::open_sources() {
  pending_.assign(config_.registries.size(), nullptr);
  for (std::size_t i = 0; i < config_.registries.size(); ++i) {
    const auto& source = config_.registries[i];
    catalog::RegionData region;
    region.region = source.region;
    region.data = std::make_shared<const RegistryData>();
    region.last_good_ns = 0;  // file sources are never stale
    regions_.push_back(std::move(region));
    auto s = std::make_unique<Source>();
    s->config = source;
    s->file = std::make_unique<registry::FileSource>(
        source.file, source.file_check_interval,
        [this, i](std::shared_ptr<const RegistryData> data) { deliver(i, std::move(data)); });
    sources_.push_back(std::move(s));
  }
}

void Daemon::deliver(std::size_t source, std::shared_ptr<const RegistryData> data) {
  if (!data) return;
  {
    std::lock_guard lock(mutex_);
    pending_[source] = std::move(data);
  }
  wake_.notify_one();
}

bool Daemon::take_pending() {
  std::vector<std::shared_ptr<const RegistryData>> taken;
  {
    std::lock_guard lock(mutex_);
    taken.swap(pending_);
    pending_.assign(taken.size(), nullptr);
  }
  // Compared outside the lock so sources never wait on a deep comparison.
  bool changed = !store_.current();
  for (std::size_t i = 0; i < taken.size(); ++i) {
    if (!taken[i]) continue;
    if (*taken[i] != *regions_[i].data) changed = true;
    regions_[i].data = std::move(taken[i]);
  }
  return changed;
}

void Daemon::rebuild() {
  auto started = std::chrono::steady_clock::now();
  catalog::BuildInput input;
  input.previous = store_.current();
  input.zone = zone_;
  input.regions = regions_;
  input.ttl = ttl_;
  input.serial = catalog::next_serial(serial_, zone_->soa_serial, clock_.now_ns());
  catalog::BuildStats stats;
  auto snapshot = catalog::build_snapshot(input, &stats);
  serial_ = input.serial;
  store_.publish(std::move(snapshot));
  std::uint64_t skipped = stats.invalid_names;
  for (const auto& region : regions_)
    if (region.data) skipped += region.data->skipped_instances;
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
  spdlog::info(
      "snapshot serial={} names={} services={} instances={} skipped={} collisions={} "
      "shadowed={} blocks_built={} blocks_reused={} in {:.1f} ms",
      serial_, stats.names, stats.services, stats.instances, skipped, stats.hostname_collisions,
      stats.shadowed_names, stats.blocks_built, stats.blocks_reused, ms.count());
}

void Daemon::update_loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] {
        if (stopping_) return true;
        for (const auto& p : pending_)
          if (p) return true;
        return false;
      });
      if (stopping_) return;
    }
    // A failed build keeps the last snapshot: the old answers beat none.
    try {
      if (take_pending()) rebuild();
    } catch (const std::exception& e) {
      spdlog::error("snapshot build failed, keeping serial {}: {}", serial_, e.what());
    }
  }
}

void Daemon::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (server_) {
    server_->stop();
    spdlog::info("servers stopped");
  }
  for (auto& s : sources_)
    s->file->stop();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (update_thread_.joinable()) update_thread_.join();
}

std::string Daemon::ready_line() const {
  std::string line = "discodns ready udp=";
  if (!server_) return line + " tcp=";
  const char* sep = "";
  for (const auto& e : server_->udp_endpoints()) {
    line += sep + server::to_string(e);
    sep = ",";
  }
  line += " tcp=";
  sep = "";
  for (const auto& e : server_->tcp_endpoints()) {
    line += sep + server::to_string(e);
    sep = ",";
  }
  return line;
}

std::string check_config(const std::filesystem::path& file) {
  try {
    config::Config config = config::load_file(file);
    load_zone(config);
    for (const auto& source : config.registries)
      if (source.kind == config::SourceKind::kFile) read_file_source(source);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

void dump_zone(const config::Config& config, std::ostream& out) {
  require_file_sources(config);
  catalog::BuildInput input;
  input.zone = load_zone(config);
  input.ttl = catalog::TtlPolicy::from_config(config.ttl);
  common::Nanos now = common::wall_now_ns();
  for (const auto& source : config.registries) {
    catalog::RegionData region;
    region.region = source.region;
    region.data = read_file_source(source);
    input.regions.push_back(std::move(region));
  }
  input.serial = catalog::next_serial(0, input.zone->soa_serial, now);
  catalog::dump_zone(*catalog::build_snapshot(input), now, out);
}

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Writes to a closed TCP peer must fail with EPIPE, not kill the process.
  signal(SIGPIPE, SIG_IGN);
}

int wait_for_stop_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int received = 0;
  while (sigwait(&set, &received) != 0) {
  }
  return received;
}

}  // namespace discodns::daemon
