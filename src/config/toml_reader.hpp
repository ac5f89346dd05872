// Typed reads out of one TOML table for the loader: each refuses an unknown key, a wrong type,
// a missing required key or an out-of-range value by throwing ConfigError with
// "file:line: key: reason". Internal to config/ (the only place that sees toml++).
#pragma once

#include <toml++/toml.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"

#if !TOML_EXCEPTIONS
#error "discodns reads toml++ parse errors as exceptions"
#endif

namespace discodns::config {

// One table being read: its dotted path (for messages) and the line of its header.
struct Section {
  const toml::table* table = nullptr;  // null when the table is absent
  std::string path;
  std::size_t line = 1;
};

std::size_t line_of(const toml::source_region& region);

class TomlReader {
 public:
  // `name` is the file as messages call it; `base_dir` resolves relative paths.
  TomlReader(std::string name, std::filesystem::path base_dir);

  [[noreturn]] void fail(std::size_t line, const std::string& key, const std::string& reason) const;
  [[noreturn]] void fail(const toml::node& node, const std::string& key,
                         const std::string& reason) const;
  [[noreturn]] void wrong_type(const toml::node& node, const std::string& key,
                               std::string_view expected) const;

  // "section.key", or "key" at the top.
  static std::string key_path(const Section& section, std::string_view key);
  // The node of `key`, or null when the key or the whole table is absent.
  static const toml::node* find(const Section& section, std::string_view key);

  // Refuses the first unknown key in file order.
  void check_keys(const Section& section, std::initializer_list<std::string_view> allowed) const;
  // The table under `key` (table null when absent); refuses a key that is not a table.
  Section sub_table(const Section& parent, std::string_view key) const;

  // Each returns nullopt when the key is absent.
  std::optional<std::int64_t> get_int(const Section& section, std::string_view key,
                                      std::int64_t low, std::int64_t high) const;
  std::optional<std::string> get_string(const Section& section, std::string_view key) const;
  std::optional<std::string> get_bounded_string(const Section& section, std::string_view key,
                                                std::size_t max_bytes) const;
  // A duration in ms within [low, high]: a string such as "30s", or an integer of seconds.
  std::optional<std::int64_t> get_duration(const Section& section, std::string_view key,
                                           std::int64_t low, std::int64_t high) const;
  // The same, refusing what is not a whole number of seconds.
  std::optional<std::chrono::seconds> get_seconds(const Section& section, std::string_view key,
                                                  std::int64_t low_ms, std::int64_t high_ms) const;
  // An array of non-empty strings, each with its node for error lines.
  std::optional<std::vector<std::pair<std::string, const toml::node*>>> get_strings(
      const Section& section, std::string_view key) const;

  // A non-empty string; refuses an absent key.
  std::string require_string(const Section& section, std::string_view key) const;

  // A path from the config, relative to the config file's directory.
  std::filesystem::path resolve(const std::string& text) const;

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::filesystem::path base_dir_;
};

}  // namespace discodns::config
