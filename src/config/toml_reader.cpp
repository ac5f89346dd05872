// Typed reads out of a TOML table (toml_reader.hpp), and the "did you mean" of unknown keys.
#include "config/toml_reader.hpp"

#include <algorithm>
#include <iterator>
#include <limits>

#include "config/parse.hpp"

namespace discodns::config {
namespace {

// Indexed by toml::node_type, in its declaration order.
constexpr std::string_view kTypeNames[] = {
    "nothing", "table", "array", "string",   "integer", "floating-point number",
    "boolean", "date",  "time",  "date-time"};
static_assert(static_cast<std::size_t>(toml::node_type::table) == 1 &&
              static_cast<std::size_t>(toml::node_type::date_time) + 1 == std::size(kTypeNames));

std::string_view type_name(toml::node_type type) {
  auto index = static_cast<std::size_t>(type);
  return index < std::size(kTypeNames) ? kTypeNames[index] : kTypeNames[0];
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "unknown key" plus the likely intended key, or the list of keys that are allowed.
std::string unknown_reason(std::string_view what, std::string_view key,
                           std::initializer_list<std::string_view> allowed) {
  std::string_view best;
  // A few edits (more for longer keys) is a typo; beyond that it is a different word.
  std::size_t best_distance = std::max<std::size_t>(2, key.size() / 3) + 1;
  for (auto candidate : allowed) {
    std::size_t d = edit_distance(key, candidate);
    if (d < best_distance) best = candidate, best_distance = d;
  }
  std::string reason = "unknown " + std::string(what);
  if (!best.empty()) return reason + " (did you mean " + in_quotes(best) + "?)";
  const char* separator = " (expected one of: ";
  for (auto candidate : allowed) {
    reason += separator + std::string(candidate);
    separator = ", ";
  }
  return reason + ")";
}

}  // namespace

std::size_t line_of(const toml::source_region& region) {
  return region.begin.line == 0 ? 1 : static_cast<std::size_t>(region.begin.line);
}

TomlReader::TomlReader(std::string name, std::filesystem::path base_dir)
    : name_(std::move(name)), base_dir_(std::move(base_dir)) {}

void TomlReader::fail(std::size_t line, const std::string& key, const std::string& reason) const {
  throw ConfigError(name_ + ":" + std::to_string(line) + ": " + key + ": " + reason);
}

void TomlReader::fail(const toml::node& node, const std::string& key,
                      const std::string& reason) const {
  fail(line_of(node.source()), key, reason);
}

void TomlReader::wrong_type(const toml::node& node, const std::string& key,
                            std::string_view expected) const {
  fail(node, key,
       "expected " + std::string(expected) + ", got " + std::string(type_name(node.type())));
}

std::string TomlReader::key_path(const Section& section, std::string_view key) {
  return section.path.empty() ? std::string(key) : section.path + "." + std::string(key);
}

const toml::node* TomlReader::find(const Section& section, std::string_view key) {
  return section.table == nullptr ? nullptr : section.table->get(key);
}

// File order, not toml++'s (it iterates its map sorted by name).
void TomlReader::check_keys(const Section& section,
                            std::initializer_list<std::string_view> allowed) const {
  if (section.table == nullptr) return;
  const toml::key* first = nullptr;
  const toml::node* first_node = nullptr;
  for (auto&& [key, node] : *section.table) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
    if (first == nullptr || line_of(key.source()) < line_of(first->source()))
      first = &key, first_node = &node;
  }
  if (first == nullptr) return;
  std::string reason;
  if (!section.path.empty()) {
    reason = unknown_reason("key", first->str(), allowed);
  } else if (first_node->is_table() || first_node->is_array_of_tables()) {
    reason = unknown_reason("table", first->str(), allowed);
  } else {
    // A key above the first [table] header: usually a forgotten header.
    reason = "unknown top-level key; keys belong in a table such as [server] or [zone]";
  }
  fail(line_of(first->source()), key_path(section, first->str()), reason);
}

Section TomlReader::sub_table(const Section& parent, std::string_view key) const {
  Section section{nullptr, key_path(parent, key), parent.line};
  const toml::node* node = parent.table->get(key);
  if (node == nullptr) return section;
  section.table = node->as_table();
  if (section.table == nullptr) wrong_type(*node, section.path, "a table");
  section.line = line_of(node->source());
  return section;
}

std::optional<std::int64_t> TomlReader::get_int(const Section& section, std::string_view key,
                                                std::int64_t low, std::int64_t high) const {
  const toml::node* node = find(section, key);
  if (node == nullptr) return std::nullopt;
  const auto* value = node->as_integer();
  if (value == nullptr) wrong_type(*node, key_path(section, key), "an integer");
  std::int64_t v = value->get();
  if (v < low || v > high)
    fail(*node, key_path(section, key),
         "must be between " + std::to_string(low) + " and " + std::to_string(high) + ", got " +
             std::to_string(v));
  return v;
}

std::optional<std::string> TomlReader::get_string(const Section& section,
                                                  std::string_view key) const {
  const toml::node* node = find(section, key);
  if (node == nullptr) return std::nullopt;
  const auto* value = node->as_string();
  if (value == nullptr) wrong_type(*node, key_path(section, key), "a string");
  return value->get();
}

std::optional<std::string> TomlReader::get_bounded_string(const Section& section,
                                                          std::string_view key,
                                                          std::size_t max_bytes) const {
  auto value = get_string(section, key);
  if (value && value->size() > max_bytes) {
    fail(*find(section, key), key_path(section, key),
         "must be at most " + std::to_string(max_bytes) + " bytes, got " +
             std::to_string(value->size()));
  }
  return value;
}

std::string TomlReader::require_string(const Section& section, std::string_view key) const {
  auto value = get_string(section, key);
  if (!value) fail(section.line, key_path(section, key), "missing required key");
  if (value->empty()) fail(*find(section, key), key_path(section, key), "must not be empty");
  return *value;
}

std::optional<std::int64_t> TomlReader::get_duration(const Section& section, std::string_view key,
                                                     std::int64_t low, std::int64_t high) const {
  const toml::node* node = find(section, key);
  if (node == nullptr) return std::nullopt;
  const std::string path = key_path(section, key);
  std::int64_t ms = 0;
  if (const auto* text = node->as_string()) {
    if (auto error = parse_duration(text->get(), ms)) fail(*node, path, *error);
  } else if (const auto* number = node->as_integer()) {
    std::int64_t seconds = number->get();
    if (seconds < 0) fail(*node, path, "must not be negative, got " + std::to_string(seconds));
    if (seconds > std::numeric_limits<std::int64_t>::max() / kMsPerSecond)
      fail(*node, path, "duration " + std::to_string(seconds) + " is too large");
    ms = seconds * kMsPerSecond;
  } else {
    wrong_type(*node, path, "a duration such as \"30s\" or an integer number of seconds");
  }
  if (ms < low || ms > high)
    fail(*node, path,
         "must be between " + format_duration(low) + " and " + format_duration(high) + ", got " +
             format_duration(ms));
  return ms;
}

std::optional<std::chrono::seconds> TomlReader::get_seconds(const Section& section,
                                                            std::string_view key,
                                                            std::int64_t low_ms,
                                                            std::int64_t high_ms) const {
  auto ms = get_duration(section, key, low_ms, high_ms);
  if (!ms) return std::nullopt;
  if (*ms % kMsPerSecond != 0)
    fail(*find(section, key), key_path(section, key),
         "must be a whole number of seconds, got " + format_duration(*ms));
  return std::chrono::seconds(*ms / kMsPerSecond);
}

std::optional<std::vector<std::pair<std::string, const toml::node*>>> TomlReader::get_strings(
    const Section& section, std::string_view key) const {
  const toml::node* node = find(section, key);
  if (node == nullptr) return std::nullopt;
  const std::string path = key_path(section, key);
  const auto* array = node->as_array();
  if (array == nullptr) wrong_type(*node, path, "an array of strings");
  std::vector<std::pair<std::string, const toml::node*>> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const std::string element_path = path + "[" + std::to_string(i) + "]";
    const auto* text = element.as_string();
    if (text == nullptr) wrong_type(element, element_path, "a string");
    if (text->get().empty()) fail(element, element_path, "must not be empty");
    out.emplace_back(text->get(), &element);
  }
  return out;
}

std::filesystem::path TomlReader::resolve(const std::string& text) const {
  std::filesystem::path path(text);
  if (path.is_absolute() || base_dir_.empty()) return path;
  return (base_dir_ / path).lexically_normal();
}

}  // namespace discodns::config
