// discodns: wiring only. Flags -> Config -> Daemon; every start-up failure is one line on
// stderr and exit code 1.
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "common/log.hpp"
#include "config/config.hpp"
#include "daemon/daemon.hpp"
#include "daemon/fd_limit.hpp"
#include "daemon/signals.hpp"
#include "daemon/tools.hpp"
#include "server/socket_activation.hpp"

namespace {

using namespace discodns;

int run(const std::string& config_file, const std::string& log_level, bool dump) {
  // First, while this is the only thread: $LISTEN_* are read and unset here, and any other
  // thread's getenv would race with that.
  auto inherited = dump ? std::nullopt : server::take_inherited_sockets();
  config::Config config = config::load_file(config_file);
  std::string level = log_level.empty() ? config.log.level : log_level;
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    std::cerr << "discodns: unknown log level \"" << level << "\"\n";
    return 1;
  }
  spdlog::set_level(parsed);
  if (dump) {
    daemon::dump_zone(config, std::cout);
    return 0;
  }
  daemon::raise_fd_limit();  // before any thread: the limit is per process
  daemon::block_stop_signals();
  daemon::Daemon d(std::move(config));
  d.start(std::move(inherited));
  int signal = 0;
  while ((signal = daemon::wait_for_signal()) == SIGHUP)
    d.reload();
  if (auto grace = d.shutdown_grace(); grace.count() > 0) {
    // Lame duck: health checks see us leave while clients still get answers.
    d.begin_shutdown();
    spdlog::info("signal {}: /readyz says 503; answering for {} ms more", signal, grace.count());
    if (daemon::wait_for_stop_signal(grace)) spdlog::info("second stop signal: grace cut short");
  }
  spdlog::info("signal {}: stopping", signal);
  d.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"discodns: an authoritative DNS server for a bilibili/discovery registry"};
  std::string config_file;
  std::string check_file;
  std::string log_level;
  bool dump = false;
  auto* run_opt = app.add_option("--config", config_file, "run with this TOML config file");
  auto* check_opt =
      app.add_option("--check-config", check_file,
                     "validate this config (and its zone and registry files), then exit");
  app.add_option("--log-level", log_level,
                 "override [log] level: trace, debug, info, warn, error, off");
  app.add_flag("--dump-zone", dump, "print the zone as it would be served now, then exit")
      ->needs(run_opt);
  bool version = false;
  app.add_flag("--version", version, "print the version and exit");
  run_opt->excludes(check_opt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (version) {
    std::cout << "discodns " << DISCODNS_VERSION << "\n";
    return 0;
  }
  if (config_file.empty() && check_file.empty()) {
    std::cerr << "discodns: one of --config FILE or --check-config FILE is required\n";
    return 1;
  }
  // stderr from the first moment (spdlog's default logger writes to stdout, which is for the
  // readiness line and --check-config's verdict); the config may raise the level later.
  common::init_logging("warn");

  if (!check_file.empty()) {
    std::string error = daemon::check_config(check_file);
    if (!error.empty()) {
      std::cerr << error << "\n";
      return 1;
    }
    std::cout << check_file << ": ok\n";
    return 0;
  }
  try {
    return run(config_file, log_level, dump);
  } catch (const std::exception& e) {
    std::cerr << "discodns: " << e.what() << "\n";
    return 1;
  }
}
