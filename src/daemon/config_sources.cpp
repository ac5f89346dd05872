#include "daemon/config_sources.hpp"

#include <chrono>
#include <stdexcept>

#include "common/log.hpp"
#include "registry/file_source.hpp"
#include "registry/persist.hpp"

namespace discodns::daemon {

using registry::RegistryData;

std::shared_ptr<const catalog::StaticZone> load_zone(const config::Config& config) {
  return std::make_shared<const catalog::StaticZone>(
      catalog::load_static_zone(config.zone.file, config.zone.domain));
}

std::string source_name(const config::RegistrySource& source) {
  return "registry \"" + source.region + "\"";
}

std::shared_ptr<const RegistryData> read_file_source(const config::RegistrySource& source) {
  std::shared_ptr<const RegistryData> data;
  registry::FileSource reader(source.file, source.file_check_interval,
                              [&data](std::shared_ptr<const RegistryData> d) { data = d; });
  auto result = reader.check_now();
  if (!result.ok()) throw std::runtime_error(result.error().text);
  if (!data) data = std::make_shared<const RegistryData>();
  return data;
}

std::shared_ptr<const RegistryData> read_source_once(const config::RegistrySource& source) {
  if (source.kind == config::SourceKind::kFile) return read_file_source(source);
  if (!source.state_file.empty()) {
    auto data = registry::load_registry(source.state_file);
    if (data) return std::make_shared<const RegistryData>(std::move(data.value()));
  }
  spdlog::warn("{}: no state_file to read; dumped without its data", source_name(source));
  return std::make_shared<const RegistryData>();
}

registry::MirrorOptions mirror_options(const config::Config& config,
                                       const config::RegistrySource& source) {
  registry::MirrorOptions options;
  options.envs = source.envs;
  options.removal_delay_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          source.removal_delay.value_or(config.ttl.renew_interval + config.ttl.late_grace))
          .count();
  options.max_removal_share = source.max_removal_share;
  options.mass_removal_hold_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(source.mass_removal_hold).count();
  return options;
}

std::filesystem::path serial_file(const config::Config& config) {
  if (!config.zone.serial_file.empty()) return config.zone.serial_file;
  for (const auto& source : config.registries) {
    if (source.kind == config::SourceKind::kDiscovery && !source.state_file.empty())
      return source.state_file.parent_path() / "discodns.serial";
  }
  return {};
}

}  // namespace discodns::daemon
