#include "transfer/notify_tsig.hpp"

#include <memory>
#include <unordered_map>
#include <vector>

#include "wire/bytes.hpp"

namespace discodns::transfer {
namespace {

// Only the Notifier's thread calls the hooks: no lock. Bounded: one id per attempt in flight,
// and a few late ones.
struct SignedRequests {
  static constexpr std::size_t kMaxKept = 1024;
  TsigKey key;
  const common::Clock* clock;
  std::unordered_map<std::uint16_t, std::vector<std::uint8_t>> mac_by_id;

  std::int64_t now_s() const { return clock->now_ns() / common::kNanosPerSecond; }
};

}  // namespace

NotifyTsig notify_tsig(TsigKey key, const common::Clock& clock) {
  auto state = std::make_shared<SignedRequests>();
  state->key = std::move(key);
  state->clock = &clock;
  NotifyTsig hooks;
  hooks.sign = [state](std::span<std::uint8_t> buffer, std::size_t size) -> std::size_t {
    if (size < 2) return 0;
    TsigSigner signer(state->key, {});
    std::size_t signed_size = signer.sign(buffer, size, state->now_s());
    if (signed_size == 0) return 0;
    if (state->mac_by_id.size() >= SignedRequests::kMaxKept) state->mac_by_id.clear();
    state->mac_by_id[wire::read_u16(buffer.data())] = signer.last_mac();
    return signed_size;
  };
  hooks.verify = [state](std::span<const std::uint8_t> answer) {
    if (answer.size() < 2) return false;
    auto it = state->mac_by_id.find(wire::read_u16(answer.data()));
    if (it == state->mac_by_id.end()) return false;
    bool ok = verify_response(answer, state->key, it->second, state->now_s()) == TsigError::kNone;
    if (ok) state->mac_by_id.erase(it);
    return ok;
  };
  return hooks;
}

}  // namespace discodns::transfer
