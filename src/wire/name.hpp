// Domain names in uncompressed wire form (length-prefixed labels ending with the root 0).
// Stored names are lower-cased; comparisons are on lower-cased bytes (RFC 4343).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace discodns::wire {

inline char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// "Goim.Comet.example.com." or without the final dot -> lower-cased wire form. Supports
// \. and \DDD escapes. nullopt when a label is empty or too long, or the name exceeds 255.
std::optional<std::string> text_to_wire(std::string_view text);

// Wire form -> presentation text with a final dot; non-printable bytes as \DDD.
std::string wire_to_text(std::string_view wire);

// Appends one label (1..63 octets) in front of nothing: returns length byte + bytes.
std::string wire_label(std::string_view label);

// True when `name` equals `ancestor` or lies below it (both lower-cased wire names), on a
// label boundary.
bool is_at_or_below(std::string_view name, std::string_view ancestor);

// Number of labels, not counting the root.
int label_count(std::string_view wire);

// The name without its first label ("" -> ""); `wire` must be well formed.
std::string_view parent_of(std::string_view wire);

}  // namespace discodns::wire
