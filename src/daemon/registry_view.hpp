// GET /debug/registry: each registry source's state and the service names being served, as
// JSON written by RapidJSON's writer, because node addresses come from the registry's own
// /discovery/nodes answers and may hold any character.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/snapshot.hpp"
#include "registry/discovery_client.hpp"

namespace discodns::daemon {

struct SourceView {
  std::string region;
  std::optional<registry::SourceHealth> discovery;  // none: a file source
};

std::string registry_view_json(const std::vector<SourceView>& sources,
                               const catalog::Snapshot* snapshot);

}  // namespace discodns::daemon
