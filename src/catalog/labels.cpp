// Registry strings -> DNS labels, by the rules of common/label_rules.hpp.
#include "catalog/labels.hpp"

#include <cstdint>

#include "common/hash.hpp"
#include "common/label_rules.hpp"
#include "wire/name.hpp"
#include "wire/types.hpp"

namespace discodns::catalog {

bool append_key_label(std::string& out, std::string_view text) {
  if (!common::is_key_label(text)) return false;
  out.push_back(static_cast<char>(text.size()));
  for (char c : text)
    out.push_back(wire::ascii_lower(c));
  return true;
}

bool append_appid_labels(std::string& out, std::string_view appid) {
  for (std::size_t start = 0;;) {
    std::size_t dot = appid.find('.', start);
    if (!append_key_label(out,
                          appid.substr(start, dot == std::string_view::npos ? std::string_view::npos
                                                                            : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::optional<std::string> key_label(std::string_view text) {
  std::string out;
  if (!append_key_label(out, text)) return std::nullopt;
  return out.substr(1);
}

std::optional<std::string> appid_labels(std::string_view appid) {
  std::string out;
  if (!append_appid_labels(out, appid)) return std::nullopt;
  return out;
}

std::string hostname_label(std::string_view hostname) {
  std::string out;
  for (char c : hostname) {
    if (out.size() == wire::kMaxLabelLength) break;
    char l = wire::ascii_lower(c);
    out.push_back(common::is_host_label_char(l) ? l : '-');
  }
  if (out.empty()) out = "host";
  return out;
}

std::string disambiguated_label(std::string_view label, std::string_view original_hostname) {
  std::uint32_t h = common::fnv1a32(original_hostname);  // the same suffix in every version
  static const char* kHex = "0123456789abcdef";
  std::string out(label.substr(0, 56));
  out.push_back('-');
  for (int i = 5; i >= 0; --i)
    out.push_back(kHex[(h >> (i * 4)) & 0xF]);
  return out;
}

}  // namespace discodns::catalog
