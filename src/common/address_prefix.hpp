// An IP address prefix ("10.0.0.0/8", "::1", "2001:db8::/32") and whether an address falls in
// it: the transfer allow-list (transfer.allow) and its config check share this one parser.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace discodns::common {

struct AddressPrefix {
  std::array<std::uint8_t, 16> bytes{};  // the first 4 only, for IPv4
  std::uint8_t length = 0;               // prefix length in bits
  bool v6 = false;

  // `address` is 4 or 16 bytes (network order); an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
  // matches the IPv4 prefixes, as a dual-stack socket reports IPv4 clients that way.
  bool contains(std::span<const std::uint8_t> address) const;
  bool operator==(const AddressPrefix&) const = default;
};

// "a.b.c.d[/n]" or "v6[/n]" (no brackets); without /n the whole address. nullopt when not an
// address, a length past the family's width, or bits set beyond the length.
std::optional<AddressPrefix> parse_address_prefix(std::string_view text);

}  // namespace discodns::common
