// In-process figures for the update and query paths: snapshot build time and memory per
// instance for N apps x M instances, and answers per second through query::answer with a
// mix of A, SRV and NXDOMAIN queries. Prints figures; asserts nothing (not a test).
//
//   build/release/tests/engine_bench [apps=1000] [instances_per_app=100] [seconds=2]
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "catalog/builder.hpp"
#include "catalog/static_zone.hpp"
#include "query/engine.hpp"
#include "wire/name.hpp"

using namespace discodns;
using Clock = std::chrono::steady_clock;

namespace {

// Bytes malloc has handed out and not had back (heap and mmap'd blocks).
std::size_t heap_in_use() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

std::vector<std::uint8_t> make_query(const std::string& name, std::uint16_t type,
                                     std::uint16_t id) {
  std::vector<std::uint8_t> q = {static_cast<std::uint8_t>(id >> 8),
                                 static_cast<std::uint8_t>(id),
                                 1,
                                 0,
                                 0,
                                 1,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0,
                                 1};
  auto wire = *wire::text_to_wire(name);
  q.insert(q.end(), wire.begin(), wire.end());
  q.insert(q.end(), {static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type), 0, 1});
  // OPT, 1232 bytes
  q.insert(q.end(), {0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0});
  return q;
}

}  // namespace

int main(int argc, char** argv) {
  int apps = argc > 1 ? std::atoi(argv[1]) : 1000;
  int per_app = argc > 2 ? std::atoi(argv[2]) : 100;
  double seconds = argc > 3 ? std::atof(argv[3]) : 2.0;
  common::Nanos now = common::wall_now_ns();

  registry::InstanceList list;
  for (int a = 0; a < apps; ++a) {
    for (int i = 0; i < per_app; ++i) {
      int n = a * per_app + i;
      registry::Instance inst;
      inst.appid = "svc" + std::to_string(a) + ".team" + std::to_string(a % 37);
      inst.env = "prod";
      inst.zone = "gd";
      inst.hostname = "host-" + std::to_string(i);
      std::string ip = "10." + std::to_string((n >> 16) & 255) + "." +
                       std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255);
      inst.endpoints = {{"grpc", ip, 9000}, {"http", ip, 8000}};
      inst.metadata = {{"weight", "10"}};
      inst.weight = 10;
      inst.version = "v1";
      inst.renew_ns = now - i * 1'000'000LL;
      inst.observed_ns = now;
      list.instances.push_back(std::move(inst));
    }
  }
  malloc_trim(0);
  std::size_t data_heap = heap_in_use();
  auto data = std::make_shared<registry::RegistryData>(registry::RegistryData::from(list));
  data_heap = heap_in_use() - data_heap;

  catalog::BuildInput input;
  input.zone = std::make_shared<catalog::StaticZone>(
      catalog::load_static_zone(DISCODNS_SOURCE_DIR "/zones/example.com.zone", "example.com."));
  input.regions.push_back({"china", data, false, false, now, 15 * common::kNanosPerSecond});
  input.serial = 1;

  malloc_trim(0);
  long rss_before = rss_kib();
  auto heap_before = heap_in_use();
  auto t0 = Clock::now();
  catalog::BuildStats stats;
  auto state = catalog::build(input, &stats);
  std::shared_ptr<const catalog::Snapshot> snap = state->snapshot;
  double build_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  malloc_trim(0);
  long rss_after = rss_kib();
  auto heap_after = heap_in_use();
  std::size_t instances = data->instances();
  std::printf("instances            %zu (%d apps x %d)\n", instances, apps, per_app);
  std::printf("snapshot names       %llu\n", static_cast<unsigned long long>(stats.names));
  std::printf("full build           %.1f ms\n", build_ms);
  std::printf("snapshot RSS         %.1f MiB, %.0f bytes/instance\n",
              (rss_after - rss_before) / 1024.0,
              (rss_after - rss_before) * 1024.0 / static_cast<double>(instances));
  std::printf("snapshot heap        %.0f bytes/instance (malloc's bytes in use)\n",
              static_cast<double>(heap_after - heap_before) / static_cast<double>(instances));
  std::printf("registry data heap   %.0f bytes/instance (RegistryData, as the daemon keeps it)\n",
              static_cast<double>(data_heap) / static_cast<double>(instances));

  // One app changes (one instance renews): the build reuses every other service's block.
  std::shared_ptr<const catalog::BuildState> previous = state;
  constexpr int kUpdates = 50;
  double update_ms_total = 0;
  for (int u = 0; u < kUpdates; ++u) {
    // As the discovery source does it: a copy that shares every other app.
    auto changed = std::make_shared<registry::RegistryData>(*data);
    const registry::Instance& one =
        list.instances[static_cast<std::size_t>(u * per_app) % instances];
    registry::AppKey app{one.appid, one.env};
    registry::AppInstances renewed = *changed->find(app);
    renewed.front().renew_ns += 1'000'000;
    changed->set(app, std::move(renewed));
    data = changed;
    catalog::BuildInput next = input;
    next.regions[0].data = changed;
    next.previous = previous;
    next.serial = input.serial + static_cast<std::uint32_t>(u) + 1;
    auto t = Clock::now();
    previous = catalog::build(next);
    update_ms_total += std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  }
  std::printf("single-app rebuild   %.2f ms (mean of %d, %d apps reused)\n",
              update_ms_total / kUpdates, kUpdates, apps - 1);

  // Every app renewed, as a reconcile sees it 30 s later: the worst case for a rebuild. Five
  // reconciles in a row (median and best: this host's noise is in the tens of percent).
  {
    std::vector<double> took;
    bool incremental = true;
    for (int round = 0; round < 5; ++round) {
      auto renewed_all = std::make_shared<registry::RegistryData>(*data);
      for (const auto& [key, app_instances] : data->sorted()) {
        registry::AppInstances renewed = *app_instances;
        for (auto& inst : renewed)
          inst.renew_ns += common::kNanosPerSecond;
        renewed_all->set(*key, std::move(renewed));
      }
      data = renewed_all;
      catalog::BuildInput next = input;
      next.regions[0].data = renewed_all;
      next.previous = previous;
      next.serial = input.serial + kUpdates + 1 + static_cast<std::uint32_t>(round);
      catalog::BuildStats all_stats;
      auto t = Clock::now();
      previous = catalog::build(next, &all_stats);
      took.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
      incremental = incremental && all_stats.incremental;
    }
    std::sort(took.begin(), took.end());
    std::printf("every app renewed    %.1f ms median, %.1f ms best of %zu (%s builds)\n",
                took[took.size() / 2], took.front(), took.size(),
                incremental ? "incremental" : "full");
  }

  // Query mix: 50 % A, 30 % SRV, 20 % NXDOMAIN (the same mix as the dnsperf benchmark).
  std::mt19937 rng(1);
  std::vector<std::vector<std::uint8_t>> queries;
  for (int i = 0; i < 10000; ++i) {
    std::string app = "svc" + std::to_string(rng() % apps);
    std::string service = app + ".team" + std::to_string(std::stoi(app.substr(3)) % 37) +
                          ".prod.gd.china.example.com.";
    int r = static_cast<int>(rng() % 10);
    if (r < 5) {
      queries.push_back(make_query(service, 1, static_cast<std::uint16_t>(i)));
    } else if (r < 8) {
      queries.push_back(make_query("_grpc._tcp." + service, 33, static_cast<std::uint16_t>(i)));
    } else {
      queries.push_back(make_query("nosuch" + std::to_string(i) + ".prod.gd.china.example.com.", 1,
                                   static_cast<std::uint16_t>(i)));
    }
  }
  std::vector<std::uint8_t> out(query::kMaxResponseSize);
  query::Limits limits;
  query::QueryContext ctx;
  std::uint64_t answered = 0, bytes = 0;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    for (int k = 0; k < 1000; ++k) {
      const auto& q = queries[answered % queries.size()];
      ctx.rotation = static_cast<std::uint32_t>(answered);
      auto o = query::answer(q, *snap, now, limits, ctx, out);
      bytes += o.size;
      ++answered;
    }
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("engine answers       %.0f per second on one core (avg %.0f bytes)\n",
              static_cast<double>(answered) / elapsed,
              static_cast<double>(bytes) / static_cast<double>(answered));
  return 0;
}
