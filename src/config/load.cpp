// TOML → Config: the walk over the file, table by table ([[registry]] in load_registry.cpp;
// single values are parsed by parse.cpp, typed reads are toml_reader.cpp). Every refusal names
// the file, the line, the dotted key and the reason:
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
//   serial_file = "/var/lib/discodns/serial"  # where the serial's reservation is kept; default
//                                # beside the first discovery state_file, else none
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
//   [transfer]                   # hidden primary (README "Hidden primary"); off by default
//   allow = ["127.0.0.1"]        # prefixes that may AXFR/IXFR; empty = transfers off
//   notify = ["127.0.0.1:5301"]  # secondaries NOTIFYed on each new serial; "ip:port"
//   ttl = "30s"                  # TTL of transferred synthesized records; default ttl.max
//   journal_changes = 100        # IXFR journal: serials kept, 0..100000 (0 = AXFR only)
//   journal_bytes = 16777216     # IXFR journal: bytes kept
//   [transfer.tsig]              # optional; transfers then need this key, NOTIFYs carry it
//   name = "xfr-key"             # required; a DNS name
//   algorithm = "hmac-sha256"    # hmac-sha256, hmac-sha512, hmac-sha1
//   secret = "base64"            # required
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

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <utility>

#include "config/load_registry.hpp"
#include "config/load_transfer.hpp"
#include "config/parse.hpp"
#include "config/toml_reader.hpp"

namespace discodns::config {
namespace {

using Millis = std::chrono::milliseconds;

void read_listen(const TomlReader& in, const Section& section, ServerConfig& server) {
  const std::string listen_path = TomlReader::key_path(section, "listen");
  auto entries = in.get_strings(section, "listen");
  if (!entries) {
    server.listen = {{"0.0.0.0", 53}, {"::", 53}};
    return;
  }
  if (entries->empty())
    in.fail(*TomlReader::find(section, "listen"), listen_path, "must list at least one address");
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const auto& [text, node] = (*entries)[i];
    const std::string path = listen_path + "[" + std::to_string(i) + "]";
    ListenAddress address;
    if (auto error = parse_listen(text, address)) in.fail(*node, path, *error);
    for (std::size_t j = 0; j < server.listen.size(); ++j) {
      if (server.listen[j].host == address.host && server.listen[j].port == address.port)
        in.fail(*node, path, "same address as " + listen_path + "[" + std::to_string(j) + "]");
    }
    server.listen.push_back(address);
  }
}

void read_server(const TomlReader& in, const Section& section, ServerConfig& server) {
  in.check_keys(section,
                {"listen", "workers", "udp_payload_size", "tcp_idle_timeout", "tcp_max_connections",
                 "max_address_records", "shutdown_grace", "identity", "version", "nsid"});
  read_listen(in, section, server);
  if (auto v = in.get_int(section, "workers", 0, 256)) server.workers = static_cast<unsigned>(*v);
  if (auto v = in.get_int(section, "udp_payload_size", 512, 4096))
    server.udp_payload_size = static_cast<std::uint16_t>(*v);
  if (auto ms = in.get_duration(section, "tcp_idle_timeout", 1, kHourMs))
    server.tcp_idle_timeout = Millis(*ms);
  if (auto v = in.get_int(section, "tcp_max_connections", 1, 1'000'000))
    server.tcp_max_connections = static_cast<unsigned>(*v);
  // More A/AAAA records than this never fit in a 64 KiB message anyway.
  if (auto v = in.get_int(section, "max_address_records", 0, 65535))
    server.max_address_records = static_cast<unsigned>(*v);
  if (auto ms = in.get_duration(section, "shutdown_grace", 0, 5 * 60'000))
    server.shutdown_grace = Millis(*ms);
  // A TXT character-string holds 255 octets; NSID is ours to cap, and must fit beside an
  // answer in 512 bytes.
  if (auto v = in.get_bounded_string(section, "identity", kMaxTxtLength)) server.identity = *v;
  if (auto v = in.get_bounded_string(section, "version", kMaxTxtLength)) server.version = *v;
  if (auto v = in.get_bounded_string(section, "nsid", kMaxNsidLength)) server.nsid = *v;
}

void read_zone(const TomlReader& in, const Section& top, ZoneConfig& zone) {
  Section section = in.sub_table(top, "zone");
  if (section.table == nullptr)
    in.fail(1, "zone", "missing required table [zone] (with domain and file)");
  in.check_keys(section, {"domain", "file", "serial_file"});
  std::string domain = in.require_string(section, "domain");
  if (auto error = normalize_domain(domain, zone.domain))
    in.fail(*TomlReader::find(section, "domain"), TomlReader::key_path(section, "domain"), *error);
  zone.file = in.resolve(in.require_string(section, "file"));
  if (auto serial_file = in.get_string(section, "serial_file"))
    zone.serial_file = in.resolve(*serial_file);
}

void read_ttl(const TomlReader& in, const Section& section, TtlConfig& ttl) {
  in.check_keys(section, {"renew_interval", "min", "max", "late_grace", "stale_ttl", "max_stale",
                          "negative"});
  if (auto v = in.get_seconds(section, "renew_interval", kMsPerSecond, kMaxTtlMs))
    ttl.renew_interval = *v;
  if (auto v = in.get_seconds(section, "min", 0, kMaxTtlMs)) ttl.min = *v;
  if (auto v = in.get_seconds(section, "max", 0, kMaxTtlMs)) ttl.max = *v;
  if (ttl.min > ttl.max) {
    // Blame the key the user wrote; both may be set, then min is the one to look at.
    const std::string range = format_duration(ttl.min.count() * kMsPerSecond) + " > " +
                              format_duration(ttl.max.count() * kMsPerSecond);
    if (const toml::node* node = TomlReader::find(section, "min"))
      in.fail(*node, TomlReader::key_path(section, "min"),
              "must not exceed ttl.max (" + range + ")");
    in.fail(*TomlReader::find(section, "max"), TomlReader::key_path(section, "max"),
            "must not be less than ttl.min (" + range + ")");
  }
  if (auto v = in.get_seconds(section, "late_grace", 0, kMaxTtlMs)) ttl.late_grace = *v;
  if (auto v = in.get_seconds(section, "stale_ttl", 0, kMaxTtlMs)) ttl.stale_ttl = *v;
  if (auto v = in.get_seconds(section, "max_stale", 0, kMaxTtlMs)) ttl.max_stale = *v;
  if (auto v = in.get_seconds(section, "negative", 0, kMaxTtlMs)) ttl.negative = *v;
}

void read_rrl(const TomlReader& in, const Section& section, ServerConfig& server) {
  in.check_keys(section, {"responses_per_second", "slip", "ipv4_prefix", "ipv6_prefix"});
  if (auto v = in.get_int(section, "responses_per_second", 0, 1000000))
    server.rrl_responses_per_second = static_cast<unsigned>(*v);
  if (auto v = in.get_int(section, "slip", 0, 10)) server.rrl_slip = static_cast<unsigned>(*v);
  if (auto v = in.get_int(section, "ipv4_prefix", 8, 32))
    server.rrl_ipv4_prefix = static_cast<unsigned>(*v);
  if (auto v = in.get_int(section, "ipv6_prefix", 16, 128))
    server.rrl_ipv6_prefix = static_cast<unsigned>(*v);
}

void read_admin(const TomlReader& in, const Section& section, AdminConfig& admin) {
  in.check_keys(section, {"listen"});
  auto listen = in.get_string(section, "listen");
  if (!listen) return;
  ListenAddress address;
  if (auto error = parse_listen(*listen, address))
    in.fail(*TomlReader::find(section, "listen"), TomlReader::key_path(section, "listen"), *error);
  admin.listen = address;
}

void read_log(const TomlReader& in, const Section& section, LogConfig& log) {
  in.check_keys(section, {"level", "query_sample"});
  if (auto v = in.get_int(section, "query_sample", 0, 1'000'000'000))
    log.query_sample = static_cast<unsigned>(*v);
  auto level = in.get_string(section, "level");
  if (!level) return;
  constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), *level) == std::end(kLevels))
    in.fail(*TomlReader::find(section, "level"), TomlReader::key_path(section, "level"),
            "must be one of trace, debug, info, warn, error, off; got " + in_quotes(*level));
  log.level = *level;
}

Config read_config(const TomlReader& in, const toml::table& root) {
  Section top{&root, "", 1};
  in.check_keys(top, {"server", "zone", "ttl", "registry", "log", "admin", "rrl", "transfer"});
  Config config;
  config.source_file = in.name();
  // Optional tables first: a bad value the user wrote is a better first message than a
  // required table they have not written yet.
  read_server(in, in.sub_table(top, "server"), config.server);
  read_ttl(in, in.sub_table(top, "ttl"), config.ttl);
  read_log(in, in.sub_table(top, "log"), config.log);
  read_admin(in, in.sub_table(top, "admin"), config.admin);
  read_rrl(in, in.sub_table(top, "rrl"), config.server);
  read_transfer(in, in.sub_table(top, "transfer"), config.transfer);
  read_zone(in, top, config.zone);
  read_registries(in, top, config.registries);
  return config;
}

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
  return read_config(TomlReader(name, base_dir), root);
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
