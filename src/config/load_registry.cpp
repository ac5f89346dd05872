// [[registry]] tables → RegistrySource: the keys both source kinds share, then those of a file
// source or of a discovery source (the other kind's keys are refused).
#include "config/load_registry.hpp"

#include <algorithm>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "config/parse.hpp"

namespace discodns::config {
namespace {

// Keys of the other kind would be silently ignored: refuse them so a half-edited source
// does not run with settings the operator believes are in force.
void refuse_other_kind(const TomlReader& in, const Section& section, bool is_file,
                       const std::string& kind) {
  static constexpr std::string_view kDiscoveryOnly[] = {"nodes",
                                                        "envs",
                                                        "reconcile_interval",
                                                        "state_file",
                                                        "removal_delay",
                                                        "max_removal_share",
                                                        "mass_removal_hold",
                                                        "miss_fetches_per_second"};
  static constexpr std::string_view kFileOnly[] = {"file", "file_check_interval"};
  const std::span<const std::string_view> foreign =
      is_file ? std::span<const std::string_view>(kDiscoveryOnly)
              : std::span<const std::string_view>(kFileOnly);
  for (auto key : foreign) {
    if (const toml::node* node = TomlReader::find(section, key))
      in.fail(*node, TomlReader::key_path(section, key),
              std::string("only allowed with source = ") +
                  (is_file ? "\"discovery\"" : "\"file\"") +
                  " (this registry has source = " + in_quotes(kind) + ")");
  }
}

void read_removal_guard(const TomlReader& in, const Section& section, RegistrySource& source) {
  source.removal_delay = in.get_seconds(section, "removal_delay", 0, kHourMs);
  if (const toml::node* node = TomlReader::find(section, "max_removal_share")) {
    auto value = node->value<double>();  // integers too (1 = no share rule)
    if (!value)
      in.wrong_type(*node, TomlReader::key_path(section, "max_removal_share"), "a number");
    if (!(*value > 0 && *value <= 1))
      in.fail(*node, TomlReader::key_path(section, "max_removal_share"),
              "must be more than 0 and at most 1, got " + std::to_string(*value));
    source.max_removal_share = *value;
  }
  constexpr std::int64_t kDayMs = 24 * kHourMs;
  if (auto v = in.get_seconds(section, "mass_removal_hold", 0, kDayMs))
    source.mass_removal_hold = *v;
  // A hold shorter than the delay would never hold anything back.
  if (source.removal_delay && source.mass_removal_hold < *source.removal_delay) {
    const char* key =
        TomlReader::find(section, "mass_removal_hold") ? "mass_removal_hold" : "removal_delay";
    in.fail(*TomlReader::find(section, key), TomlReader::key_path(section, key),
            "mass_removal_hold must not be shorter than removal_delay");
  }
}

void read_discovery(const TomlReader& in, const Section& section, RegistrySource& source) {
  const std::string nodes_path = TomlReader::key_path(section, "nodes");
  auto nodes = in.get_strings(section, "nodes");
  if (!nodes)
    in.fail(section.line, nodes_path, "missing required key (discovery \"host:port\" list)");
  if (nodes->empty())
    in.fail(*TomlReader::find(section, "nodes"), nodes_path,
            "must list at least one \"host:port\"");
  for (std::size_t i = 0; i < nodes->size(); ++i) {
    const auto& [text, node] = (*nodes)[i];
    if (auto error = check_node(text))
      in.fail(*node, nodes_path + "[" + std::to_string(i) + "]", *error);
    source.nodes.push_back(text);
  }
  if (auto envs = in.get_strings(section, "envs")) {
    for (std::size_t i = 0; i < envs->size(); ++i) {
      const auto& [text, node] = (*envs)[i];
      const std::string path =
          TomlReader::key_path(section, "envs") + "[" + std::to_string(i) + "]";
      if (std::find(source.envs.begin(), source.envs.end(), text) != source.envs.end())
        in.fail(*node, path, "duplicate env " + in_quotes(text));
      source.envs.push_back(text);
    }
  }
  if (auto v = in.get_seconds(section, "reconcile_interval", kMsPerSecond, kHourMs))
    source.reconcile_interval = *v;
  if (auto state = in.get_string(section, "state_file")) source.state_file = in.resolve(*state);
  read_removal_guard(in, section, source);
  if (auto v = in.get_int(section, "miss_fetches_per_second", 0, 1000))
    source.miss_fetches_per_second = static_cast<unsigned>(*v);
}

RegistrySource read_registry(const TomlReader& in, const Section& section) {
  in.check_keys(section, {"region", "source", "file", "file_check_interval", "nodes", "envs",
                          "reconcile_interval", "state_file", "removal_delay", "max_removal_share",
                          "mass_removal_hold", "miss_fetches_per_second"});
  RegistrySource source;
  source.region = in.require_string(section, "region");
  if (auto error = check_region(source.region))
    in.fail(*TomlReader::find(section, "region"), TomlReader::key_path(section, "region"), *error);
  const std::string kind = in.require_string(section, "source");
  if (kind == "file") {
    source.kind = SourceKind::kFile;
  } else if (kind == "discovery") {
    source.kind = SourceKind::kDiscovery;
  } else {
    in.fail(*TomlReader::find(section, "source"), TomlReader::key_path(section, "source"),
            "must be \"file\" or \"discovery\", got " + in_quotes(kind));
  }
  const bool is_file = source.kind == SourceKind::kFile;
  refuse_other_kind(in, section, is_file, kind);
  if (!is_file) {
    read_discovery(in, section, source);
    return source;
  }
  source.file = in.resolve(in.require_string(section, "file"));
  if (auto ms = in.get_duration(section, "file_check_interval", 100, kHourMs))
    source.file_check_interval = std::chrono::milliseconds(*ms);
  return source;
}

}  // namespace

void read_registries(const TomlReader& in, const Section& top, std::vector<RegistrySource>& out) {
  const toml::node* node = top.table->get("registry");
  const std::string none = "at least one [[registry]] table is required";
  if (node == nullptr) in.fail(1, "registry", none);
  const auto* array = node->as_array();
  if (array == nullptr) in.wrong_type(*node, "registry", "an array of tables ([[registry]])");
  if (array->empty()) in.fail(*node, "registry", none);
  for (std::size_t i = 0; i < array->size(); ++i) {
    if (!array->get(i)->is_table())
      in.wrong_type(*array->get(i), "registry[" + std::to_string(i) + "]", "a table");
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    Section section{element.as_table(), "registry[" + std::to_string(i) + "]",
                    line_of(element.source())};
    RegistrySource source = read_registry(in, section);
    for (std::size_t j = 0; j < out.size(); ++j) {
      if (out[j].region == source.region)
        in.fail(*TomlReader::find(section, "region"), TomlReader::key_path(section, "region"),
                "duplicate region " + in_quotes(source.region) + " (also in registry[" +
                    std::to_string(j) + "])");
    }
    out.push_back(std::move(source));
  }
}

}  // namespace discodns::config
