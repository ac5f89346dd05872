// DNS constants (RFC 1035 §3.2, RFC 6891, RFC 2782, RFC 7873, RFC 7828, RFC 5001).
#pragma once

#include <cstddef>
#include <cstdint>

namespace discodns::wire {

namespace type {
inline constexpr std::uint16_t kA = 1;
inline constexpr std::uint16_t kNs = 2;
inline constexpr std::uint16_t kCname = 5;
inline constexpr std::uint16_t kSoa = 6;
inline constexpr std::uint16_t kPtr = 12;
inline constexpr std::uint16_t kHinfo = 13;
inline constexpr std::uint16_t kMx = 15;
inline constexpr std::uint16_t kTxt = 16;
inline constexpr std::uint16_t kAaaa = 28;
inline constexpr std::uint16_t kSrv = 33;
inline constexpr std::uint16_t kOpt = 41;
inline constexpr std::uint16_t kDs = 43;
inline constexpr std::uint16_t kTsig = 250;
inline constexpr std::uint16_t kIxfr = 251;
inline constexpr std::uint16_t kAxfr = 252;
inline constexpr std::uint16_t kMailb = 253;
inline constexpr std::uint16_t kMaila = 254;
inline constexpr std::uint16_t kAny = 255;
}  // namespace type

namespace klass {
inline constexpr std::uint16_t kIn = 1;
inline constexpr std::uint16_t kCh = 3;  // CHAOS: server identity (RFC 4892)
inline constexpr std::uint16_t kAny = 255;
}  // namespace klass

namespace opcode {
inline constexpr std::uint8_t kQuery = 0;
inline constexpr std::uint8_t kNotify = 4;  // RFC 1996
}  // namespace opcode

namespace rcode {
inline constexpr std::uint8_t kNoError = 0;
inline constexpr std::uint8_t kFormErr = 1;
inline constexpr std::uint8_t kServFail = 2;
inline constexpr std::uint8_t kNxDomain = 3;
inline constexpr std::uint8_t kNotImp = 4;
inline constexpr std::uint8_t kRefused = 5;
inline constexpr std::uint8_t kBadVers = 16;  // extended: upper 8 bits in OPT TTL
inline constexpr std::uint8_t kBadCookie = 23;
}  // namespace rcode

namespace edns {
inline constexpr std::uint16_t kOptionNsid = 3;           // RFC 5001
inline constexpr std::uint16_t kOptionTcpKeepalive = 11;  // RFC 7828
inline constexpr std::uint16_t kOptionCookie = 10;        // RFC 7873
}  // namespace edns

namespace flag {  // bits of the 16-bit flags word
inline constexpr std::uint16_t kQr = 0x8000;
inline constexpr std::uint16_t kAa = 0x0400;
inline constexpr std::uint16_t kTc = 0x0200;
inline constexpr std::uint16_t kRd = 0x0100;
inline constexpr std::uint16_t kRa = 0x0080;
inline constexpr std::uint16_t kAd = 0x0020;
inline constexpr std::uint16_t kCd = 0x0010;
}  // namespace flag

inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::size_t kMaxNameLength = 255;  // wire octets, RFC 1035 §2.3.4
inline constexpr std::size_t kMaxLabelLength = 63;
inline constexpr std::uint16_t kMinUdpPayload = 512;

}  // namespace discodns::wire
