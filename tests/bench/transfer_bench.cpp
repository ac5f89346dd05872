// In-process figures for the hidden primary at scale: the AXFR of N apps x M instances (time to
// produce every message, bytes, messages), and per one-app change the primary's extra work
// (the journal's delta) beside the incremental build, and the IXFR's size. Prints figures;
// asserts nothing (not a test). The same run's figures through real secondaries come from
// tests/bench/transfer_propagation.py.
//
//   build/release/tests/transfer_bench [apps=10000] [instances_per_app=10] [changes=100]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "catalog/builder.hpp"
#include "catalog/static_zone.hpp"
#include "common/address_prefix.hpp"
#include "query/store.hpp"
#include "transfer/primary.hpp"

using namespace discodns;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

registry::InstanceList make_registry(int apps, int per_app, common::Nanos now) {
  registry::InstanceList list;
  for (int a = 0; a < apps; ++a) {
    for (int i = 0; i < per_app; ++i) {
      const int n = a * per_app + i;
      registry::Instance inst;
      inst.appid = "svc" + std::to_string(a) + ".team" + std::to_string(a % 37);
      inst.env = "prod";
      inst.zone = "gd";
      inst.hostname = "host-" + std::to_string(i);
      const std::string ip = "10." + std::to_string((n >> 16) & 255) + "." +
                             std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255);
      inst.endpoints = {{"grpc", ip, 9000}, {"http", ip, 8000}};
      inst.metadata = {{"weight", "10"}};
      inst.weight = 10;
      inst.version = "v1";
      inst.renew_ns = now;
      inst.observed_ns = now;
      list.instances.push_back(std::move(inst));
    }
  }
  return list;
}

// Every message of a transfer: (messages, bytes, records are not counted here).
std::pair<std::size_t, std::size_t> drain(server::MessageStream& stream) {
  std::vector<std::uint8_t> buffer(65535);
  std::size_t messages = 0;
  std::size_t bytes = 0;
  while (std::size_t size = stream.next(buffer)) {
    ++messages;
    bytes += size;
  }
  return {messages, bytes};
}

std::vector<std::uint8_t> transfer_query(std::uint16_t qtype, std::uint32_t serial) {
  const std::uint8_t nscount = qtype == 251 ? 1 : 0;
  std::vector<std::uint8_t> q = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, nscount, 0, 0};
  const std::uint8_t apex[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};
  q.insert(q.end(), std::begin(apex), std::end(apex));
  q.insert(q.end(), {0, static_cast<std::uint8_t>(qtype), 0, 1});
  if (qtype == 251) {  // the client's SOA: owner the apex (a pointer), empty names, its serial
    q.insert(q.end(), {0xC0, 12, 0, 6, 0, 1, 0, 0, 0, 0, 0, 22, 0, 0});
    for (int shift = 24; shift >= 0; shift -= 8)
      q.push_back(static_cast<std::uint8_t>(serial >> shift));
    q.insert(q.end(), 16, 0);
  }
  return q;
}

}  // namespace

int main(int argc, char** argv) {
  const int apps = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int per_app = argc > 2 ? std::atoi(argv[2]) : 10;
  const int changes = argc > 3 ? std::atoi(argv[3]) : 100;
  const common::Nanos now = common::wall_now_ns();
  auto list = make_registry(apps, per_app, now);
  auto data = std::make_shared<registry::RegistryData>(registry::RegistryData::from(list));

  catalog::BuildInput input;
  input.zone = std::make_shared<catalog::StaticZone>(
      catalog::load_static_zone(DISCODNS_SOURCE_DIR "/zones/example.com.zone", "example.com."));
  input.regions.push_back({"china", data, false, false, now, 15 * common::kNanosPerSecond});
  input.serial = 1;
  auto state = catalog::build(input);

  query::SnapshotStore store;
  common::SystemClock clock;
  transfer::PrimaryOptions options;
  options.allow.push_back(*common::parse_address_prefix("127.0.0.1"));
  transfer::Primary primary(options, store, clock);
  primary.record_publish(nullptr, *state->snapshot);
  store.publish(state->snapshot);
  const std::uint8_t client[4] = {127, 0, 0, 1};

  auto t = Clock::now();
  auto axfr = primary.start(transfer_query(252, 0), client);
  auto [axfr_messages, axfr_bytes] = drain(*axfr);
  const double axfr_ms = ms_since(t);
  std::printf("instances              %zu (%d apps x %d)\n", data->instances(), apps, per_app);
  std::printf("AXFR                   %.1f ms, %zu messages, %.1f MiB\n", axfr_ms, axfr_messages,
              static_cast<double>(axfr_bytes) / (1 << 20));

  // One app gains an instance per change, as a registration does; its delta joins the journal.
  std::vector<double> build_ms, delta_ms, ixfr_ms;
  std::vector<std::size_t> ixfr_bytes;
  std::uint32_t serial = input.serial;
  for (int c = 0; c < changes; ++c) {
    auto changed = std::make_shared<registry::RegistryData>(*data);
    const registry::Instance& one =
        list.instances[static_cast<std::size_t>(c * 7 * per_app) % list.instances.size()];
    registry::AppKey app{one.appid, one.env};
    registry::AppInstances grown = *changed->find(app);
    registry::AppInstance added = grown.front();
    added.hostname = "new-" + std::to_string(c);
    grown.push_back(added);
    registry::sort_instances(grown);
    changed->set(app, std::move(grown));
    data = changed;
    catalog::BuildInput next = input;
    next.regions[0].data = changed;
    next.previous = state;
    next.serial = ++serial;
    t = Clock::now();
    auto built = catalog::build(next);
    build_ms.push_back(ms_since(t));
    t = Clock::now();
    primary.record_publish(state->snapshot.get(), *built->snapshot);
    delta_ms.push_back(ms_since(t));
    store.publish(built->snapshot);
    state = built;
    t = Clock::now();
    auto ixfr = primary.start(transfer_query(251, serial - 1), client);
    ixfr_bytes.push_back(drain(*ixfr).second);
    ixfr_ms.push_back(ms_since(t));
  }
  auto median = [](auto v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  auto p99 = [](auto v) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, v.size() * 99 / 100)];
  };
  std::printf("per one-app change (%d changes; median / p99):\n", changes);
  std::printf("  incremental build    %.3f / %.3f ms\n", median(build_ms), p99(build_ms));
  std::printf("  journal delta        %.3f / %.3f ms (the primary's extra work per publish)\n",
              median(delta_ms), p99(delta_ms));
  std::printf("  IXFR answer          %.3f / %.3f ms, %zu bytes (one message)\n", median(ixfr_ms),
              p99(ixfr_ms), median(ixfr_bytes));
  auto m = primary.metrics();
  std::printf("journal                %llu changes, %.1f KiB\n",
              static_cast<unsigned long long>(m.journal_changes),
              static_cast<double>(m.journal_bytes) / 1024);
  return 0;
}
