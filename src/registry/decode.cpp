#include "registry/decode.hpp"

#include <arpa/inet.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <charconv>
#include <tuple>

namespace discodns::registry {
namespace {

using Value = rapidjson::Value;

const Value* member(const Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

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

std::string text_of(const Value& v) {
  return clean_text(std::string_view(v.GetString(), v.GetStringLength()));
}

// At most `max` bytes of a UTF-8 string, not cutting a character in two (for messages).
std::string_view prefix_of(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  while (max > 0 && (static_cast<unsigned char>(s[max]) & 0xC0) == 0x80)
    --max;
  return s.substr(0, max);
}

// An optional string field: absent or null -> "", a string -> its text, anything else -> false
// (a wrong type means the record is not what we think it is).
bool optional_string(const Value& object, const char* name, std::string& out) {
  const Value* v = member(object, name);
  if (v == nullptr || v->IsNull()) {
    out.clear();
    return true;
  }
  if (!v->IsString()) return false;
  out = text_of(*v);
  return true;
}

// Timestamps are int64 nanoseconds (≈1.8e18 > 2^53): a double would silently lose the last
// digits, so only integers are accepted. Absent -> 0 (unknown).
bool timestamp(const Value& object, const char* name, std::int64_t& out) {
  const Value* v = member(object, name);
  out = 0;
  if (v == nullptr) return true;
  if (!v->IsInt64()) return false;
  out = v->GetInt64();
  return true;
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool valid_scheme(std::string_view s) {
  if (s.empty() || s.size() > 32 || !is_alpha(s.front())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
  });
}

// An IPv4 literal or a host name; catalog/ decides what it can serve. No userinfo, spaces
// or other URL syntax.
bool valid_plain_host(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || c == '.' || c == '-' || c == '_';
  });
}

bool valid_ipv6(std::string_view h) {
  if (h.empty() || h.size() >= INET6_ADDRSTRLEN) return false;
  char text[INET6_ADDRSTRLEN] = {};
  std::copy(h.begin(), h.end(), text);
  in6_addr addr{};
  return ::inet_pton(AF_INET6, text, &addr) == 1;
}

// "scheme://host:port", IPv6 as "[addr]:port", port 1..65535. A path, query or fragment after
// the authority is ignored: DNS can only carry host and port.
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
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit)) {
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

// Sorted by key; of a key written twice, the last one read wins (as a Go map would have it).
void sort_unique(Metadata& metadata) {
  std::stable_sort(metadata.begin(), metadata.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Metadata unique;
  unique.reserve(metadata.size());
  for (auto& kv : metadata) {
    if (!unique.empty() && unique.back().first == kv.first) {
      unique.back() = std::move(kv);
    } else {
      unique.push_back(std::move(kv));
    }
  }
  metadata = std::move(unique);
}

// metadata.weight is a decimal string; missing, invalid or <= 0 -> 10 (the SDKs' default, so
// unweighted instances compare sensibly with weighted ones); above the SRV range -> 65535.
std::uint16_t weight_of(const Metadata& metadata) {
  constexpr std::uint16_t kDefault = 10;
  auto it = std::find_if(metadata.begin(), metadata.end(),
                         [](const auto& kv) { return kv.first == "weight"; });
  if (it == metadata.end()) return kDefault;
  const std::string& s = it->second;
  if (s.empty() || !std::all_of(s.begin(), s.end(), is_digit)) return kDefault;  // "-5", "abc"
  unsigned long long value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range) return 65535;
  if (ec != std::errc() || value == 0) return kDefault;
  return static_cast<std::uint16_t>(std::min<unsigned long long>(value, 65535));
}

// Accumulates instances from any shape, counting what it has to skip.
class Decoder {
 public:
  // One appid's value: an array of instances (fetch/all) or an InstanceInfo (fetch, fetchs,
  // polls). false when it is neither: the document is not a registry document.
  bool app(const Value& v, const std::string& appid_key, std::int64_t* latest) {
    if (v.IsArray()) {
      list(v, appid_key, {});
      return true;
    }
    if (v.IsNull()) return true;
    return instance_info(v, appid_key, latest);
  }

  // {"instances": {zone: [...]} or [...], "latest_timestamp": N, "scheduler": ignored}.
  bool instance_info(const Value& info, const std::string& appid_key, std::int64_t* latest) {
    const Value* instances = member(info, "instances");
    if (instances == nullptr) return false;
    if (instances->IsArray()) {  // Bilibili-internal shape, brpc expects it (§8)
      list(*instances, appid_key, {});
    } else if (instances->IsObject()) {
      for (const auto& zone : instances->GetObject()) {
        if (zone.value.IsArray()) {
          list(zone.value, appid_key, text_of(zone.name));
        } else if (!zone.value.IsNull()) {
          ++data_.skipped_instances;
        }
      }
    } else if (!instances->IsNull()) {
      ++data_.skipped_instances;
    }
    if (latest != nullptr) {
      const Value* ts = member(info, "latest_timestamp");
      *latest = ts != nullptr && ts->IsInt64() ? ts->GetInt64() : 0;
    }
    return true;
  }

  // Sorted by (appid, env, zone, hostname); of duplicates, the last one read wins.
  InstanceList finish() {
    auto key = [](const Instance& i) { return std::tie(i.appid, i.env, i.zone, i.hostname); };
    auto& v = data_.instances;
    std::stable_sort(v.begin(), v.end(),
                     [&](const auto& a, const auto& b) { return key(a) < key(b); });
    std::vector<Instance> unique;
    unique.reserve(v.size());
    for (auto& inst : v) {
      if (!unique.empty() && key(unique.back()) == key(inst)) {
        unique.back() = std::move(inst);
      } else {
        unique.push_back(std::move(inst));
      }
    }
    v = std::move(unique);
    return std::move(data_);
  }

 private:
  void list(const Value& array, const std::string& appid_key, const std::string& zone_key) {
    for (const auto& item : array.GetArray()) {
      if (!instance(item, appid_key, zone_key)) ++data_.skipped_instances;
    }
  }

  bool instance(const Value& v, const std::string& appid_key, const std::string& zone_key) {
    if (!v.IsObject()) return false;
    Instance inst;
    if (!optional_string(v, "appid", inst.appid) || !optional_string(v, "env", inst.env) ||
        !optional_string(v, "hostname", inst.hostname) || !optional_string(v, "zone", inst.zone) ||
        !optional_string(v, "region", inst.region) ||
        !optional_string(v, "version", inst.version)) {
      return false;
    }
    // The instance's own appid and zone win over the keys they were filed under.
    if (inst.appid.empty()) inst.appid = appid_key;
    if (inst.zone.empty()) inst.zone = zone_key;
    // discovery refuses to register without these, so their absence means a broken record.
    if (inst.appid.empty() || inst.env.empty() || inst.hostname.empty()) return false;

    const Value* status = member(v, "status");
    if (status == nullptr || !status->IsUint()) return false;
    if (status->GetUint() == 1) {
      inst.status = Status::kUp;
    } else if (status->GetUint() == 2) {
      inst.status = Status::kWaiting;
    } else {
      return false;
    }
    if (!timestamp(v, "renew_timestamp", inst.renew_ns) ||
        !timestamp(v, "latest_timestamp", inst.latest_ns)) {
      return false;
    }
    if (const Value* md = member(v, "metadata"); md != nullptr && !md->IsNull()) {
      if (!md->IsObject()) return false;
      for (const auto& kv : md->GetObject()) {
        // The server stores non-string values as "" (§3.1); do the same.
        inst.metadata.emplace_back(text_of(kv.name),
                                   kv.value.IsString() ? text_of(kv.value) : std::string());
      }
      sort_unique(inst.metadata);
    }
    inst.weight = weight_of(inst.metadata);
    if (const Value* addrs = member(v, "addrs"); addrs != nullptr && !addrs->IsNull()) {
      if (!addrs->IsArray()) return false;
      for (const auto& a : addrs->GetArray()) {
        if (a.IsString()) {
          endpoints(std::string_view(a.GetString(), a.GetStringLength()), inst.endpoints);
        } else {
          ++data_.skipped_addrs;
        }
      }
    }
    data_.instances.push_back(std::move(inst));
    return true;
  }

  // Replicated copies carry several comma-joined URLs in one element (§6.3, §10.5).
  void endpoints(std::string_view all, std::vector<Endpoint>& out) {
    while (true) {
      auto comma = all.find(',');
      std::string_view one = all.substr(0, comma);
      while (!one.empty() && (one.front() == ' ' || one.front() == '\t'))
        one.remove_prefix(1);
      while (!one.empty() && (one.back() == ' ' || one.back() == '\t'))
        one.remove_suffix(1);
      Endpoint ep;
      if (one.empty()) {
        // "a,,b" or a trailing comma: nothing was there to skip.
      } else if (!parse_endpoint(one, ep)) {
        ++data_.skipped_addrs;
      } else if (std::find(out.begin(), out.end(), ep) == out.end()) {
        out.push_back(std::move(ep));
      }
      if (comma == std::string_view::npos) break;
      all.remove_prefix(comma + 1);
    }
  }

  InstanceList data_;
};

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
  return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
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
    while (j < t.size() && is_digit(t[j]))
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
    } else if (c == '-' || is_digit(c)) {
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

// The parsed tree of a large answer lives in 1 MiB chunks, which malloc serves with mmap: freed,
// they go back to the kernel instead of leaving holes in the heap between the instances
// decoded from them (worth ~10 % of RSS at 100k instances). Small answers (polls) keep
// RapidJSON's 64 KiB chunks.
class TreeMemory {
 public:
  explicit TreeMemory(std::string_view json)
      : pool_(json.size() > (1u << 20) ? (1u << 20) : 64u << 10) {}
  rapidjson::MemoryPoolAllocator<>* allocator() { return &pool_; }

 private:
  rapidjson::MemoryPoolAllocator<> pool_;
};

common::Result<bool> parse(std::string_view json, rapidjson::Document& doc) {
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

// A number-valued "code" marks the standard envelope; a bare data object could only have a
// "code" key as an appid, whose value would be an array or an object.
bool has_envelope(const Value& doc) {
  const Value* code = member(doc, "code");
  return code != nullptr && code->IsNumber();
}

// The envelope's code as an error when it is not 0 (e.g. -500 protect mode, -404).
common::Result<int> envelope_code(const Value& doc) {
  const Value* code = member(doc, "code");
  if (code == nullptr || !code->IsInt()) return common::Error{"no integer \"code\" in the answer"};
  return code->GetInt();
}

common::Error code_error(const Value& doc, int code) {
  // The message goes to the log: a registry that answers a 60 MiB one gets 200 bytes of it.
  constexpr std::size_t kMaxMessage = 200;
  std::string message;
  if (const Value* m = member(doc, "message"); m != nullptr && m->IsString()) {
    std::string_view raw(m->GetString(), m->GetStringLength());
    message = clean_text(prefix_of(raw, kMaxMessage));
    if (raw.size() > kMaxMessage) message += "... (" + std::to_string(raw.size()) + " bytes)";
  }
  return common::Error{"registry answered code " + std::to_string(code) + " (message \"" + message +
                       "\")"};
}

// The fetch shape: data is a single InstanceInfo. A fetchs answer for an app called
// "instances" is told apart because its value holds an object (the InstanceInfo), whereas a
// zone map holds only arrays.
bool is_instance_info(const Value& data) {
  const Value* instances = member(data, "instances");
  if (instances == nullptr) return false;
  if (instances->IsArray()) return member(data, "latest_timestamp") != nullptr;
  if (!instances->IsObject()) return false;
  return std::none_of(instances->MemberBegin(), instances->MemberEnd(),
                      [](const auto& zone) { return zone.value.IsObject(); });
}

// appid -> [instances] (fetch/all) or appid -> InstanceInfo (fetchs, polls).
common::Result<bool> app_map(const Value& data, Decoder& decoder,
                             std::map<std::string, std::int64_t>* latest) {
  if (!data.IsObject()) return common::Error{"unexpected shape: data is not an object"};
  for (const auto& app : data.GetObject()) {
    std::string appid = text_of(app.name);
    std::int64_t ts = 0;
    if (!decoder.app(app.value, appid, &ts)) {
      return common::Error{"unexpected shape: the value of \"" +
                           std::string(prefix_of(appid, 100)) +
                           "\" is neither a list of instances nor an InstanceInfo"};
    }
    if (latest != nullptr && app.value.IsObject()) (*latest)[appid] = ts;
  }
  return true;
}

// fetch/all and fetchs: the standard envelope around an app map.
common::Result<InstanceList> decode_app_answer(std::string_view body) {
  TreeMemory memory(body);
  rapidjson::Document doc(memory.allocator());
  if (auto ok = parse(body, doc); !ok) return ok.error();
  auto code = envelope_code(doc);
  if (!code) return code.error();
  if (*code != 0) return code_error(doc, *code);
  Decoder decoder;
  if (const Value* data = member(doc, "data"); data != nullptr && !data->IsNull()) {
    if (auto ok = app_map(*data, decoder, nullptr); !ok) return ok.error();
  }
  return decoder.finish();
}

}  // namespace

common::Result<InstanceList> decode_registry_document(std::string_view json) {
  TreeMemory memory(json);
  rapidjson::Document doc(memory.allocator());
  if (auto ok = parse(json, doc); !ok) return ok.error();
  const Value* data = &doc;
  if (has_envelope(doc)) {
    auto code = envelope_code(doc);
    if (!code) return code.error();
    if (*code != 0) return code_error(doc, *code);
    data = member(doc, "data");
    if (data == nullptr || data->IsNull()) return common::Error{"the answer has no data"};
  }
  Decoder decoder;
  if (is_instance_info(*data)) {
    decoder.instance_info(*data, "", nullptr);
  } else if (auto ok = app_map(*data, decoder, nullptr); !ok) {
    return ok.error();
  }
  return decoder.finish();
}

common::Result<InstanceList> decode_fetch_all(std::string_view body) {
  return decode_app_answer(body);
}

common::Result<InstanceList> decode_fetchs(std::string_view body) {
  return decode_app_answer(body);  // same envelope; each app's value is an InstanceInfo
}

common::Result<PollsAnswer> decode_polls(std::string_view body) {
  TreeMemory memory(body);
  rapidjson::Document doc(memory.allocator());
  if (auto ok = parse(body, doc); !ok) return ok.error();
  auto code = envelope_code(doc);
  if (!code) return code.error();
  PollsAnswer answer;
  answer.code = *code;
  if (answer.code != 0) return answer;  // -304 not modified, or a code for the caller to judge
  const Value* data = member(doc, "data");
  if (data == nullptr) return common::Error{"polls answer without data"};
  Decoder decoder;
  if (auto ok = app_map(*data, decoder, &answer.latest); !ok) return ok.error();
  for (const auto& [appid, ts] : answer.latest) {
    // A version token of 0 would make the next poll return at once forever; the Go SDK treats
    // it as a server error too (§7.5).
    if (ts <= 0) return common::Error{"app " + appid + " has no latest_timestamp"};
  }
  if (const Value* error = member(doc, "error")) {
    if (const Value* miss = member(*error, "-404"); miss != nullptr && miss->IsArray()) {
      for (const auto& m : miss->GetArray()) {
        if (m.IsString()) answer.missing.push_back(text_of(m));
      }
    }
  }
  answer.data = decoder.finish();
  return answer;
}

common::Result<std::vector<std::string>> decode_nodes(std::string_view body) {
  TreeMemory memory(body);
  rapidjson::Document doc(memory.allocator());
  if (auto ok = parse(body, doc); !ok) return ok.error();
  auto code = envelope_code(doc);
  if (!code) return code.error();
  if (*code != 0) return code_error(doc, *code);
  const Value* data = member(doc, "data");
  if (data == nullptr || !data->IsArray()) return common::Error{"unexpected nodes shape"};
  std::vector<std::string> out;
  for (const auto& node : data->GetArray()) {
    const Value* addr = member(node, "addr");
    if (addr != nullptr && addr->IsString() && addr->GetStringLength() > 0 &&
        addr->GetStringLength() < 256) {
      out.push_back(text_of(*addr));
    }
  }
  return out;
}

}  // namespace discodns::registry
