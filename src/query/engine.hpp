// The query engine: a pure function from query bytes (plus snapshot, time, limits) to
// response bytes. No sockets, no threads, no allocation, no exceptions. Servers call it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/clock.hpp"

namespace discodns::catalog {
class Snapshot;  // catalog/snapshot.hpp: the engine reads it; its callers only hand it over
}  // namespace discodns::catalog

namespace discodns::query {

// Outcome::miss_region when there is none (catalog::kNoRegion).
inline constexpr std::uint16_t kNoRegion = 0xFFFF;

enum class Transport : std::uint8_t { kUdp, kTcp };

// A short byte string held inline, so Limits stays a plain value that servers copy (nothing
// to allocate or to outlive). Longer text is cut at N (the config refuses it first).
template <std::size_t N>
struct InlineText {
  std::array<std::uint8_t, N> bytes{};
  std::uint16_t size = 0;
  std::span<const std::uint8_t> view() const { return {bytes.data(), size}; }
  void assign(std::string_view text) {
    size = static_cast<std::uint16_t>(text.size() < N ? text.size() : N);
    for (std::size_t i = 0; i < size; ++i)
      bytes[i] = static_cast<std::uint8_t>(text[i]);
  }
};

inline constexpr std::size_t kMaxTxtLength = 255;   // one TXT character-string
inline constexpr std::size_t kMaxNsidLength = 128;  // ours; RFC 5001 sets no limit

// Fixed per server: from the config.
struct Limits {
  std::uint16_t our_payload_size = 1232;       // advertised in our OPT; caps UDP answers with EDNS
  unsigned max_address_records = 0;            // cap on A/AAAA records per answer; 0 = none
  std::uint16_t tcp_idle_timeout_100ms = 100;  // RFC 7828 edns-tcp-keepalive value we send
  std::array<std::uint8_t, 16> cookie_secret{};  // RFC 7873 server cookie key
  // Zone transfers are offered (over TCP, by transfer/): a UDP IXFR from a client behind us
  // gets TC, so it retries over TCP (RFC 1995 §2), instead of REFUSED.
  bool transfers = false;
  // Which replica answered (query/identity.hpp); each off while empty.
  InlineText<kMaxTxtLength> identity;  // CH TXT id.server. and hostname.bind.
  InlineText<kMaxTxtLength> version;   // CH TXT version.bind.
  InlineText<kMaxNsidLength> nsid;     // RFC 5001 NSID option payload
};

// Varies per query.
struct QueryContext {
  Transport transport = Transport::kUdp;
  std::uint32_t rotation = 0;                    // picks where each RRset starts (load spreading)
  std::span<const std::uint8_t> client_address;  // 4 or 16 bytes; binds the server cookie
};

struct Outcome {
  bool respond = false;     // false: drop silently (not even a header can be echoed)
  std::size_t size = 0;     // bytes written to `out`
  std::uint8_t rcode = 0;   // including extended rcode bits (BADVERS = 16)
  std::uint16_t qtype = 0;  // 0 when the question could not be parsed
  bool truncated = false;   // TC set
  // NXDOMAIN, or NODATA at an empty non-terminal, for a name with at least 3 labels below a
  // registry region's label (it could be appid.env.zone.region of an app not fetched yet):
  // that region's index in Snapshot::regions, for the server to fetch it. Else kNoRegion.
  std::uint16_t miss_region = kNoRegion;
  // The query carried a TSIG record, which the engine does not check: the server has the
  // answer signed (server/transfer_hook.hpp) or answers unsigned when transfers are off.
  bool signed_query = false;
};

// Response buffers must hold this much; TCP answers can be up to 64 KiB.
inline constexpr std::size_t kMaxResponseSize = 65535;

// Answers one DNS message. `out` must hold at least kMaxResponseSize bytes for TCP; for UDP,
// 4096 (the largest EDNS payload size we accept) suffices.
Outcome answer(std::span<const std::uint8_t> query, const catalog::Snapshot& snapshot,
               common::Nanos now, const Limits& limits, const QueryContext& context,
               std::span<std::uint8_t> out) noexcept;

}  // namespace discodns::query
