// CHAOS identity answers and the NSID option, written into the engine's buffer without
// allocating.
#include "query/identity.hpp"

#include "wire/types.hpp"

namespace discodns::query {
namespace {

using namespace std::string_view_literals;

// Wire forms, lower-cased as the parser leaves the question's name (octal escapes: a hex
// escape would swallow the "b" of "bind").
constexpr std::string_view kIdServer = "\002id\006server\000"sv;
constexpr std::string_view kHostnameBind = "\010hostname\004bind\000"sv;
constexpr std::string_view kVersionBind = "\007version\004bind\000"sv;

}  // namespace

std::span<const std::uint8_t> chaos_text(std::string_view qname, const Limits& limits) noexcept {
  if (qname == kIdServer || qname == kHostnameBind) return limits.identity.view();
  if (qname == kVersionBind) return limits.version.view();
  return {};
}

bool write_chaos_txt(wire::Writer& w, std::span<const std::uint8_t> text) noexcept {
  w.u16(0xC000 | wire::kHeaderSize);  // the question's name
  w.u16(wire::type::kTxt);
  w.u16(wire::klass::kCh);
  w.u32(0);  // nothing to cache: the point is to see which replica answers now
  w.u16(static_cast<std::uint16_t>(1 + text.size()));
  w.u8(static_cast<std::uint8_t>(text.size()));
  w.bytes(text.data(), text.size());
  return !w.failed();
}

std::size_t nsid_size(bool requested, const Limits& limits) noexcept {
  return requested && limits.nsid.size != 0 ? 4 + limits.nsid.size : 0;
}

void write_nsid(wire::Writer& w, bool requested, const Limits& limits) noexcept {
  if (nsid_size(requested, limits) == 0) return;
  w.u16(wire::edns::kOptionNsid);
  w.u16(limits.nsid.size);
  w.bytes(limits.nsid.bytes.data(), limits.nsid.size);
}

}  // namespace discodns::query
