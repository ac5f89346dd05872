// The config's value grammar (parse.hpp): one value at a time, a reason when it is refused.
#include "config/parse.hpp"

#include <arpa/inet.h>

#include <limits>

#include "common/label_rules.hpp"

namespace discodns::config {

std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

Refusal parse_duration(std::string_view text, std::int64_t& ms) {
  const std::string reason = "bad duration " + in_quotes(text) +
                             ": expected <integer><unit> with unit ms, s, m or h, e.g. \"30s\"";
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
    ++digits;
  if (digits == 0) return reason;
  std::string_view unit = text.substr(digits);
  std::int64_t factor = 0;
  if (unit == "ms") {
    factor = 1;
  } else if (unit == "s") {
    factor = kMsPerSecond;
  } else if (unit == "m") {
    factor = 60 * kMsPerSecond;
  } else if (unit == "h") {
    factor = kHourMs;
  } else {
    return reason;
  }
  constexpr std::int64_t kLimit = std::numeric_limits<std::int64_t>::max();
  std::int64_t value = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    std::int64_t digit = text[i] - '0';
    if (value > (kLimit - digit) / 10) return "duration " + in_quotes(text) + " is too large";
    value = value * 10 + digit;
  }
  if (value > kLimit / factor) return "duration " + in_quotes(text) + " is too large";
  ms = value * factor;
  return std::nullopt;
}

std::string format_duration(std::int64_t ms) {
  if (ms != 0 && ms % kHourMs == 0) return std::to_string(ms / kHourMs) + "h";
  if (ms != 0 && ms % (60 * kMsPerSecond) == 0) return std::to_string(ms / 60000) + "m";
  if (ms % kMsPerSecond == 0) return std::to_string(ms / kMsPerSecond) + "s";
  return std::to_string(ms) + "ms";
}

Refusal split_host_port(std::string_view text, HostPort& out) {
  const std::string example = "expected \"host:port\", e.g. \"127.0.0.1:53\" or \"[::1]:53\"";
  if (text.empty()) return "empty address; " + example;
  std::string_view host;
  std::string_view port_text;
  const bool bracketed = text.front() == '[';
  if (bracketed) {
    auto close = text.find(']');
    if (close == std::string_view::npos) return "missing \"]\" after the IPv6 address; " + example;
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (rest.empty()) return "missing port; " + example;
    if (rest.front() != ':') return "expected \":port\" after \"]\"; " + example;
    port_text = rest.substr(1);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return "missing port; " + example;
    if (text.find(':') != colon) return "an IPv6 address must be in brackets, e.g. \"[::1]:53\"";
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (host.empty()) return "missing host; " + example;
  if (port_text.empty()) return "missing port; " + example;
  std::uint32_t value = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return "port must be a number 0..65535, got " + in_quotes(port_text);
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
    if (value > 65535) return "port must be 0..65535, got " + std::string(port_text);
  }
  out.host = std::string(host);
  out.port = static_cast<std::uint16_t>(value);
  out.bracketed = bracketed;
  unsigned char buffer[16];
  if (bracketed && inet_pton(AF_INET6, out.host.c_str(), buffer) != 1)
    return "bad IPv6 address " + in_quotes(out.host);
  return std::nullopt;
}

Refusal parse_listen(std::string_view text, ListenAddress& out) {
  HostPort address;
  if (auto error = split_host_port(text, address)) return error;
  unsigned char buffer[16];
  if (!address.bracketed && inet_pton(AF_INET, address.host.c_str(), buffer) != 1) {
    // Listening needs an address we can bind; names would need resolving at start.
    return "bad IPv4 address " + in_quotes(address.host) +
           " (listen takes IP literals, not host names)";
  }
  out.host = address.host;
  out.port = address.port;
  return std::nullopt;
}

// The client prepends "http://", so a scheme here would be doubled.
Refusal check_node(std::string_view text) {
  if (text.find("://") != std::string_view::npos)
    return "write \"host:port\" without a scheme, e.g. \"127.0.0.1:7171\"";
  HostPort address;
  if (auto error = split_host_port(text, address)) return error;
  if (!address.bracketed) {
    // A host name (key-label octets and dots, as registry/endpoint.cpp takes them) or an
    // IPv4 literal, which is made of the same octets.
    for (char c : address.host) {
      if (!common::is_key_label_char(c) && c != '.')
        return "bad host " + in_quotes(address.host) + " (a host name or IP address)";
    }
  }
  if (address.port == 0) return "port must be 1..65535, got 0";
  return std::nullopt;
}

Refusal normalize_domain(std::string_view text, std::string& out) {
  std::string_view name = text;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return "must be a domain name such as \"example.com\", not the root";
  if (name.size() > 253) return "name too long (" + std::to_string(name.size()) + " > 253)";
  out.clear();
  // The rule of common::is_key_label, one octet at a time so the reason can name the fault.
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      std::size_t length = i - label_start;
      if (length == 0) return "empty label in " + in_quotes(text);
      if (length > common::kMaxLabelOctets)
        return "label longer than 63 characters in " + in_quotes(text);
      label_start = i + 1;
      out.push_back('.');
      continue;
    }
    char c = name[i];
    if (!common::is_key_label_char(c))
      return "bad character " + in_quotes(std::string(1, c)) + " in " + in_quotes(text);
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return std::nullopt;
}

Refusal check_region(std::string_view text) {
  // The rule of common::is_host_label, split so the reason can name the fault.
  if (text.empty() || text.size() > common::kMaxLabelOctets)
    return "must be one DNS label of 1..63 characters";
  for (char c : text) {
    if (!common::is_host_label_char(c))
      return "must be one DNS label of [a-z0-9-], got " + in_quotes(text) + " (bad character " +
             in_quotes(std::string(1, c)) + ")";
  }
  return std::nullopt;
}

}  // namespace discodns::config
