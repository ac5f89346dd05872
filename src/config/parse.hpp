// The config's value grammar: pure parsers and checks for one value each (durations,
// addresses, the domain, the region), returning the reason a value is refused. No TOML here:
// the loader (load.cpp) adds the file, line and key to the reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace discodns::config {

inline constexpr std::int64_t kMsPerSecond = 1000;
inline constexpr std::int64_t kMaxTtlSeconds = 2147483647;  // RFC 2181 §8: TTLs are 31-bit
inline constexpr std::int64_t kMaxTtlMs = kMaxTtlSeconds * kMsPerSecond;
inline constexpr std::int64_t kHourMs = 3600 * kMsPerSecond;

// A reason to refuse a value; nullopt when the value is good.
using Refusal = std::optional<std::string>;

// "\"" + s + "\"", for echoing a value in a reason.
std::string in_quotes(std::string_view s);

// "<integer><unit>" with unit ms, s, m or h ("500ms", "10s", "5m", "1h") into `ms`.
Refusal parse_duration(std::string_view text, std::int64_t& ms);

// "1h", "90s", "1500ms": the largest unit that divides the value, so messages echo the
// user's own spelling in most cases.
std::string format_duration(std::int64_t ms);

// "host:port" or "[v6]:port" into its parts; `bracketed` says which form it was, and a
// bracketed host has been checked to be an IPv6 literal. Port 0..65535.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  bool bracketed = false;
};
Refusal split_host_port(std::string_view text, HostPort& out);

// A listen address: an IP literal (IPv6 in brackets) and a port, 0 = any free port.
Refusal parse_listen(std::string_view text, ListenAddress& out);

// A discovery node: "host:port" where host may be a name or an IP literal; port 1..65535.
Refusal check_node(std::string_view text);

// The served domain: lower-cased with a trailing dot into `out`; not the root, at most 253
// characters, each label a key label (common/label_rules.hpp).
Refusal normalize_domain(std::string_view text, std::string& out);

// A region: one host label (common/label_rules.hpp), lower case as written.
Refusal check_region(std::string_view text);

}  // namespace discodns::config
