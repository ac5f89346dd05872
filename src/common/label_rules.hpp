// Which octets may stand in a DNS label discodns serves, one rule per kind of label. Here in
// common/ because config/ (which may use only common) checks the same labels catalog/ serves.
//
// Two kinds, both of 1..63 octets (RFC 1035 §2.3.4):
//
//   key label   [A-Za-z0-9_-], case-insensitive (served lower-cased). Labels discodns serves
//               as someone else wrote them: registry keys (each appid part, env, zone, scheme:
//               catalog/labels.hpp) and the labels of the configured domain
//               (config/parse.hpp). '_' is in because registry keys use it (RFC 2181 §11
//               allows any octet in a label); names read from zone files take the wider
//               alphabet of wire/name.hpp (escapes, any octet).
//   host label  [a-z0-9-], lower case only: the RFC 1123 letters, digits and hyphen. Names
//               discodns makes or the operator picks for it: labels made from instance
//               hostnames (catalog::hostname_label maps every other octet to '-') and the
//               configured region (config/parse.hpp). A region is kept as written and must be
//               unique, so it may not have upper case: "China" and "china" would be two
//               regions but one DNS label. Every host label is a key label, so catalog serves
//               every region the config accepts.
//
// Neither rule refuses a hyphen at either end (RFC 1123 would): that would stop serving names
// served today.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace discodns::common {

inline constexpr std::size_t kMaxLabelOctets = 63;

constexpr bool is_host_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

constexpr bool is_key_label_char(char c) {
  return is_host_label_char(c) || (c >= 'A' && c <= 'Z') || c == '_';
}

constexpr bool is_key_label(std::string_view label) {
  return !label.empty() && label.size() <= kMaxLabelOctets &&
         std::all_of(label.begin(), label.end(), is_key_label_char);
}

constexpr bool is_host_label(std::string_view label) {
  return !label.empty() && label.size() <= kMaxLabelOctets &&
         std::all_of(label.begin(), label.end(), is_host_label_char);
}

}  // namespace discodns::common
