// Registry strings -> DNS labels (design.md §2).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace discodns::catalog {

// A registry key part (env, zone, one appid label, region, scheme) is served only when it
// is already a key label (common/label_rules.hpp: 1..63 octets of [A-Za-z0-9_-]). Returns it
// lower-cased.
std::optional<std::string> key_label(std::string_view text);

// appid "goim.comet" -> wire labels "\4goim\5comet" (lower-cased, no root), or nullopt when
// any part is not a valid label.
std::optional<std::string> appid_labels(std::string_view appid);
// The same two in wire form (length octet first), appended to `out`; false when invalid
// (`out` then holds a partial name). For callers that reuse one buffer (no allocation).
bool append_key_label(std::string& out, std::string_view text);
bool append_appid_labels(std::string& out, std::string_view appid);

// A hostname made into one host label (common/label_rules.hpp): lower-cased, any octet
// outside [a-z0-9-] becomes '-', cut to 63 octets; an empty hostname becomes "host".
std::string hostname_label(std::string_view hostname);

// Deterministic suffix for colliding hostname labels: "<label cut to 56>-<6 hex of a hash
// of the original hostname>".
std::string disambiguated_label(std::string_view label, std::string_view original_hostname);

}  // namespace discodns::catalog
