#include "registry/decode.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <tuple>

#include "registry/endpoint.hpp"
#include "registry/json_document.hpp"
#include "registry/text.hpp"

namespace discodns::registry {
namespace {

using Value = rapidjson::Value;

const Value* member(const Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string text_of(const Value& v) {
  return clean_text(std::string_view(v.GetString(), v.GetStringLength()));
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
  if (s.empty() || !std::all_of(s.begin(), s.end(), is_ascii_digit))
    return kDefault;  // "-5", "abc"
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
    sort_unique_instances(data_.instances);
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
  if (auto ok = parse_document(body, doc); !ok) return ok.error();
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
  if (auto ok = parse_document(json, doc); !ok) return ok.error();
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
  if (auto ok = parse_document(body, doc); !ok) return ok.error();
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
  if (auto ok = parse_document(body, doc); !ok) return ok.error();
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
