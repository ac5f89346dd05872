#include "registry/endpoint.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "common/label_rules.hpp"
#include "registry/text.hpp"

namespace discodns::registry {
namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool valid_scheme(std::string_view s) {
  if (s.empty() || s.size() > 32 || !is_alpha(s.front())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_alpha(c) || is_ascii_digit(c) || c == '+' || c == '-' || c == '.';
  });
}

// An IPv4 literal or a host name; catalog/ decides what it can serve. No userinfo, spaces
// or other URL syntax.
bool valid_plain_host(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  // The alphabet of a discovery node's host name (config/parse.cpp): key-label octets and dots.
  return std::all_of(h.begin(), h.end(),
                     [](char c) { return common::is_key_label_char(c) || c == '.'; });
}

bool valid_ipv6(std::string_view h) {
  if (h.empty() || h.size() >= INET6_ADDRSTRLEN) return false;
  char text[INET6_ADDRSTRLEN] = {};
  std::copy(h.begin(), h.end(), text);
  in6_addr addr{};
  return ::inet_pton(AF_INET6, text, &addr) == 1;
}

}  // namespace

bool parse_endpoint(std::string_view text, Endpoint& out) {
  auto sep = text.find("://");
  if (sep == std::string_view::npos || !valid_scheme(text.substr(0, sep))) return false;
  std::string_view rest = text.substr(sep + 3);
  if (auto end = rest.find_first_of("/?#"); end != std::string_view::npos) {
    rest = rest.substr(0, end);
  }
  std::string_view host, port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return false;
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
    if (!valid_ipv6(host)) return false;
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (!valid_plain_host(host)) return false;  // also refuses unbracketed IPv6
  }
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), is_ascii_digit)) {
    return false;
  }
  unsigned value = 0;
  std::from_chars(port.data(), port.data() + port.size(), value);
  if (value == 0 || value > 65535) return false;
  std::string scheme(text.substr(0, sep));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  out = {std::move(scheme), std::string(host), static_cast<std::uint16_t>(value)};
  return true;
}

}  // namespace discodns::registry
