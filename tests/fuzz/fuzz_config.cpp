// libFuzzer target: any bytes as a config file. load_string returns a Config or throws
// ConfigError; never crashes.
#include <string_view>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto config = discodns::config::load_string(text, "fuzz.toml", "/");
    (void)config;
  } catch (const discodns::config::ConfigError&) {
  }
  return 0;
}
