#include "config/config.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <string_view>

namespace discodns::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The smallest valid config; error tests put the faulty part in front of it so line numbers
// are easy to read off the test.
constexpr std::string_view kBase = R"(
[zone]
domain = "example.com"
file = "example.com.zone"

[[registry]]
region = "china"
source = "file"
file = "registry.json"
)";

Config load(std::string_view text) {
  return load_string(text, "test.toml", "/etc/discodns");
}

std::string error_of(std::string_view text) {
  try {
    load(text);
  } catch (const ConfigError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return "";
}

// Asserts "test.toml:LINE: KEY: ..." and that the reason mentions `fragment`.
void expect_error(std::string_view text, int line, std::string_view key,
                  std::string_view fragment) {
  SCOPED_TRACE(std::string(text));
  std::string message = error_of(text);
  std::string prefix = "test.toml:" + std::to_string(line) + ": " + std::string(key) + ": ";
  EXPECT_EQ(message.rfind(prefix, 0), 0u)
      << "message: " << message << "\nexpected prefix: " << prefix;
  EXPECT_NE(message.find(fragment), std::string::npos)
      << "message: " << message << "\nexpected to contain: " << fragment;
}

std::string with_base(std::string_view head) {
  return std::string(head) + std::string(kBase);
}

TEST(Config, FullExampleParses) {
  Config c = load(R"([server]
listen = ["127.0.0.1:5353", "[::1]:5353"]
workers = 4
udp_payload_size = 1400
tcp_idle_timeout = "2500ms"
tcp_max_connections = 10
max_address_records = 8
shutdown_grace = "2s"

[zone]
domain = "Example.COM."
file = "../zones/example.com.zone"

[ttl]
renew_interval = "1m"
min = "2s"
max = 60
late_grace = "7s"
stale_ttl = "3s"
max_stale = "2h"

[[registry]]
region = "china"
source = "file"
file = "demo-registry.json"
file_check_interval = "250ms"

[[registry]]
region = "us-east-1"
source = "discovery"
nodes = ["127.0.0.1:7171", "discovery.internal:7171", "[::1]:7171"]
envs = ["dev", "prod"]
reconcile_interval = "20s"

[log]
level = "debug"
query_sample = 100
)");
  EXPECT_EQ(c.source_file, "test.toml");
  ASSERT_EQ(c.server.listen.size(), 2u);
  EXPECT_EQ(c.server.listen[0].host, "127.0.0.1");
  EXPECT_EQ(c.server.listen[0].port, 5353);
  EXPECT_EQ(c.server.listen[1].host, "::1");
  EXPECT_EQ(c.server.listen[1].port, 5353);
  EXPECT_EQ(c.server.workers, 4u);
  EXPECT_EQ(c.server.udp_payload_size, 1400);
  EXPECT_EQ(c.server.tcp_idle_timeout, milliseconds(2500));
  EXPECT_EQ(c.server.tcp_max_connections, 10u);
  EXPECT_EQ(c.server.max_address_records, 8u);
  EXPECT_EQ(c.server.shutdown_grace, milliseconds(2000));
  EXPECT_EQ(c.zone.domain, "example.com.");
  EXPECT_EQ(c.zone.file, std::filesystem::path("/etc/zones/example.com.zone"));
  EXPECT_EQ(c.ttl.renew_interval, seconds(60));
  EXPECT_EQ(c.ttl.min, seconds(2));
  EXPECT_EQ(c.ttl.max, seconds(60));
  EXPECT_EQ(c.ttl.late_grace, seconds(7));
  EXPECT_EQ(c.ttl.stale_ttl, seconds(3));
  EXPECT_EQ(c.ttl.max_stale, seconds(7200));
  ASSERT_EQ(c.registries.size(), 2u);
  EXPECT_EQ(c.registries[0].region, "china");
  EXPECT_EQ(c.registries[0].kind, SourceKind::kFile);
  EXPECT_EQ(c.registries[0].file, std::filesystem::path("/etc/discodns/demo-registry.json"));
  EXPECT_EQ(c.registries[0].file_check_interval, milliseconds(250));
  EXPECT_EQ(c.registries[1].region, "us-east-1");
  EXPECT_EQ(c.registries[1].kind, SourceKind::kDiscovery);
  EXPECT_EQ(c.registries[1].nodes,
            (std::vector<std::string>{"127.0.0.1:7171", "discovery.internal:7171", "[::1]:7171"}));
  EXPECT_EQ(c.registries[1].envs, (std::vector<std::string>{"dev", "prod"}));
  EXPECT_EQ(c.registries[1].reconcile_interval, seconds(20));
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.query_sample, 100u);
}

TEST(Config, DefaultsWhenTablesAreLeftOut) {
  Config c = load(kBase);
  ASSERT_EQ(c.server.listen.size(), 2u);
  EXPECT_EQ(c.server.listen[0].host, "0.0.0.0");
  EXPECT_EQ(c.server.listen[0].port, 53);
  EXPECT_EQ(c.server.listen[1].host, "::");
  EXPECT_EQ(c.server.listen[1].port, 53);
  EXPECT_EQ(c.server.workers, 0u);
  EXPECT_EQ(c.server.udp_payload_size, 1232);
  EXPECT_EQ(c.server.tcp_idle_timeout, milliseconds(10'000));
  EXPECT_EQ(c.server.tcp_max_connections, 1024u);
  EXPECT_EQ(c.server.max_address_records, 0u);
  EXPECT_EQ(c.server.shutdown_grace, milliseconds(0));
  EXPECT_EQ(c.zone.domain, "example.com.");
  EXPECT_EQ(c.zone.file, std::filesystem::path("/etc/discodns/example.com.zone"));
  EXPECT_EQ(c.ttl.renew_interval, seconds(30));
  EXPECT_EQ(c.ttl.min, seconds(1));
  EXPECT_EQ(c.ttl.max, seconds(30));
  EXPECT_EQ(c.ttl.late_grace, seconds(5));
  EXPECT_EQ(c.ttl.stale_ttl, seconds(5));
  EXPECT_EQ(c.ttl.max_stale, seconds(3600));
  ASSERT_EQ(c.registries.size(), 1u);
  EXPECT_EQ(c.registries[0].file_check_interval, milliseconds(1000));
  EXPECT_EQ(c.log.level, "info");
}

TEST(Config, ListenDefaultsWhenServerHasNoListen) {
  Config c = load(with_base("[server]\nworkers = 2\n"));
  ASSERT_EQ(c.server.listen.size(), 2u);
  EXPECT_EQ(c.server.listen[0].host, "0.0.0.0");
  EXPECT_EQ(c.server.listen[1].host, "::");
}

TEST(Config, DiscoveryDefaults) {
  Config c = load(R"([zone]
domain = "example.com"
file = "z"
[[registry]]
region = "china"
source = "discovery"
nodes = ["10.0.0.1:7171"]
)");
  ASSERT_EQ(c.registries.size(), 1u);
  EXPECT_TRUE(c.registries[0].envs.empty());
  EXPECT_EQ(c.registries[0].reconcile_interval, seconds(15));
}

TEST(Config, PortZeroAndAbsolutePaths) {
  Config c = load(R"([server]
listen = ["127.0.0.1:0"]
[zone]
domain = "example.com"
file = "/var/lib/zones/example.com.zone"
[[registry]]
region = "china"
source = "file"
file = "/srv/registry.json"
)");
  EXPECT_EQ(c.server.listen[0].port, 0);
  EXPECT_EQ(c.zone.file, std::filesystem::path("/var/lib/zones/example.com.zone"));
  EXPECT_EQ(c.registries[0].file, std::filesystem::path("/srv/registry.json"));
}

TEST(Config, DurationsAcceptEveryUnitAndIntegers) {
  Config c = load(with_base(R"([ttl]
renew_interval = 45
max = "1m"
max_stale = "3h"
late_grace = "0s"
[server]
tcp_idle_timeout = "100ms"
)"));
  EXPECT_EQ(c.ttl.renew_interval, seconds(45));
  EXPECT_EQ(c.ttl.max, seconds(60));
  EXPECT_EQ(c.ttl.max_stale, seconds(3 * 3600));
  EXPECT_EQ(c.ttl.late_grace, seconds(0));
  EXPECT_EQ(c.server.tcp_idle_timeout, milliseconds(100));
}

TEST(ConfigError, UnknownKey) {
  expect_error(with_base("[server]\nworkers = 1\nlisten_on = [\"127.0.0.1:53\"]\n"), 3,
               "server.listen_on", "unknown key (did you mean \"listen\"?)");
  expect_error(with_base("[server]\nbanana = 1\n"), 2, "server.banana",
               "unknown key (expected one of: listen, workers");
  expect_error("[zone]\ndomain = \"example.com\"\nfile = \"z\"\nowner = \"me\"\n", 4, "zone.owner",
               "unknown key");
  // Unknown keys are reported before missing ones: the typo is the real problem.
  expect_error("[zone]\ndomian = \"example.com\"\nfile = \"z\"\n", 2, "zone.domian",
               "did you mean \"domain\"?");
  expect_error(std::string(kBase) + "colour = \"red\"\n", 10, "registry[0].colour", "unknown key");
  expect_error("[log]\nlevel = \"info\"\nformat = \"json\"\n" + std::string(kBase), 3, "log.format",
               "unknown key");
  // The earliest unknown key in the file is reported, not the first in alphabetical order.
  expect_error(with_base("[server]\nzzz = 1\naaa = 2\n"), 2, "server.zzz", "unknown key");
}

TEST(ConfigError, UnknownTable) {
  expect_error(with_base("[srever]\nworkers = 1\n"), 1, "srever",
               "unknown table (did you mean \"server\"?)");
  expect_error(
      with_base("[metrics]\nport = 9090\n"), 1, "metrics",
      "unknown table (expected one of: server, zone, ttl, registry, log, admin, rrl, transfer)");
  expect_error(with_base("[server.tls]\ncert = \"x\"\n"), 1, "server.tls", "unknown key");
  expect_error("domain = \"example.com\"\n" + std::string(kBase), 1, "domain",
               "unknown top-level key; keys belong in a table");
}

TEST(ConfigError, WrongType) {
  expect_error(with_base("[server]\nworkers = \"4\"\n"), 2, "server.workers",
               "expected an integer, got string");
  expect_error(with_base("[server]\nudp_payload_size = 1232.0\n"), 2, "server.udp_payload_size",
               "expected an integer, got floating-point number");
  expect_error(with_base("[server]\nlisten = \"127.0.0.1:53\"\n"), 2, "server.listen",
               "expected an array of strings, got string");
  expect_error(with_base("[server]\nlisten = [\"127.0.0.1:53\", 53]\n"), 2, "server.listen[1]",
               "expected a string, got integer");
  expect_error(with_base("[log]\nlevel = true\n"), 2, "log.level",
               "expected a string, got boolean");
  expect_error(with_base("server = 5\n"), 1, "server", "expected a table, got integer");
  expect_error("[zone]\ndomain = \"example.com\"\nfile = \"z\"\n[registry]\nregion = \"x\"\n", 4,
               "registry", "expected an array of tables ([[registry]]), got table");
  expect_error(with_base("[ttl]\nmax = 1.5\n"), 2, "ttl.max",
               "expected a duration such as \"30s\" or an integer number of seconds, got "
               "floating-point number");
}

TEST(ConfigError, BadDuration) {
  // A bad value is reported before the missing [zone]: it is what the user just wrote.
  expect_error("[ttl]\nmin = \"10sec\"\n", 2, "ttl.min", "bad duration \"10sec\"");
  expect_error(with_base("[ttl]\nmin = \"1sec\"\n"), 2, "ttl.min",
               "bad duration \"1sec\": expected <integer><unit> with unit ms, s, m or h");
  expect_error(with_base("[ttl]\nmin = \"s\"\n"), 2, "ttl.min", "bad duration \"s\"");
  expect_error(with_base("[ttl]\nmin = \"-1s\"\n"), 2, "ttl.min", "bad duration \"-1s\"");
  expect_error(with_base("[ttl]\nmin = \"1 s\"\n"), 2, "ttl.min", "bad duration");
  expect_error(with_base("[ttl]\nmin = -3\n"), 2, "ttl.min", "must not be negative, got -3");
  expect_error(with_base("[ttl]\nmax_stale = \"99999999999999999999h\"\n"), 2, "ttl.max_stale",
               "is too large");
  expect_error(with_base("[ttl]\nmax = \"1500ms\"\n"), 2, "ttl.max",
               "must be a whole number of seconds, got 1500ms");
  expect_error(with_base("[ttl]\nrenew_interval = \"0s\"\n"), 2, "ttl.renew_interval",
               "must be between 1s and 2147483647s, got 0s");
  expect_error(with_base("[ttl]\nmax = \"1000000h\"\n"), 2, "ttl.max",
               "must be between 0s and 2147483647s, got 1000000h");
  expect_error(with_base("[server]\ntcp_idle_timeout = \"2h\"\n"), 2, "server.tcp_idle_timeout",
               "must be between 1ms and 1h, got 2h");
  expect_error(std::string(kBase) + "file_check_interval = \"10ms\"\n", 10,
               "registry[0].file_check_interval", "must be between 100ms and 1h, got 10ms");
}

TEST(ConfigError, BadListen) {
  auto listen = [](std::string_view entry) {
    return with_base("[server]\nlisten = [\n  \"127.0.0.1:53\",\n  \"" + std::string(entry) +
                     "\",\n]\n");
  };
  expect_error(listen("127.0.0.1"), 4, "server.listen[1]", "missing port");
  expect_error(listen("[::1]"), 4, "server.listen[1]", "missing port");
  expect_error(listen("[::1]53"), 4, "server.listen[1]", "expected \":port\" after \"]\"");
  expect_error(listen("[::1:53"), 4, "server.listen[1]", "missing \"]\"");
  expect_error(listen("::1:53"), 4, "server.listen[1]", "IPv6 address must be in brackets");
  expect_error(listen("127.0.0.1:65536"), 4, "server.listen[1]", "port must be 0..65535");
  expect_error(listen("127.0.0.1:http"), 4, "server.listen[1]", "port must be a number");
  expect_error(listen("127.0.0.1:"), 4, "server.listen[1]", "missing port");
  expect_error(listen(":53"), 4, "server.listen[1]", "missing host");
  expect_error(listen("300.1.1.1:53"), 4, "server.listen[1]", "bad IPv4 address \"300.1.1.1\"");
  expect_error(listen("localhost:53"), 4, "server.listen[1]", "not host names");
  expect_error(listen("[fe80::zz]:53"), 4, "server.listen[1]", "bad IPv6 address \"fe80::zz\"");
  expect_error(listen(""), 4, "server.listen[1]", "must not be empty");
  expect_error(listen("127.0.0.1:53"), 4, "server.listen[1]", "same address as server.listen[0]");
  expect_error(with_base("[server]\nlisten = []\n"), 2, "server.listen",
               "must list at least one address");
}

TEST(ConfigError, OutOfRangeIntegers) {
  expect_error(with_base("[server]\nudp_payload_size = 100\n"), 2, "server.udp_payload_size",
               "must be between 512 and 4096, got 100");
  expect_error(with_base("[server]\nudp_payload_size = 65535\n"), 2, "server.udp_payload_size",
               "must be between 512 and 4096, got 65535");
  expect_error(with_base("[server]\nworkers = 257\n"), 2, "server.workers",
               "must be between 0 and 256, got 257");
  expect_error(with_base("[server]\nworkers = -1\n"), 2, "server.workers",
               "must be between 0 and 256, got -1");
  expect_error(with_base("[server]\ntcp_max_connections = 0\n"), 2, "server.tcp_max_connections",
               "must be between 1 and 1000000");
}

TEST(ConfigError, TtlMinAboveMax) {
  expect_error(with_base("[ttl]\nmin = \"40s\"\nmax = \"30s\"\n"), 2, "ttl.min",
               "must not exceed ttl.max (40s > 30s)");
  // Only min written: the default max (30s) applies.
  expect_error(with_base("[ttl]\nmin = \"1m\"\n"), 2, "ttl.min", "must not exceed ttl.max");
  // Only max written, below the default min (1s): blame max.
  expect_error(with_base("[ttl]\nmax = 0\n"), 2, "ttl.max", "must not be less than ttl.min");
}

TEST(ConfigError, DuplicateRegion) {
  expect_error(std::string(kBase) + R"(
[[registry]]
region = "china"
source = "discovery"
nodes = ["127.0.0.1:7171"]
)",
               12, "registry[1].region", "duplicate region \"china\" (also in registry[0])");
}

TEST(ConfigError, BadRegion) {
  auto region = [](std::string_view name) {
    return "[[registry]]\nregion = \"" + std::string(name) +
           "\"\nsource = \"file\"\nfile = \"r.json\"\n[zone]\ndomain = \"example.com\"\nfile = "
           "\"z\"\n";
  };
  expect_error(region("China"), 2, "registry[0].region", "bad character \"C\"");
  expect_error(region("cn.north"), 2, "registry[0].region", "one DNS label");
  expect_error(region(std::string(64, 'a')), 2, "registry[0].region", "1..63");
  expect_error(region(""), 2, "registry[0].region", "must not be empty");
}

TEST(ConfigError, KeysOfTheOtherSourceKind) {
  expect_error(std::string(kBase) + "nodes = [\"127.0.0.1:7171\"]\n", 10, "registry[0].nodes",
               "only allowed with source = \"discovery\" (this registry has source = \"file\")");
  expect_error(std::string(kBase) + "reconcile_interval = \"15s\"\n", 10,
               "registry[0].reconcile_interval", "only allowed with source = \"discovery\"");
  expect_error(R"([zone]
domain = "example.com"
file = "z"
[[registry]]
region = "china"
source = "discovery"
nodes = ["127.0.0.1:7171"]
file = "registry.json"
)",
               8, "registry[0].file", "only allowed with source = \"file\"");
}

TEST(ConfigError, RegistryRequirements) {
  const std::string zone = "[zone]\ndomain = \"example.com\"\nfile = \"z\"\n";
  expect_error(zone, 1, "registry", "at least one [[registry]] table is required");
  expect_error("registry = []\n" + zone, 1, "registry", "at least one [[registry]]");
  expect_error(zone + "[[registry]]\nsource = \"file\"\nfile = \"r\"\n", 4, "registry[0].region",
               "missing required key");
  expect_error(zone + "[[registry]]\nregion = \"x\"\nfile = \"r\"\n", 4, "registry[0].source",
               "missing required key");
  expect_error(zone + "[[registry]]\nregion = \"x\"\nsource = \"etcd\"\n", 6, "registry[0].source",
               "must be \"file\" or \"discovery\", got \"etcd\"");
  expect_error(zone + "[[registry]]\nregion = \"x\"\nsource = \"file\"\n", 4, "registry[0].file",
               "missing required key");
  expect_error(zone + "[[registry]]\nregion = \"x\"\nsource = \"discovery\"\n", 4,
               "registry[0].nodes", "missing required key");
  expect_error(zone + "[[registry]]\nregion = \"x\"\nsource = \"discovery\"\nnodes = []\n", 7,
               "registry[0].nodes", "at least one");
  auto node = [&](std::string_view text) {
    return zone + "[[registry]]\nregion = \"x\"\nsource = \"discovery\"\nnodes = [\"" +
           std::string(text) + "\"]\n";
  };
  expect_error(node("http://127.0.0.1:7171"), 7, "registry[0].nodes[0]", "without a scheme");
  expect_error(node("127.0.0.1"), 7, "registry[0].nodes[0]", "missing port");
  expect_error(node("10.0.0.1:0"), 7, "registry[0].nodes[0]", "port must be 1..65535");
  expect_error(node("bad host:7171"), 7, "registry[0].nodes[0]", "bad host");
  expect_error(zone +
                   "[[registry]]\nregion = \"x\"\nsource = \"discovery\"\nnodes = [\"a:1\"]\n"
                   "envs = [\"dev\", \"dev\"]\n",
               8, "registry[0].envs[1]", "duplicate env \"dev\"");
}

TEST(ConfigError, MissingZone) {
  expect_error("[server]\nworkers = 1\n", 1, "zone", "missing required table [zone]");
  expect_error("\n\n[zone]\nfile = \"z\"\n", 3, "zone.domain", "missing required key");
  expect_error("[zone]\ndomain = \"example.com\"\n", 1, "zone.file", "missing required key");
  expect_error("[zone]\ndomain = \"example.com\"\nfile = \"\"\n", 3, "zone.file",
               "must not be empty");
}

TEST(ConfigError, BadDomain) {
  auto domain = [](std::string_view name) {
    return "[zone]\nfile = \"z\"\ndomain = \"" + std::string(name) + "\"\n";
  };
  expect_error(domain("."), 3, "zone.domain", "not the root");
  expect_error(domain("example..com"), 3, "zone.domain", "empty label");
  expect_error(domain(".example.com"), 3, "zone.domain", "empty label");
  expect_error(domain("exa mple.com"), 3, "zone.domain", "bad character \" \"");
  expect_error(domain(std::string(64, 'a') + ".com"), 3, "zone.domain",
               "label longer than 63 characters");
  std::string long_name;
  for (int i = 0; i < 5; ++i)
    long_name += std::string(60, 'a') + ".";
  expect_error(domain(long_name), 3, "zone.domain", "name too long");
  // 253 characters without the trailing dot is the longest allowed.
  std::string longest = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                        std::string(63, 'c') + "." + std::string(61, 'd');
  ASSERT_EQ(longest.size(), 253u);
  Config c =
      load(domain(longest) + "[[registry]]\nregion = \"r\"\nsource = \"file\"\nfile = \"f\"\n");
  EXPECT_EQ(c.zone.domain, longest + ".");
}

TEST(ConfigError, BadLogLevel) {
  expect_error(with_base("[log]\nlevel = \"verbose\"\n"), 2, "log.level",
               "must be one of trace, debug, info, warn, error, off; got \"verbose\"");
}

TEST(ConfigError, NegativeQuerySample) {
  expect_error(with_base("[log]\nquery_sample = -1\n"), 2, "log.query_sample", "");
}

TEST(ConfigError, TomlSyntaxErrorHasLineAndColumn) {
  std::string message = error_of("[server]\nworkers = 1\nlisten = [\"127.0.0.1:53\"\n\n[zone]\n");
  EXPECT_EQ(message.rfind("test.toml:", 0), 0u) << message;
  // toml++ reports the position where the array turned out to be unterminated.
  EXPECT_NE(message.find("test.toml:5:"), std::string::npos) << message;

  message = error_of("[server]\nworkers = 1\nworkers = 2\n");
  EXPECT_EQ(message.rfind("test.toml:3:", 0), 0u) << message;
  EXPECT_NE(message.find("workers"), std::string::npos) << message;

  message = error_of("[zone]\ndomain = example.com\n");
  EXPECT_EQ(message.rfind("test.toml:2:", 0), 0u) << message;
}

TEST(ConfigFile, MissingFileIsReported) {
  try {
    load_file("/nonexistent/discodns.toml");
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/discodns.toml"), std::string::npos);
  }
}

TEST(ConfigFile, ErrorsNameTheFile) {
  auto path = std::filesystem::temp_directory_path() / "discodns_config_test_bad.toml";
  {
    std::ofstream out(path);
    out << "[server]\nworkers = 999\n" << kBase;
  }
  try {
    load_file(path);
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()).rfind(path.string() + ":2: server.workers: ", 0), 0u)
        << error.what();
  }
  std::filesystem::remove(path);
}

TEST(ConfigFile, ShippedProductionConfigLoads) {
  const std::filesystem::path dir = std::filesystem::path(DISCODNS_SOURCE_DIR) / "configs";
  Config c = load_file(dir / "discodns.toml");
  ASSERT_EQ(c.server.listen.size(), 2u);
  EXPECT_EQ(c.server.listen[0].host, "0.0.0.0");
  EXPECT_EQ(c.server.listen[0].port, 53);
  EXPECT_EQ(c.server.listen[1].host, "::");
  EXPECT_EQ(c.server.listen[1].port, 53);
  EXPECT_EQ(c.zone.domain, "example.com.");
  EXPECT_EQ(c.zone.file.filename(), "example.com.zone");
  EXPECT_EQ(c.zone.file.parent_path().filename(), "zones");
  EXPECT_TRUE(c.zone.file.is_absolute());
  ASSERT_EQ(c.registries.size(), 1u);
  EXPECT_EQ(c.registries[0].region, "china");
  EXPECT_EQ(c.registries[0].kind, SourceKind::kDiscovery);
  EXPECT_EQ(c.registries[0].nodes, std::vector<std::string>{"127.0.0.1:7171"});
  EXPECT_EQ(c.registries[0].envs, (std::vector<std::string>{"dev", "prod"}));
}

TEST(ConfigFile, ShippedDemoConfigLoads) {
  const std::filesystem::path dir = std::filesystem::path(DISCODNS_SOURCE_DIR) / "configs";
  Config c = load_file(dir / "demo.toml");
  ASSERT_EQ(c.server.listen.size(), 2u);
  EXPECT_EQ(c.server.listen[0].host, "127.0.0.1");
  EXPECT_EQ(c.server.listen[0].port, 5353);
  EXPECT_EQ(c.server.listen[1].host, "::1");
  EXPECT_EQ(c.server.listen[1].port, 5353);
  EXPECT_EQ(c.zone.domain, "example.com.");
  EXPECT_EQ(c.zone.file.filename(), "example.com.zone");
  ASSERT_EQ(c.registries.size(), 1u);
  EXPECT_EQ(c.registries[0].region, "china");
  EXPECT_EQ(c.registries[0].kind, SourceKind::kFile);
  EXPECT_EQ(c.registries[0].file.filename(), "demo-registry.json");
  EXPECT_EQ(c.registries[0].file.parent_path().filename(), "configs");
}

}  // namespace
}  // namespace discodns::config

namespace discodns::config {
namespace {

TEST(ConfigAdmin, ListenIsOptionalAndChecked) {
  const char* base =
      "[zone]\ndomain = \"example.com\"\nfile = \"z\"\n"
      "[[registry]]\nregion = \"china\"\nsource = \"file\"\nfile = \"r.json\"\n";
  EXPECT_FALSE(load_string(base, "a.toml", "/").admin.listen);
  Config c =
      load_string(std::string(base) + "[admin]\nlisten = \"127.0.0.1:9153\"\n", "a.toml", "/");
  ASSERT_TRUE(c.admin.listen);
  EXPECT_EQ(c.admin.listen->port, 9153);
  try {
    load_string(std::string(base) + "[admin]\nlisten = \"nowhere\"\n", "a.toml", "/");
    FAIL() << "accepted a bad admin address";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("a.toml:9: admin.listen"), std::string::npos) << e.what();
  }
}

TEST(ConfigRegistry, StateFileOnlyForDiscovery) {
  const char* zone = "[zone]\ndomain = \"example.com\"\nfile = \"z\"\n";
  Config c = load_string(std::string(zone) +
                             "[[registry]]\nregion = \"china\"\nsource = \"discovery\"\n"
                             "nodes = [\"127.0.0.1:7171\"]\nstate_file = \"s.json\"\n",
                         "b.toml", "/etc/discodns");
  EXPECT_EQ(c.registries[0].state_file, "/etc/discodns/s.json");
  EXPECT_THROW(
      load_string(std::string(zone) + "[[registry]]\nregion = \"china\"\nsource = \"file\"\n"
                                      "file = \"r.json\"\nstate_file = \"s.json\"\n",
                  "b.toml", "/"),
      ConfigError);
}

}  // namespace
}  // namespace discodns::config

namespace discodns::config {
namespace {

TEST(ConfigRrl, OffByDefaultAndBounded) {
  const char* base =
      "[zone]\ndomain = \"example.com\"\nfile = \"z\"\n"
      "[[registry]]\nregion = \"china\"\nsource = \"file\"\nfile = \"r.json\"\n";
  EXPECT_EQ(load_string(base, "r.toml", "/").server.rrl_responses_per_second, 0u);
  Config c = load_string(std::string(base) + "[rrl]\nresponses_per_second = 20\nslip = 3\n",
                         "r.toml", "/");
  EXPECT_EQ(c.server.rrl_responses_per_second, 20u);
  EXPECT_EQ(c.server.rrl_slip, 3u);
  EXPECT_THROW(load_string(std::string(base) + "[rrl]\nipv4_prefix = 40\n", "r.toml", "/"),
               ConfigError);
}

}  // namespace
}  // namespace discodns::config

namespace discodns::config {
namespace {

// server.identity / version / nsid: off (empty) by default, bounded so that a TXT string and
// an NSID option always fit.
TEST(ConfigIdentity, OffByDefaultAndBounded) {
  Config defaults = load(kBase);
  EXPECT_EQ(defaults.server.identity, "");
  EXPECT_EQ(defaults.server.version, "");
  EXPECT_EQ(defaults.server.nsid, "");
  Config c =
      load(with_base("[server]\nidentity = \"dns-3.fra\"\nversion = \"discodns 0.1.0\"\n"
                     "nsid = \"fra-3\"\n"));
  EXPECT_EQ(c.server.identity, "dns-3.fra");
  EXPECT_EQ(c.server.version, "discodns 0.1.0");
  EXPECT_EQ(c.server.nsid, "fra-3");
  EXPECT_NE(c, defaults);  // a reload sees the change (and names [server])
  EXPECT_EQ(load(with_base("[server]\nidentity = \"" + std::string(255, 'x') + "\"\n"))
                .server.identity.size(),
            255u);
  expect_error(with_base("[server]\nidentity = \"" + std::string(256, 'x') + "\"\n"), 2,
               "server.identity", "must be at most 255 bytes, got 256");
  expect_error(with_base("[server]\n\nversion = \"" + std::string(300, 'v') + "\"\n"), 3,
               "server.version", "must be at most 255 bytes, got 300");
  expect_error(with_base("[server]\nnsid = \"" + std::string(129, 'n') + "\"\n"), 2, "server.nsid",
               "must be at most 128 bytes, got 129");
  expect_error(with_base("[server]\nidentity = true\n"), 2, "server.identity", "string");
}

TEST(ConfigTransfer, OffByDefault) {
  Config c = load(kBase);
  EXPECT_TRUE(c.transfer.allow.empty());
  EXPECT_TRUE(c.transfer.notify.empty());
  EXPECT_FALSE(c.transfer.ttl);
  EXPECT_FALSE(c.transfer.tsig);
  EXPECT_TRUE(c.zone.serial_file.empty());
}

TEST(ConfigTransfer, EveryKeyParses) {
  Config c = load(R"([zone]
domain = "example.com"
file = "example.com.zone"
serial_file = "serial"
[[registry]]
region = "china"
source = "file"
file = "registry.json"
[transfer]
allow = ["127.0.0.1", "10.0.0.0/8", "::1", "2001:db8::/32"]
notify = ["127.0.0.1:5301", "[::1]:5302"]
ttl = "60s"
journal_changes = 20
journal_bytes = 1000000
[transfer.tsig]
name = "Xfr-Key"
algorithm = "hmac-sha512"
secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="
)");
  EXPECT_EQ(c.transfer.allow.size(), 4u);
  EXPECT_EQ(c.transfer.notify.size(), 2u);
  EXPECT_EQ(c.transfer.ttl, seconds(60));
  EXPECT_EQ(c.transfer.journal_changes, 20u);
  EXPECT_EQ(c.transfer.journal_bytes, 1000000u);
  ASSERT_TRUE(c.transfer.tsig);
  EXPECT_EQ(c.transfer.tsig->name, "xfr-key.");
  EXPECT_EQ(c.transfer.tsig->algorithm, "hmac-sha512");
  EXPECT_EQ(c.zone.serial_file, "/etc/discodns/serial");
}

TEST(ConfigTransfer, BadValuesAreRefused) {
  expect_error(with_base("[transfer]\nallow = [\"10.1.0.0/8\"]\n"), 2, "transfer.allow[0]",
               "address or prefix");
  expect_error(with_base("[transfer]\nallow = [\"example.com\"]\n"), 2, "transfer.allow[0]",
               "address or prefix");
  expect_error(with_base("[transfer]\nnotify = [\"ns2.example.com:53\"]\n"), 2,
               "transfer.notify[0]", "");
  expect_error(with_base("[transfer]\nnotify = [\"127.0.0.1:0\"]\n"), 2, "transfer.notify[0]",
               "port must not be 0");
  expect_error(with_base("[transfer.tsig]\nname = \"k\"\nsecret = \"not base64!\"\n"), 3,
               "transfer.tsig.secret", "base64");
  expect_error(
      with_base("[transfer.tsig]\nname = \"k\"\nalgorithm = \"hmac-sha384\"\nsecret = \"AAAA\"\n"),
      3, "transfer.tsig.algorithm", "must be one of");
  expect_error(with_base("[transfer]\nnotfy = []\n"), 2, "transfer.notfy", "unknown key");
}

}  // namespace
}  // namespace discodns::config
