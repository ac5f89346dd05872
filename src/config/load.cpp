// TOML → Config. Every refusal names the file, the line, the dotted key and the reason:
//   "configs/demo.toml:12: server.listen[1]: missing port; expected "host:port", e.g. "[::1]:53""
// Array indexes in keys are zero-based, as in toml++ paths.
//
// The format (every table and key below is optional unless marked required; unknown tables and
// keys are refused, as are values of the wrong type):
//
//   [server]
//   listen = ["127.0.0.1:5353", "[::1]:5353"]  # "host:port", host an IP literal, IPv6 in
//                                # brackets; port 0 = any free port (tests); non-empty, no
//                                # duplicates; default ["0.0.0.0:53", "[::]:53"]
//   workers = 0                  # query threads, 0 = one per core; 0..256
//   udp_payload_size = 1232      # EDNS payload size we advertise; 512..4096
//   tcp_idle_timeout = "10s"     # 1ms..1h
//   tcp_max_connections = 1024   # 1..1000000
//   max_address_records = 0      # cap on A/AAAA records per answer, 0 = no cap; 0..65535
//   shutdown_grace = "0s"        # SIGTERM: /readyz 503 at once, answers go on this long; 0..5m
//   identity = ""                # CH TXT id.server. / hostname.bind.; "" = off; <= 255 bytes
//   version = ""                 # CH TXT version.bind.; "" = off; <= 255 bytes
//   nsid = ""                    # EDNS NSID option (RFC 5001); "" = off; <= 128 bytes
//
//   [zone]                       # required
//   domain = "example.com"       # required; a valid DNS name (labels 1..63 of [A-Za-z0-9-_],
//                                # at most 253 characters), not the root; stored lower-cased
//                                # with a trailing dot
//   file = "../zones/example.com.zone"  # required; relative to the config file's directory
//
//   [ttl]
//   renew_interval = "30s"       # discovery's renew interval; 1s..2147483647s
//   min = "1s"                   # 0..max
//   max = "30s"                  # min..2147483647s (RFC 2181 §8)
//   late_grace = "5s"            # 0..2147483647s
//   stale_ttl = "5s"             # TTL cap while the registry is unreachable; 0..2147483647s
//   max_stale = "1h"             # serve stale data this long, then SERVFAIL; 0..2147483647s
//   negative = "5s"              # negative TTL cap below registry regions; 0..2147483647s
//
//   [[registry]]                 # required, at least one
//   region = "china"             # required; one DNS label of [a-z0-9-], 1..63, unique
//   source = "file"              # required; "file" or "discovery"
//   file = "demo-registry.json"  # file: required; relative to the config file's directory
//   file_check_interval = "1s"   # file: optional, 100ms..1h
//   nodes = ["127.0.0.1:7171"]   # discovery: required, >= 1 "host:port" (host name or IP)
//   envs = ["dev"]               # discovery: optional; empty = every env seen
//   reconcile_interval = "15s"   # discovery: optional, 1s..1h
//   state_file = "/var/lib/discodns/china.json"  # discovery: optional; warm-start copy
//   removal_delay = "35s"        # discovery: optional, 0..1h; default renew_interval + late_grace
//   max_removal_share = 0.5      # discovery: optional, 0 < share <= 1 (1 = no share rule)
//   mass_removal_hold = "5m"     # discovery: optional, removal_delay..24h
//   miss_fetches_per_second = 10 # discovery: optional, 0..1000; 0 = no on-miss fetch
//   # Keys of the other source kind are refused (e.g. nodes with source = "file").
//
//   [rrl]                        # response rate limiting, UDP only; off by default
//   responses_per_second = 0     # identical answers per client prefix per second; 0 = off
//   slip = 2                     # every Nth limited answer goes out as TC=1 (0 = none)
//   ipv4_prefix = 24             # 8..32
//   ipv6_prefix = 56             # 16..128
//
//   [admin]
//   listen = "127.0.0.1:9153"   # HTTP /metrics /healthz /readyz /debug/registry; off when absent
//
//   [log]
//   level = "info"               # trace, debug, info, warn, error, off
//   query_sample = 0             # log one query in N (info level); 0 = no query log
//
// Durations are strings "<integer><unit>" with unit ms, s, m or h ("500ms", "10s", "5m", "1h"),
// or an integer number of seconds. Keys held in whole seconds refuse "1500ms".
// The loader checks syntax and values only: whether zone and registry files exist is checked
// later by the daemon (and by --check-config), so configs can be validated anywhere.

#include "config/config.hpp"

#include <arpa/inet.h>

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <sstream>
#include <string_view>
#include <utility>

#if !TOML_EXCEPTIONS
#error "discodns reads toml++ parse errors as exceptions"
#endif

namespace discodns::config {
namespace {

using Millis = std::chrono::milliseconds;

constexpr std::int64_t kMsPerSecond = 1000;
constexpr std::int64_t kMaxTtlSeconds = 2147483647;  // RFC 2181 §8: TTLs are 31-bit
constexpr std::int64_t kMaxTtlMs = kMaxTtlSeconds * kMsPerSecond;
constexpr std::int64_t kHourMs = 3600 * kMsPerSecond;

std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

// "1h", "90s", "1500ms": the largest unit that divides the value, so messages echo the user's
// own spelling in most cases.
std::string format_duration(std::int64_t ms) {
  if (ms != 0 && ms % kHourMs == 0) return std::to_string(ms / kHourMs) + "h";
  if (ms != 0 && ms % (60 * kMsPerSecond) == 0) return std::to_string(ms / 60000) + "m";
  if (ms % kMsPerSecond == 0) return std::to_string(ms / kMsPerSecond) + "s";
  return std::to_string(ms) + "ms";
}

std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "floating-point number";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    default:
      return "nothing";
  }
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

// Splits "host:port" / "[v6]:port". Returns a reason on failure.
std::optional<std::string> split_host_port(std::string_view text, std::string& host,
                                           std::uint32_t& port, bool& bracketed) {
  const std::string example = "expected \"host:port\", e.g. \"127.0.0.1:53\" or \"[::1]:53\"";
  if (text.empty()) return "empty address; " + example;
  std::string_view port_text;
  bracketed = text.front() == '[';
  if (bracketed) {
    auto close = text.find(']');
    if (close == std::string_view::npos) return "missing \"]\" after the IPv6 address; " + example;
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (rest.empty()) return "missing port; " + example;
    if (rest.front() != ':') return "expected \":port\" after \"]\"; " + example;
    port_text = rest.substr(1);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return "missing port; " + example;
    if (text.find(':') != colon) return "an IPv6 address must be in brackets, e.g. \"[::1]:53\"";
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (host.empty()) return "missing host; " + example;
  if (port_text.empty()) return "missing port; " + example;
  std::uint32_t value = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return "port must be a number 0..65535, got " + in_quotes(port_text);
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
    if (value > 65535) return "port must be 0..65535, got " + std::string(port_text);
  }
  port = value;
  return std::nullopt;
}

std::optional<std::string> parse_listen(std::string_view text, ListenAddress& out) {
  std::string host;
  std::uint32_t port = 0;
  bool bracketed = false;
  if (auto error = split_host_port(text, host, port, bracketed)) return error;
  unsigned char buffer[16];
  if (bracketed) {
    if (inet_pton(AF_INET6, host.c_str(), buffer) != 1)
      return "bad IPv6 address " + in_quotes(host);
  } else if (inet_pton(AF_INET, host.c_str(), buffer) != 1) {
    // Listening needs an address we can bind; names would need resolving at start.
    return "bad IPv4 address " + in_quotes(host) + " (listen takes IP literals, not host names)";
  }
  out.host = host;
  out.port = static_cast<std::uint16_t>(port);
  return std::nullopt;
}

// A discovery node: "host:port" where host may be a name; the client prepends "http://".
std::optional<std::string> check_node(std::string_view text) {
  if (text.find("://") != std::string_view::npos)
    return "write \"host:port\" without a scheme, e.g. \"127.0.0.1:7171\"";
  std::string host;
  std::uint32_t port = 0;
  bool bracketed = false;
  if (auto error = split_host_port(text, host, port, bracketed)) return error;
  unsigned char buffer[16];
  if (bracketed) {
    if (inet_pton(AF_INET6, host.c_str(), buffer) != 1)
      return "bad IPv6 address " + in_quotes(host);
  } else {
    for (char c : host) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_';
      if (!ok) return "bad host " + in_quotes(host) + " (a host name or IP address)";
    }
  }
  if (port == 0) return "port must be 1..65535, got 0";
  return std::nullopt;
}

// Returns the domain lower-cased with a trailing dot, or a reason.
std::optional<std::string> normalize_domain(std::string_view text, std::string& out) {
  std::string_view name = text;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return "must be a domain name such as \"example.com\", not the root";
  if (name.size() > 253) return "name too long (" + std::to_string(name.size()) + " > 253)";
  out.clear();
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      std::size_t length = i - label_start;
      if (length == 0) return "empty label in " + in_quotes(text);
      if (length > 63) return "label longer than 63 characters in " + in_quotes(text);
      label_start = i + 1;
      out.push_back('.');
      continue;
    }
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return "bad character " + in_quotes(std::string(1, c)) + " in " + in_quotes(text);
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return std::nullopt;
}

std::optional<std::string> check_region(std::string_view text) {
  if (text.empty() || text.size() > 63) return "must be one DNS label of 1..63 characters";
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok)
      return "must be one DNS label of [a-z0-9-], got " + in_quotes(text) + " (bad character " +
             in_quotes(std::string(1, c)) + ")";
  }
  return std::nullopt;
}

// Parses "<integer><unit>"; the value in ms, or a reason.
std::optional<std::string> parse_duration(std::string_view text, std::int64_t& ms) {
  const std::string reason = "bad duration " + in_quotes(text) +
                             ": expected <integer><unit> with unit ms, s, m or h, e.g. \"30s\"";
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
    ++digits;
  if (digits == 0) return reason;
  std::string_view unit = text.substr(digits);
  std::int64_t factor = 0;
  if (unit == "ms") {
    factor = 1;
  } else if (unit == "s") {
    factor = kMsPerSecond;
  } else if (unit == "m") {
    factor = 60 * kMsPerSecond;
  } else if (unit == "h") {
    factor = kHourMs;
  } else {
    return reason;
  }
  constexpr std::int64_t kLimit = std::numeric_limits<std::int64_t>::max();
  std::int64_t value = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    std::int64_t digit = text[i] - '0';
    if (value > (kLimit - digit) / 10) return "duration " + in_quotes(text) + " is too large";
    value = value * 10 + digit;
  }
  if (value > kLimit / factor) return "duration " + in_quotes(text) + " is too large";
  ms = value * factor;
  return std::nullopt;
}

// One table being read: its dotted path (for messages) and the line of its header.
struct Section {
  const toml::table* table = nullptr;  // null when the table is absent
  std::string path;
  std::size_t line = 1;
};

std::size_t line_of(const toml::source_region& region) {
  return region.begin.line == 0 ? 1 : static_cast<std::size_t>(region.begin.line);
}

class Loader {
 public:
  Loader(std::string name, std::filesystem::path base_dir)
      : name_(std::move(name)), base_dir_(std::move(base_dir)) {}

  Config load(const toml::table& root) {
    Section top{&root, "", 1};
    check_keys(top, {"server", "zone", "ttl", "registry", "log", "admin", "rrl"});
    Config config;
    config.source_file = name_;
    // Optional tables first: a bad value the user wrote is a better first message than a
    // required table they have not written yet.
    read_server(sub_table(top, "server"), config.server);
    read_ttl(sub_table(top, "ttl"), config.ttl);
    read_log(sub_table(top, "log"), config.log);
    read_admin(sub_table(top, "admin"), config.admin);
    read_rrl(sub_table(top, "rrl"), config.server);
    read_zone(top, config.zone);
    read_registries(top, config.registries);
    return config;
  }

 private:
  [[noreturn]] void fail(std::size_t line, const std::string& key,
                         const std::string& reason) const {
    throw ConfigError(name_ + ":" + std::to_string(line) + ": " + key + ": " + reason);
  }
  [[noreturn]] void fail(const toml::node& node, const std::string& key,
                         const std::string& reason) const {
    fail(line_of(node.source()), key, reason);
  }
  [[noreturn]] void wrong_type(const toml::node& node, const std::string& key,
                               std::string_view expected) const {
    fail(node, key,
         "expected " + std::string(expected) + ", got " + std::string(type_name(node.type())));
  }

  static std::string key_path(const Section& section, std::string_view key) {
    return section.path.empty() ? std::string(key) : section.path + "." + std::string(key);
  }

  // Refuses the first unknown key in file order (toml++ iterates its map sorted by name).
  void check_keys(const Section& section, std::initializer_list<std::string_view> allowed) const {
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

  Section sub_table(const Section& parent, std::string_view key) const {
    Section section{nullptr, key_path(parent, key), parent.line};
    const toml::node* node = parent.table->get(key);
    if (node == nullptr) return section;
    section.table = node->as_table();
    if (section.table == nullptr) wrong_type(*node, section.path, "a table");
    section.line = line_of(node->source());
    return section;
  }

  const toml::node* find(const Section& section, std::string_view key) const {
    return section.table == nullptr ? nullptr : section.table->get(key);
  }

  std::optional<std::int64_t> get_int(const Section& section, std::string_view key,
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

  std::optional<std::string> get_string(const Section& section, std::string_view key) const {
    const toml::node* node = find(section, key);
    if (node == nullptr) return std::nullopt;
    const auto* value = node->as_string();
    if (value == nullptr) wrong_type(*node, key_path(section, key), "a string");
    return value->get();
  }

  std::optional<std::string> get_bounded_string(const Section& section, std::string_view key,
                                                std::size_t max_bytes) const {
    auto value = get_string(section, key);
    if (value && value->size() > max_bytes) {
      fail(*find(section, key), key_path(section, key),
           "must be at most " + std::to_string(max_bytes) + " bytes, got " +
               std::to_string(value->size()));
    }
    return value;
  }

  std::string require_string(const Section& section, std::string_view key) const {
    auto value = get_string(section, key);
    if (!value) fail(section.line, key_path(section, key), "missing required key");
    if (value->empty()) fail(*find(section, key), key_path(section, key), "must not be empty");
    return *value;
  }

  // A duration in ms within [low, high]; integers are seconds.
  std::optional<std::int64_t> get_duration(const Section& section, std::string_view key,
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

  std::optional<std::chrono::seconds> get_seconds(const Section& section, std::string_view key,
                                                  std::int64_t low_ms, std::int64_t high_ms) const {
    auto ms = get_duration(section, key, low_ms, high_ms);
    if (!ms) return std::nullopt;
    if (*ms % kMsPerSecond != 0)
      fail(*find(section, key), key_path(section, key),
           "must be a whole number of seconds, got " + format_duration(*ms));
    return std::chrono::seconds(*ms / kMsPerSecond);
  }

  // An array of non-empty strings, each with its node for error lines.
  std::optional<std::vector<std::pair<std::string, const toml::node*>>> get_strings(
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

  std::filesystem::path resolve(const std::string& text) const {
    std::filesystem::path path(text);
    if (path.is_absolute() || base_dir_.empty()) return path;
    return (base_dir_ / path).lexically_normal();
  }

  void read_server(const Section& section, ServerConfig& server) const {
    check_keys(section,
               {"listen", "workers", "udp_payload_size", "tcp_idle_timeout", "tcp_max_connections",
                "max_address_records", "shutdown_grace", "identity", "version", "nsid"});
    const std::string listen_path = key_path(section, "listen");
    if (auto entries = get_strings(section, "listen")) {
      if (entries->empty())
        fail(*find(section, "listen"), listen_path, "must list at least one address");
      for (std::size_t i = 0; i < entries->size(); ++i) {
        const auto& [text, node] = (*entries)[i];
        const std::string path = listen_path + "[" + std::to_string(i) + "]";
        ListenAddress address;
        if (auto error = parse_listen(text, address)) fail(*node, path, *error);
        for (std::size_t j = 0; j < server.listen.size(); ++j) {
          if (server.listen[j].host == address.host && server.listen[j].port == address.port)
            fail(*node, path, "same address as " + listen_path + "[" + std::to_string(j) + "]");
        }
        server.listen.push_back(address);
      }
    } else {
      server.listen = {{"0.0.0.0", 53}, {"::", 53}};
    }
    if (auto v = get_int(section, "workers", 0, 256)) server.workers = static_cast<unsigned>(*v);
    if (auto v = get_int(section, "udp_payload_size", 512, 4096))
      server.udp_payload_size = static_cast<std::uint16_t>(*v);
    if (auto ms = get_duration(section, "tcp_idle_timeout", 1, kHourMs))
      server.tcp_idle_timeout = Millis(*ms);
    if (auto v = get_int(section, "tcp_max_connections", 1, 1'000'000))
      server.tcp_max_connections = static_cast<unsigned>(*v);
    // More A/AAAA records than this never fit in a 64 KiB message anyway.
    if (auto v = get_int(section, "max_address_records", 0, 65535))
      server.max_address_records = static_cast<unsigned>(*v);
    if (auto ms = get_duration(section, "shutdown_grace", 0, 5 * 60'000))
      server.shutdown_grace = Millis(*ms);
    // A TXT character-string holds 255 octets; NSID is ours to cap, and must fit beside an
    // answer in 512 bytes.
    if (auto v = get_bounded_string(section, "identity", kMaxTxtLength)) server.identity = *v;
    if (auto v = get_bounded_string(section, "version", kMaxTxtLength)) server.version = *v;
    if (auto v = get_bounded_string(section, "nsid", kMaxNsidLength)) server.nsid = *v;
  }

  void read_zone(const Section& top, ZoneConfig& zone) const {
    Section section = sub_table(top, "zone");
    if (section.table == nullptr)
      fail(1, "zone", "missing required table [zone] (with domain and file)");
    check_keys(section, {"domain", "file"});
    std::string domain = require_string(section, "domain");
    if (auto error = normalize_domain(domain, zone.domain))
      fail(*find(section, "domain"), key_path(section, "domain"), *error);
    zone.file = resolve(require_string(section, "file"));
  }

  void read_ttl(const Section& section, TtlConfig& ttl) const {
    check_keys(section, {"renew_interval", "min", "max", "late_grace", "stale_ttl", "max_stale",
                         "negative"});
    if (auto v = get_seconds(section, "renew_interval", kMsPerSecond, kMaxTtlMs))
      ttl.renew_interval = *v;
    if (auto v = get_seconds(section, "min", 0, kMaxTtlMs)) ttl.min = *v;
    if (auto v = get_seconds(section, "max", 0, kMaxTtlMs)) ttl.max = *v;
    if (ttl.min > ttl.max) {
      // Blame the key the user wrote; both may be set, then min is the one to look at.
      const std::string range = format_duration(ttl.min.count() * kMsPerSecond) + " > " +
                                format_duration(ttl.max.count() * kMsPerSecond);
      if (const toml::node* node = find(section, "min"))
        fail(*node, key_path(section, "min"), "must not exceed ttl.max (" + range + ")");
      fail(*find(section, "max"), key_path(section, "max"),
           "must not be less than ttl.min (" + range + ")");
    }
    if (auto v = get_seconds(section, "late_grace", 0, kMaxTtlMs)) ttl.late_grace = *v;
    if (auto v = get_seconds(section, "stale_ttl", 0, kMaxTtlMs)) ttl.stale_ttl = *v;
    if (auto v = get_seconds(section, "max_stale", 0, kMaxTtlMs)) ttl.max_stale = *v;
    if (auto v = get_seconds(section, "negative", 0, kMaxTtlMs)) ttl.negative = *v;
  }

  void read_registries(const Section& top, std::vector<RegistrySource>& out) const {
    const toml::node* node = top.table->get("registry");
    const std::string none = "at least one [[registry]] table is required";
    if (node == nullptr) fail(1, "registry", none);
    const auto* array = node->as_array();
    if (array == nullptr) wrong_type(*node, "registry", "an array of tables ([[registry]])");
    if (array->empty()) fail(*node, "registry", none);
    for (std::size_t i = 0; i < array->size(); ++i) {
      if (!array->get(i)->is_table())
        wrong_type(*array->get(i), "registry[" + std::to_string(i) + "]", "a table");
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& element = *array->get(i);
      Section section{element.as_table(), "registry[" + std::to_string(i) + "]",
                      line_of(element.source())};
      RegistrySource source = read_registry(section);
      for (std::size_t j = 0; j < out.size(); ++j) {
        if (out[j].region == source.region)
          fail(*find(section, "region"), key_path(section, "region"),
               "duplicate region " + in_quotes(source.region) + " (also in registry[" +
                   std::to_string(j) + "])");
      }
      out.push_back(std::move(source));
    }
  }

  RegistrySource read_registry(const Section& section) const {
    check_keys(section, {"region", "source", "file", "file_check_interval", "nodes", "envs",
                         "reconcile_interval", "state_file", "removal_delay", "max_removal_share",
                         "mass_removal_hold", "miss_fetches_per_second"});
    RegistrySource source;
    source.region = require_string(section, "region");
    if (auto error = check_region(source.region))
      fail(*find(section, "region"), key_path(section, "region"), *error);
    const std::string kind = require_string(section, "source");
    if (kind == "file") {
      source.kind = SourceKind::kFile;
    } else if (kind == "discovery") {
      source.kind = SourceKind::kDiscovery;
    } else {
      fail(*find(section, "source"), key_path(section, "source"),
           "must be \"file\" or \"discovery\", got " + in_quotes(kind));
    }
    // Keys of the other kind would be silently ignored: refuse them so a half-edited source
    // does not run with settings the operator believes are in force.
    const bool is_file = source.kind == SourceKind::kFile;
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
      if (const toml::node* node = find(section, key))
        fail(*node, key_path(section, key),
             std::string("only allowed with source = ") + (is_file ? "\"discovery\"" : "\"file\"") +
                 " (this registry has source = " + in_quotes(kind) + ")");
    }
    if (is_file) {
      source.file = resolve(require_string(section, "file"));
      if (auto ms = get_duration(section, "file_check_interval", 100, kHourMs))
        source.file_check_interval = Millis(*ms);
      return source;
    }
    const std::string nodes_path = key_path(section, "nodes");
    auto nodes = get_strings(section, "nodes");
    if (!nodes)
      fail(section.line, nodes_path, "missing required key (discovery \"host:port\" list)");
    if (nodes->empty())
      fail(*find(section, "nodes"), nodes_path, "must list at least one \"host:port\"");
    for (std::size_t i = 0; i < nodes->size(); ++i) {
      const auto& [text, node] = (*nodes)[i];
      if (auto error = check_node(text))
        fail(*node, nodes_path + "[" + std::to_string(i) + "]", *error);
      source.nodes.push_back(text);
    }
    if (auto envs = get_strings(section, "envs")) {
      for (std::size_t i = 0; i < envs->size(); ++i) {
        const auto& [text, node] = (*envs)[i];
        const std::string path = key_path(section, "envs") + "[" + std::to_string(i) + "]";
        if (std::find(source.envs.begin(), source.envs.end(), text) != source.envs.end())
          fail(*node, path, "duplicate env " + in_quotes(text));
        source.envs.push_back(text);
      }
    }
    if (auto v = get_seconds(section, "reconcile_interval", kMsPerSecond, kHourMs))
      source.reconcile_interval = *v;
    if (auto state = get_string(section, "state_file")) source.state_file = resolve(*state);
    read_removal_guard(section, source);
    if (auto v = get_int(section, "miss_fetches_per_second", 0, 1000))
      source.miss_fetches_per_second = static_cast<unsigned>(*v);
    return source;
  }

  void read_removal_guard(const Section& section, RegistrySource& source) const {
    source.removal_delay = get_seconds(section, "removal_delay", 0, kHourMs);
    if (const toml::node* node = find(section, "max_removal_share")) {
      auto value = node->value<double>();  // integers too (1 = no share rule)
      if (!value) wrong_type(*node, key_path(section, "max_removal_share"), "a number");
      if (!(*value > 0 && *value <= 1))
        fail(*node, key_path(section, "max_removal_share"),
             "must be more than 0 and at most 1, got " + std::to_string(*value));
      source.max_removal_share = *value;
    }
    constexpr std::int64_t kDayMs = 24 * kHourMs;
    if (auto v = get_seconds(section, "mass_removal_hold", 0, kDayMs))
      source.mass_removal_hold = *v;
    // A hold shorter than the delay would never hold anything back.
    if (source.removal_delay && source.mass_removal_hold < *source.removal_delay) {
      const char* key = find(section, "mass_removal_hold") ? "mass_removal_hold" : "removal_delay";
      fail(*find(section, key), key_path(section, key),
           "mass_removal_hold must not be shorter than removal_delay");
    }
  }

  void read_rrl(const Section& section, ServerConfig& server) const {
    check_keys(section, {"responses_per_second", "slip", "ipv4_prefix", "ipv6_prefix"});
    if (auto v = get_int(section, "responses_per_second", 0, 1000000))
      server.rrl_responses_per_second = static_cast<unsigned>(*v);
    if (auto v = get_int(section, "slip", 0, 10)) server.rrl_slip = static_cast<unsigned>(*v);
    if (auto v = get_int(section, "ipv4_prefix", 8, 32))
      server.rrl_ipv4_prefix = static_cast<unsigned>(*v);
    if (auto v = get_int(section, "ipv6_prefix", 16, 128))
      server.rrl_ipv6_prefix = static_cast<unsigned>(*v);
  }

  void read_admin(const Section& section, AdminConfig& admin) const {
    check_keys(section, {"listen"});
    auto listen = get_string(section, "listen");
    if (!listen) return;
    ListenAddress address;
    if (auto error = parse_listen(*listen, address))
      fail(*find(section, "listen"), key_path(section, "listen"), *error);
    admin.listen = address;
  }

  void read_log(const Section& section, LogConfig& log) const {
    check_keys(section, {"level", "query_sample"});
    if (auto v = get_int(section, "query_sample", 0, 1'000'000'000))
      log.query_sample = static_cast<unsigned>(*v);
    auto level = get_string(section, "level");
    if (!level) return;
    constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
    if (std::find(std::begin(kLevels), std::end(kLevels), *level) == std::end(kLevels))
      fail(*find(section, "level"), key_path(section, "level"),
           "must be one of trace, debug, info, warn, error, off; got " + in_quotes(*level));
    log.level = *level;
  }

  std::string name_;
  std::filesystem::path base_dir_;
};

}  // namespace

Config load_string(std::string_view text, const std::string& name,
                   const std::filesystem::path& base_dir) {
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(name));
  } catch (const toml::parse_error& error) {
    const auto& begin = error.source().begin;
    throw ConfigError(name + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column) +
                      ": " + std::string(error.description()));
  }
  return Loader(name, base_dir).load(root);
}

Config load_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path.string() + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path.string() + ": cannot read: " + std::strerror(errno));
  // Absolute, so the daemon may change directory without losing its files.
  std::filesystem::path base_dir = std::filesystem::absolute(path).lexically_normal().parent_path();
  return load_string(text.str(), path.string(), base_dir);
}

}  // namespace discodns::config
