// build_notify and read_notify_answer: the NOTIFY message and its answer's header.
#include "transfer/notify_message.hpp"

#include "wire/bytes.hpp"
#include "wire/types.hpp"

namespace discodns::transfer {
namespace {

// A wire-format name: labels of at most 63 octets ending with the root label, 255 at most.
bool is_wire_name(std::string_view name) {
  if (name.empty() || name.size() > wire::kMaxNameLength) return false;
  std::size_t at = 0;
  while (at < name.size()) {
    const auto length = static_cast<std::uint8_t>(name[at]);
    if (length == 0) return at + 1 == name.size();
    if (length > wire::kMaxLabelLength) return false;
    at += 1 + length;
  }
  return false;
}

}  // namespace

std::size_t build_notify(std::span<std::uint8_t> out, std::uint16_t id, std::string_view apex_wire,
                         [[maybe_unused]] std::uint32_t serial) {
  if (!is_wire_name(apex_wire)) return 0;
  wire::Writer writer(out, out.size());
  writer.u16(id);
  writer.u16(static_cast<std::uint16_t>(kOpcodeNotify << 11) | wire::flag::kAa);
  writer.u16(1);  // QDCOUNT
  writer.u16(0);  // ANCOUNT
  writer.u16(0);  // NSCOUNT
  writer.u16(0);  // ARCOUNT (a TSIG signer adds its RR and counts it)
  writer.bytes(apex_wire.data(), apex_wire.size());
  writer.u16(wire::type::kSoa);
  writer.u16(wire::klass::kIn);
  return writer.failed() ? 0 : writer.size();
}

std::optional<NotifyAnswer> read_notify_answer(std::span<const std::uint8_t> message) {
  if (message.size() < wire::kHeaderSize) return std::nullopt;
  const std::uint16_t flags = wire::read_u16(message.data() + 2);
  if ((flags & wire::flag::kQr) == 0) return std::nullopt;
  if (((flags >> 11) & 0xF) != kOpcodeNotify) return std::nullopt;
  return NotifyAnswer{wire::read_u16(message.data()), static_cast<std::uint8_t>(flags & 0xF)};
}

}  // namespace discodns::transfer
