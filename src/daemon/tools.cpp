#include "daemon/tools.hpp"

#include "catalog/builder.hpp"
#include "catalog/dump.hpp"
#include "catalog/serial.hpp"
#include "common/clock.hpp"
#include "daemon/config_sources.hpp"
#include "daemon/ttl_from_config.hpp"

namespace discodns::daemon {

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
  catalog::BuildInput input;
  input.zone = load_zone(config);
  input.ttl = ttl_policy_from(config.ttl);
  common::Nanos now = common::wall_now_ns();
  for (const auto& source : config.registries) {
    catalog::RegionData region;
    region.region = source.region;
    region.data = read_source_once(source);
    region.frozen_time = source.kind == config::SourceKind::kFile;
    input.regions.push_back(std::move(region));
  }
  input.serial = catalog::next_serial(0, input.zone->soa_serial, now);
  catalog::dump_zone(*catalog::build_snapshot(input), now, out);
}

}  // namespace discodns::daemon
