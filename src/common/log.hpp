// Logging facade over spdlog: one line per event to stderr (journald picks it up).
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace discodns::common {

// Sets up the process-wide logger. level: trace, debug, info, warn, error, off.
// Returns false when the level name is unknown.
bool init_logging(std::string_view level);

}  // namespace discodns::common
