// Writes our OPT RR into the engine's buffer without allocating.
#include "query/opt.hpp"

#include <algorithm>
#include <cstring>

#include "common/siphash.hpp"
#include "query/identity.hpp"
#include "wire/types.hpp"

namespace discodns::query {
namespace {

constexpr std::size_t kServerCookieLength = 16;  // RFC 9018: version, reserved, time, hash

// RFC 7873 + RFC 9018 server cookie: version 1, 3 reserved octets, a 32-bit timestamp and
// SipHash-2-4(client cookie | version | reserved | timestamp | client address).
void write_cookie(wire::Writer& w, const wire::QueryView& q, const Limits& limits,
                  const QueryContext& ctx, common::Nanos now) {
  std::uint8_t input[8 + 8 + 16];
  std::memcpy(input, q.cookie.data(), 8);
  std::uint8_t* server = input + 8;
  server[0] = 1;
  server[1] = server[2] = server[3] = 0;
  wire::put_u32(server + 4, static_cast<std::uint32_t>(now / common::kNanosPerSecond));
  std::size_t address = std::min<std::size_t>(ctx.client_address.size(), 16);
  if (address != 0) std::memcpy(input + 16, ctx.client_address.data(), address);
  std::uint64_t hash =
      common::siphash24(limits.cookie_secret, std::span<const std::uint8_t>(input, 16 + address));
  w.u16(wire::edns::kOptionCookie);
  w.u16(8 + kServerCookieLength);
  w.bytes(input, 16);
  for (int i = 7; i >= 0; --i)
    w.u8(static_cast<std::uint8_t>(hash >> (i * 8)));
}

}  // namespace

std::size_t opt_size(const wire::QueryView& q, const Limits& limits,
                     const QueryContext& ctx) noexcept {
  std::size_t size = 11;
  if (q.cookie_length >= 8) size += 4 + 8 + kServerCookieLength;
  if (ctx.transport == Transport::kTcp && q.tcp_keepalive) size += 4 + 2;
  return size + nsid_size(q.nsid, limits);
}

bool write_opt(wire::Writer& w, std::uint8_t code, const wire::QueryView& q, const Limits& limits,
               const QueryContext& ctx, common::Nanos now) noexcept {
  w.u8(0);  // root owner
  w.u16(wire::type::kOpt);
  w.u16(std::max<std::uint16_t>(limits.our_payload_size, wire::kMinUdpPayload));
  std::uint32_t ttl = static_cast<std::uint32_t>(code >> 4) << 24;  // extended rcode
  if (q.dnssec_ok) ttl |= 0x8000;  // RFC 3225: DO is copied into the response
  w.u32(ttl);
  auto rdlength_at = w.size();
  w.u16(0);
  if (q.cookie_length >= 8) write_cookie(w, q, limits, ctx, now);
  if (ctx.transport == Transport::kTcp && q.tcp_keepalive) {
    w.u16(wire::edns::kOptionTcpKeepalive);
    w.u16(2);
    w.u16(limits.tcp_idle_timeout_100ms);
  }
  write_nsid(w, q.nsid, limits);
  if (w.failed()) return false;
  wire::put_u16(w.data() + rdlength_at, static_cast<std::uint16_t>(w.size() - rdlength_at - 2));
  return true;
}

}  // namespace discodns::query
