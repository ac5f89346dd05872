#include "registry/json_document.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <charconv>
#include <string>

#include "registry/text.hpp"

namespace discodns::registry {
namespace {

// Discovery's answers nest five levels at most (envelope, data, app, instance list,
// instance, metadata); this leaves room and refuses "[[[[…" before the parser spends ~25 bytes
// of heap per level on it (a 60 MiB answer of brackets would take 1.5 GB).
constexpr int kMaxNesting = 32;

// The UTF-16 code unit of the "\uXXXX" escape at s[i], or -1 when there is none.
long escaped_unit(std::string_view s, std::size_t i) {
  if (i + 6 > s.size() || s[i] != '\\' || s[i + 1] != 'u') return -1;
  unsigned unit = 0;
  const char* end = s.data() + i + 6;
  auto [stop, ec] = std::from_chars(s.data() + i + 2, end, unit, 16);
  return ec == std::errc() && stop == end ? static_cast<long>(unit) : -1;
}

bool is_number_char(char c) {
  return is_ascii_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// Whether `t` is one JSON number (RFC 8259 §6) other than an integer in [INT64_MIN,
// UINT64_MAX]: a fraction, an exponent or a huge integer. false for a malformed one, which is
// left for the parser to refuse.
bool inexact_number(std::string_view t) {
  // Fast path: up to 18 digits always fit (19 without a sign); a leading 0 is malformed.
  std::size_t sign = !t.empty() && t.front() == '-' ? 1 : 0;
  if (t.size() - sign <= 18 + (1 - sign) &&
      std::all_of(t.begin() + static_cast<std::ptrdiff_t>(sign), t.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  std::size_t j = 0;
  auto digits = [&] {
    std::size_t from = j;
    while (j < t.size() && is_ascii_digit(t[j]))
      ++j;
    return j > from;
  };
  if (j < t.size() && t[j] == '-') ++j;
  if (j < t.size() && t[j] == '0') {
    ++j;
  } else if (!digits()) {
    return false;
  }
  bool integer = true;
  if (j < t.size() && t[j] == '.') {
    ++j;
    if (!digits()) return false;
    integer = false;
  }
  if (j < t.size() && (t[j] == 'e' || t[j] == 'E')) {
    ++j;
    if (j < t.size() && (t[j] == '+' || t[j] == '-')) ++j;
    if (!digits()) return false;
    integer = false;
  }
  if (j != t.size()) return false;
  if (!integer) return true;
  const char* end = t.data() + t.size();
  if (t.front() == '-') {
    std::int64_t value = 0;
    return std::from_chars(t.data(), end, value).ec != std::errc();
  }
  std::uint64_t value = 0;
  return std::from_chars(t.data(), end, value).ec != std::errc();
}

// One pass over the answer before it is parsed:
//  * nesting deeper than `limit` (outside strings) refuses it;
//  * a number that is not an exact 64-bit integer (1.5, 1e400, 2^70) becomes 0.5. Every number
//    this decoder reads is an integer (code, status, timestamps), so to it all such numbers
//    mean the same ("not an integer": that field, hence at most its instance, is refused; in
//    a field it ignores, nothing), and RapidJSON never converts one to a double. RapidJSON 1.1
//    refuses the whole document for one number beyond double's range (1e400, 400 digits),
//    even with kParseNumbersAsStringsFlag, which would also lose the string/number type.
//  * an unpaired UTF-16 surrogate escape ("\udc80", or "\ud800" not followed by a low
//    surrogate escape) becomes "\ufffd", which is how Go's encoding/json decodes it. RapidJSON
//    refuses the whole document for a lone high surrogate and turns a lone low one into bytes
//    that are not UTF-8 (ED B2 80).
// A rewrite keeps the length (error offsets still point into the answer) and happens in a
// copy, `rewritten`, made only when there is something to rewrite.
common::Result<bool> prepare(std::string_view json, int limit, std::string& rewritten) {
  auto rewrite = [&](std::size_t at, std::size_t length, std::string_view with) {
    if (rewritten.empty()) rewritten.assign(json);
    auto out = rewritten.begin() + static_cast<std::ptrdiff_t>(at);
    std::fill_n(std::copy(with.begin(), with.end(), out), length - with.size(), ' ');
  };
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '"') {
        in_string = false;
      } else if (c != '\\') {
        // plain text
      } else if (long unit = escaped_unit(json, i); unit < 0xD800 || unit > 0xDFFF) {
        ++i;  // the escaped character; a \u escape's hex digits are plain text
      } else if (long low = escaped_unit(json, i + 6);
                 unit <= 0xDBFF && low >= 0xDC00 && low <= 0xDFFF) {
        i += 11;  // a surrogate pair
      } else {
        rewrite(i, 6, "\\ufffd");
        i += 5;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) {
        return common::Error{"JSON nested deeper than " + std::to_string(limit) + " levels"};
      }
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == '-' || is_ascii_digit(c)) {
      std::size_t end = i;
      while (end < json.size() && is_number_char(json[end]))
        ++end;
      // Only where a value starts, so that a rewrite cannot make a broken answer valid.
      char before = i == 0 ? ',' : json[i - 1];
      bool value_start = before == ':' || before == ',' || before == '[' || before == ' ' ||
                         before == '\n' || before == '\t' || before == '\r';
      if (value_start && inexact_number(json.substr(i, end - i))) {
        rewrite(i, end - i, "0.5");
      }
      i = end - 1;
    }
  }
  return true;
}

}  // namespace

common::Result<bool> parse_document(std::string_view json, rapidjson::Document& doc) {
  if (json.size() > kMaxDocumentSize) {
    return common::Error{"document of " + std::to_string(json.size()) +
                         " bytes is larger than the limit of " + std::to_string(kMaxDocumentSize) +
                         " bytes"};
  }
  if (json.empty()) return common::Error{"empty document"};
  std::string rewritten;
  if (auto ok = prepare(json, kMaxNesting, rewritten); !ok) return ok.error();
  std::string_view text = rewritten.empty() ? json : rewritten;
  // Iterative parsing: nesting depth costs heap, not stack, so "[[[[..." cannot overflow it.
  // Go's encoding/json always writes valid UTF-8; raw bytes that are not are not a registry
  // answer.
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.data(),
                                                                                    text.size());
  if (doc.HasParseError()) {
    return common::Error{"invalid JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                         rapidjson::GetParseError_En(doc.GetParseError())};
  }
  if (!doc.IsObject()) return common::Error{"the document is not a JSON object"};
  return true;
}

}  // namespace discodns::registry
