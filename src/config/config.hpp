// Plain configuration structs. Loaded from TOML by config::load_file, which refuses unknown
// keys, wrong types and impossible values with "file:line: key: reason".
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace discodns::config {

inline constexpr std::size_t kMaxTxtLength = 255;   // one TXT character-string
inline constexpr std::size_t kMaxNsidLength = 128;  // ours; RFC 5001 sets no limit

struct ListenAddress {
  std::string host;         // IPv4 or IPv6 literal, no brackets
  std::uint16_t port = 53;  // 0 = pick a free port (tests)
  bool operator==(const ListenAddress&) const = default;
};

struct ServerConfig {
  std::vector<ListenAddress> listen;      // default: 0.0.0.0:53 and [::]:53
  unsigned workers = 0;                   // 0 = one per core
  std::uint16_t udp_payload_size = 1232;  // our EDNS payload size (RFC 6891), 512..4096
  std::chrono::milliseconds tcp_idle_timeout{10'000};
  unsigned tcp_max_connections = 1024;
  unsigned max_address_records = 0;  // cap on A/AAAA records per answer; 0 = no cap
  // On SIGTERM: /readyz turns 503 at once and queries are answered this long, so load
  // balancers and anycast withdrawal see us leave before answers stop (lame duck).
  std::chrono::milliseconds shutdown_grace{0};
  // Which replica answered, for operators of several behind anycast; each off while empty
  // (as in Knot and NSD): CH TXT id.server. and hostname.bind. (RFC 4892), CH TXT
  // version.bind., and the EDNS NSID option (RFC 5001).
  std::string identity;  // at most kMaxTxtLength bytes
  std::string version;   // at most kMaxTxtLength bytes
  std::string nsid;      // at most kMaxNsidLength bytes
  // [rrl] response rate limiting (UDP only): identical answers per second per client prefix.
  unsigned rrl_responses_per_second = 0;  // 0 = off
  unsigned rrl_slip = 2;
  unsigned rrl_ipv4_prefix = 24;
  unsigned rrl_ipv6_prefix = 56;
  bool operator==(const ServerConfig&) const = default;
};

struct ZoneConfig {
  std::string domain;          // served domain, e.g. "example.com." (always ends with '.')
  std::filesystem::path file;  // master file with SOA and NS at the apex
  // Where the serial's reservation is kept (never backwards across restarts); "" = beside the
  // first discovery source's state_file, or nowhere (serials then follow the clock).
  std::filesystem::path serial_file;
  bool operator==(const ZoneConfig&) const = default;
};

struct TtlConfig {
  std::chrono::seconds renew_interval{30};
  std::chrono::seconds min{1};
  std::chrono::seconds max{30};
  std::chrono::seconds late_grace{5};
  std::chrono::seconds stale_ttl{5};
  std::chrono::seconds max_stale{3600};
  // NXDOMAIN/NODATA below a registry region: short, because an app that registers a moment
  // later (and is fetched on that very miss) must not stay hidden behind a cached NXDOMAIN.
  std::chrono::seconds negative{5};
  bool operator==(const TtlConfig&) const = default;
};

enum class SourceKind { kFile, kDiscovery };

struct RegistrySource {
  std::string region;  // the DNS label this source is served under
  SourceKind kind = SourceKind::kFile;
  std::filesystem::path file;  // kFile: registry snapshot in the fetch/all shape
  std::chrono::milliseconds file_check_interval{1000};
  std::vector<std::string> nodes;  // kDiscovery: "host:port" seeds
  std::vector<std::string> envs;   // kDiscovery: envs to follow (empty = all seen)
  std::chrono::seconds reconcile_interval{15};
  std::filesystem::path state_file;  // kDiscovery: last good data, for a warm start; "" = none
  // Removal guard (README "Removal guard"): what a full answer no longer lists is removed
  // only once absent this long (unset: ttl.renew_interval + ttl.late_grace, one renew round
  // in which a restarted registry refills); and when that would remove more than
  // max_removal_share of the instances at once, only after mass_removal_hold.
  std::optional<std::chrono::seconds> removal_delay;
  double max_removal_share = 0.5;
  std::chrono::seconds mass_removal_hold{300};
  // On-miss fetch: at most this many /discovery/fetchs per second for names queried but not
  // known (0 = off).
  unsigned miss_fetches_per_second = 10;
  bool operator==(const RegistrySource&) const = default;
};

struct AdminConfig {
  std::optional<ListenAddress> listen;  // HTTP /metrics, /healthz, /readyz; off when unset
  bool operator==(const AdminConfig&) const = default;
};

// [transfer]: discodns as a hidden primary (AXFR, IXFR, NOTIFY; README "Hidden primary").
struct TsigKeyConfig {
  std::string name;  // key name, with a trailing dot
  std::string algorithm = "hmac-sha256";
  std::string secret;  // base64
  bool operator==(const TsigKeyConfig&) const = default;
};

struct TransferConfig {
  std::vector<std::string> allow;   // source prefixes that may transfer; empty = transfers off
  std::vector<std::string> notify;  // "ip:port" of secondaries told of every new serial
  // TTL of transferred synthesized records (secondaries cannot follow renew times); unset:
  // ttl.max.
  std::optional<std::chrono::seconds> ttl;
  unsigned journal_changes = 100;             // IXFR: serials kept
  std::uint64_t journal_bytes = 16ull << 20;  // IXFR: bytes of differences kept
  std::optional<TsigKeyConfig> tsig;          // then transfers need it and NOTIFYs carry it
  bool operator==(const TransferConfig&) const = default;
};

struct LogConfig {
  std::string level = "info";
  unsigned query_sample = 0;  // log one query in N; 0 = no query log
  bool operator==(const LogConfig&) const = default;
};

struct Config {
  std::filesystem::path source_file;  // the file this was read from
  ServerConfig server;
  ZoneConfig zone;
  TtlConfig ttl;
  std::vector<RegistrySource> registries;
  AdminConfig admin;
  TransferConfig transfer;
  LogConfig log;
  bool operator==(const Config&) const = default;
};

// Thrown by load_file with a message of the form "FILE:LINE: KEY: REASON".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads and validates a config file. Relative paths inside it are resolved against the
// directory of the config file.
Config load_file(const std::filesystem::path& path);

// Same, from text (for tests); `name` is used in error messages and `base_dir` resolves paths.
Config load_string(std::string_view text, const std::string& name,
                   const std::filesystem::path& base_dir);

}  // namespace discodns::config
