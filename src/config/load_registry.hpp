// The [[registry]] tables → RegistrySource, one per region: the loader's largest table.
#pragma once

#include <vector>

#include "config/config.hpp"
#include "config/toml_reader.hpp"

namespace discodns::config {

// Every [[registry]] table below `top`: at least one, each region unique.
void read_registries(const TomlReader& in, const Section& top, std::vector<RegistrySource>& out);

}  // namespace discodns::config
