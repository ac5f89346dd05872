// The command-line tools that need no running daemon: --check-config and --dump-zone.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>

#include "config/config.hpp"

namespace discodns::daemon {

// `discodns --check-config FILE`: loads the config, the zone file and every registry file.
// Returns "" when all is well, else the first error ("FILE:LINE: key: reason" for config).
std::string check_config(const std::filesystem::path& file);

// `--dump-zone`: reads the sources once and writes the zone as it would be served now.
void dump_zone(const config::Config& config, std::ostream& out);

}  // namespace discodns::daemon
