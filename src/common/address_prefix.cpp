#include "common/address_prefix.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <string>

namespace discodns::common {
namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool prefix_equal(const std::uint8_t* a, const std::uint8_t* b, unsigned bits) {
  for (unsigned i = 0; i < bits / 8; ++i)
    if (a[i] != b[i]) return false;
  if (bits % 8 == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - bits % 8));
  return (a[bits / 8] & mask) == (b[bits / 8] & mask);
}

}  // namespace

bool AddressPrefix::contains(std::span<const std::uint8_t> address) const {
  if (address.size() == 16 && !v6 &&
      std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), address.begin())) {
    address = address.subspan(12);
  }
  if (address.size() != (v6 ? 16u : 4u)) return false;
  return prefix_equal(bytes.data(), address.data(), length);
}

std::optional<AddressPrefix> parse_address_prefix(std::string_view text) {
  AddressPrefix out;
  std::string_view address = text;
  std::optional<unsigned> length;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    std::string_view digits = text.substr(slash + 1);
    unsigned n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
      return std::nullopt;
    }
    length = n;
  }
  std::string copy(address);
  if (inet_pton(AF_INET, copy.c_str(), out.bytes.data()) == 1) {
    out.v6 = false;
  } else if (inet_pton(AF_INET6, copy.c_str(), out.bytes.data()) == 1) {
    out.v6 = true;
  } else {
    return std::nullopt;
  }
  const unsigned width = out.v6 ? 128 : 32;
  if (length.value_or(width) > width) return std::nullopt;
  out.length = static_cast<std::uint8_t>(length.value_or(width));
  // Bits past the length would be ignored silently: "10.1.0.0/8" is more likely a typo.
  for (unsigned bit = out.length; bit < width; ++bit) {
    if (out.bytes[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;
  }
  return out;
}

}  // namespace discodns::common
