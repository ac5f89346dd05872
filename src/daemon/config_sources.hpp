// What the config names, read outside the running loops: the zone file, a registry source
// read once (--check-config, --dump-zone), a live source's mirror options, and where the zone
// serial is kept.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "catalog/static_zone.hpp"
#include "config/config.hpp"
#include "registry/mirror.hpp"
#include "registry/model.hpp"

namespace discodns::daemon {

std::shared_ptr<const catalog::StaticZone> load_zone(const config::Config& config);

// "registry \"china\"", for logs.
std::string source_name(const config::RegistrySource& source);

// Reads a file source once, outside any running daemon. Throws with the reason.
std::shared_ptr<const registry::RegistryData> read_file_source(
    const config::RegistrySource& source);

// --dump-zone without a running daemon: a live source contributes its warm-start copy.
std::shared_ptr<const registry::RegistryData> read_source_once(
    const config::RegistrySource& source);

registry::MirrorOptions mirror_options(const config::Config& config,
                                       const config::RegistrySource& source);

// The zone serial is kept in zone.serial_file, else beside the first live source's warm-start
// file; without either, serials follow the clock only (empty path).
std::filesystem::path serial_file(const config::Config& config);

}  // namespace discodns::daemon
