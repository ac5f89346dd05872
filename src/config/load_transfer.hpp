// The [transfer] table (and [transfer.tsig]) → TransferConfig: discodns as a hidden primary.
#pragma once

#include "config/config.hpp"
#include "config/toml_reader.hpp"

namespace discodns::config {

void read_transfer(const TomlReader& in, const Section& section, TransferConfig& out);

}  // namespace discodns::config
