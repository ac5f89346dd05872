// Registry strings made safe to serve, log and store: valid UTF-8 without C0 control
// characters (clean_text), and prefixes that never cut a character in two (prefix_of).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace discodns::registry {

// Every string leaves the decoder through this: each C0 control, and each byte that is not
// part of valid UTF-8, becomes U+FFFD (see text.cpp for what that means per field).
std::string clean_text(std::string_view s);

// At most `max` bytes of a UTF-8 string, not cutting a character in two (for messages).
std::string_view prefix_of(std::string_view s, std::size_t max);

inline bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace discodns::registry
