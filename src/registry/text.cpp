#include "registry/text.hpp"

#include <algorithm>

namespace discodns::registry {
namespace {

// UTF-8 sequence length at s[i] (Unicode Table 3-7: no overlongs, surrogates or values past
// U+10FFFF), 0 if the bytes there are not one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto tail = [&](std::size_t k, unsigned lo, unsigned hi) {
    return k < s.size() && byte(k) >= lo && byte(k) <= hi;
  };
  unsigned b = byte(i);
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return tail(i + 1, 0x80, 0xBF) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    unsigned lo = b == 0xE0 ? 0xA0 : 0x80;
    unsigned hi = b == 0xED ? 0x9F : 0xBF;
    return tail(i + 1, lo, hi) && tail(i + 2, 0x80, 0xBF) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    unsigned lo = b == 0xF0 ? 0x90 : 0x80;
    unsigned hi = b == 0xF4 ? 0x8F : 0xBF;
    return tail(i + 1, lo, hi) && tail(i + 2, 0x80, 0xBF) && tail(i + 3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

}  // namespace

// Every string leaves the decoder as valid UTF-8 without C0 control characters: strings end
// up in TXT records, logs, the admin JSON and the persisted registry file (read back with
// encoding validation). JSON escapes ("\u0000", "\n") can put controls in any string; each
// control, and each byte that is not part of valid UTF-8, becomes U+FFFD, and the instance is
// kept. (Invalid UTF-8 cannot get this far: raw bytes are validated by the parser and
// unpaired surrogate escapes are rewritten before it; checked anyway so that the guarantee
// does not rest on either.) The same rule for every field:
//  * appid, env, zone: catalog/ serves only [A-Za-z0-9_-] labels (labels.cpp key_label), so
//    an instance whose name had such a character is not served, with or without the U+FFFD;
//  * hostname: served as one label in which every other byte becomes '-' (hostname_label),
//    a U+FFFD as "---"; hostnames that differ only in replaced characters become one
//    instance (the last read), as unpaired surrogates do for Go's decoder;
//  * free text (region, version, metadata keys and values, messages): replaced, not dropped,
//    so that "a\u0000b" is not passed off as "ab".
std::string clean_text(std::string_view s) {
  if (std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F; })) {
    return std::string(s);  // printable ASCII, the usual case
  }
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  std::size_t done = 0;  // s[0, done) is already in out
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_length(s, i);
    if (n > 1 || (n == 1 && static_cast<unsigned char>(s[i]) >= 0x20)) {
      i += n;
      continue;
    }
    if (out.empty()) out.reserve(s.size() + 2);
    out.append(s.substr(done, i - done)).append(kReplacement);
    done = ++i;
  }
  if (done == 0) return std::string(s);
  out.append(s.substr(done));
  return out;
}

std::string_view prefix_of(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  while (max > 0 && (static_cast<unsigned char>(s[max]) & 0xC0) == 0x80)
    --max;
  return s.substr(0, max);
}

}  // namespace discodns::registry
