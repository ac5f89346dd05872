// libFuzzer target: any bytes as a query, answered over UDP and TCP against a fixed snapshot.
// Checks what must hold for every input: the answer fits the buffer and the size limit, it
// starts with the query's ID, and it is a response.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "catalog/builder.hpp"
#include "catalog/static_zone.hpp"
#include "query/engine.hpp"

using namespace discodns;

namespace {

std::shared_ptr<const catalog::Snapshot> make_snapshot() {
  registry::InstanceList list;
  common::Nanos now = 1'800'000'000LL * common::kNanosPerSecond;
  for (int i = 0; i < 40; ++i) {
    registry::Instance inst;
    inst.appid = i < 20 ? "goim.comet" : "a.b";
    inst.env = "dev";
    inst.zone = "gd";
    inst.hostname = "host-" + std::to_string(i);
    inst.endpoints = {{"grpc", "10.0.0." + std::to_string(i + 1), 9000},
                      {"http", "fd00::" + std::to_string(i + 1), 80}};
    inst.renew_ns = now - i * common::kNanosPerSecond;
    inst.observed_ns = now;  // instances 36 to 39 are late
    inst.status = i % 7 == 0 ? registry::Status::kWaiting : registry::Status::kUp;
    list.instances.push_back(inst);
  }
  auto data = std::make_shared<registry::RegistryData>(registry::RegistryData::from(list));
  catalog::BuildInput input;
  input.zone = std::make_shared<catalog::StaticZone>(
      catalog::load_static_zone(DISCODNS_SOURCE_DIR "/zones/example.com.zone", "example.com."));
  input.regions.push_back({"china", data, false, false, now, 15 * common::kNanosPerSecond});
  input.serial = 7;
  return catalog::build_snapshot(input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto snapshot = make_snapshot();
  static std::vector<std::uint8_t> out(query::kMaxResponseSize);
  query::Limits limits;
  for (auto transport : {query::Transport::kUdp, query::Transport::kTcp}) {
    query::QueryContext ctx;
    ctx.transport = transport;
    ctx.rotation = size > 0 ? data[0] : 0;
    auto outcome = query::answer({data, size}, *snapshot, 1'800'000'000LL * common::kNanosPerSecond,
                                 limits, ctx, out);
    if (!outcome.respond) continue;
    std::size_t limit = transport == query::Transport::kUdp ? 4096 : query::kMaxResponseSize;
    if (outcome.size < 12 || outcome.size > limit) std::abort();
    if (out[0] != data[0] || out[1] != data[1] || (out[2] & 0x80) == 0) std::abort();
  }
  return 0;
}
