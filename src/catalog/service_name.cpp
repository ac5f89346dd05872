#include "catalog/service_name.hpp"

#include "catalog/labels.hpp"
#include "wire/types.hpp"

namespace discodns::catalog {

bool service_name_into(std::string& out, const registry::AppKey& key, const std::string& zone_key,
                       const std::string& region_suffix) {
  out.clear();
  if (!append_appid_labels(out, key.appid) || !append_key_label(out, key.env) ||
      !append_key_label(out, zone_key)) {
    return false;
  }
  out += region_suffix;
  return out.size() <= wire::kMaxNameLength;
}

std::optional<std::string> service_name(const registry::AppKey& key, const std::string& zone_key,
                                        const std::string& region_suffix) {
  std::string name;
  if (!service_name_into(name, key, zone_key, region_suffix)) return std::nullopt;
  return name;
}

}  // namespace discodns::catalog
