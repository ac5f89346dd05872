#include "daemon/registry_view.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <string>
#include <vector>

#include "wire/name.hpp"

namespace discodns::daemon {
namespace {

void write_string(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace

std::string registry_view_json(const std::vector<SourceView>& sources,
                               const catalog::Snapshot* snapshot) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("regions");
  w.StartArray();
  for (const auto& source : sources) {
    w.StartObject();
    w.Key("region");
    write_string(w, source.region);
    w.Key("source");
    w.String(source.discovery ? "discovery" : "file");
    if (source.discovery) {
      const registry::SourceHealth& h = *source.discovery;
      w.Key("stale");
      w.Bool(h.stale);
      w.Key("node");
      write_string(w, h.node);
      w.Key("nodes");
      w.StartArray();
      for (const auto& node : h.nodes)
        write_string(w, node);
      w.EndArray();
      w.Key("last_good_ns");
      w.Int64(h.last_good_ns);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("services");
  w.StartArray();
  if (snapshot != nullptr) {
    std::vector<std::string> names;
    snapshot->services.for_each(
        [&](const std::string& name, const auto&) { names.push_back(wire::wire_to_text(name)); });
    std::sort(names.begin(), names.end());
    for (const auto& name : names)
      write_string(w, name);
  }
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace discodns::daemon
