#include "registry/decode.hpp"

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

std::string string_of(const Value* v) {
  return v != nullptr && v->IsString() ? std::string(v->GetString(), v->GetStringLength())
                                       : std::string();
}

// "scheme://host:port" (IPv6 hosts in brackets) -> Endpoint; false when it does not parse.
bool parse_addr(std::string_view text, Endpoint& out) {
  auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  std::string scheme(text.substr(0, sep));
  for (char& c : scheme) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  std::string_view rest = text.substr(sep + 3);
  // Anything after the authority (a path, a query) is not ours to serve.
  auto slash = rest.find_first_of("/?#");
  if (slash != std::string_view::npos) rest = rest.substr(0, slash);
  std::string_view host, port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return false;
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return false;  // unbracketed IPv6
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return false;
  }
  out = {std::move(scheme), std::string(host), static_cast<std::uint16_t>(value)};
  return true;
}

// metadata.weight: a decimal string; missing, invalid or <= 0 -> 10 (the SDKs' default).
std::uint16_t weight_of(const std::map<std::string, std::string>& metadata) {
  auto it = metadata.find("weight");
  if (it == metadata.end()) return 10;
  long long value = 0;
  const std::string& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range && !s.empty() && s[0] != '-') return 65535;
  if (ec != std::errc() || end != s.data() + s.size() || value <= 0) return 10;
  return static_cast<std::uint16_t>(std::min<long long>(value, 65535));
}

bool int64_of(const Value* v, std::int64_t& out) {
  if (v == nullptr) {
    out = 0;
    return true;  // absent: unknown, not wrong
  }
  if (!v->IsInt64()) return false;  // doubles would lose nanoseconds; strings are wrong
  out = v->GetInt64();
  return true;
}

class Decoder {
 public:
  RegistryData finish() {
    // Keyed by (appid, env, zone, hostname): a later duplicate replaces an earlier one.
    std::stable_sort(data_.instances.begin(), data_.instances.end(),
                     [](const auto& a, const auto& b) {
                       return std::tie(a.appid, a.env, a.zone, a.hostname) <
                              std::tie(b.appid, b.env, b.zone, b.hostname);
                     });
    auto& v = data_.instances;
    std::vector<Instance> unique;
    unique.reserve(v.size());
    for (auto& inst : v) {
      if (!unique.empty() && unique.back().appid == inst.appid && unique.back().env == inst.env &&
          unique.back().zone == inst.zone && unique.back().hostname == inst.hostname) {
        unique.back() = std::move(inst);
      } else {
        unique.push_back(std::move(inst));
      }
    }
    v = std::move(unique);
    return std::move(data_);
  }

  void instances(const Value& list, const std::string& appid_key) {
    if (list.IsArray()) {
      for (const auto& item : list.GetArray())
        instance(item, appid_key);
    } else if (list.IsObject()) {  // zone -> [instances]
      for (const auto& zone : list.GetObject()) {
        if (zone.value.IsArray()) {
          for (const auto& item : zone.value.GetArray())
            instance(item, appid_key);
        } else if (!zone.value.IsNull()) {
          ++data_.skipped_instances;
        }
      }
    } else if (!list.IsNull()) {
      ++data_.skipped_instances;
    }
  }

  // InstanceInfo {"instances": ..., "latest_timestamp": N, "scheduler": any}.
  bool instance_info(const Value& info, const std::string& appid_key, std::int64_t* latest) {
    const Value* list = member(info, "instances");
    if (list == nullptr) return false;
    instances(*list, appid_key);
    if (latest != nullptr) int64_of(member(info, "latest_timestamp"), *latest);
    return true;
  }

 private:
  void instance(const Value& v, const std::string& appid_key) {
    if (!v.IsObject()) {
      ++data_.skipped_instances;
      return;
    }
    Instance inst;
    inst.appid = string_of(member(v, "appid"));
    if (inst.appid.empty()) inst.appid = appid_key;
    const Value* env = member(v, "env");
    const Value* hostname = member(v, "hostname");
    const Value* status = member(v, "status");
    if (inst.appid.empty() || env == nullptr || !env->IsString() || hostname == nullptr ||
        !hostname->IsString() || hostname->GetStringLength() == 0 || status == nullptr ||
        !status->IsUint()) {
      ++data_.skipped_instances;
      return;
    }
    inst.env = string_of(env);
    inst.hostname = string_of(hostname);
    inst.zone = string_of(member(v, "zone"));
    inst.region = string_of(member(v, "region"));
    inst.version = string_of(member(v, "version"));
    unsigned s = status->GetUint();
    if (s != 1 && s != 2) {
      ++data_.skipped_instances;
      return;
    }
    inst.status = s == 1 ? Status::kUp : Status::kWaiting;
    if (!int64_of(member(v, "renew_timestamp"), inst.renew_ns) ||
        !int64_of(member(v, "latest_timestamp"), inst.latest_ns)) {
      ++data_.skipped_instances;
      return;
    }
    if (const Value* md = member(v, "metadata"); md != nullptr && md->IsObject()) {
      for (const auto& kv : md->GetObject()) {
        // Values are strings on the wire; anything else was stored as "" by the server.
        inst.metadata[std::string(kv.name.GetString(), kv.name.GetStringLength())] =
            kv.value.IsString() ? std::string(kv.value.GetString(), kv.value.GetStringLength())
                                : std::string();
      }
    }
    inst.weight = weight_of(inst.metadata);
    if (const Value* addrs = member(v, "addrs"); addrs != nullptr && addrs->IsArray()) {
      for (const auto& a : addrs->GetArray()) {
        if (!a.IsString()) {
          ++data_.skipped_addrs;
          continue;
        }
        // Replicated copies carry several comma-joined URLs in one element (§6.3).
        std::string_view all(a.GetString(), a.GetStringLength());
        std::size_t start = 0;
        while (start <= all.size()) {
          std::size_t comma = all.find(',', start);
          std::string_view one = all.substr(
              start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
          while (!one.empty() && one.front() == ' ')
            one.remove_prefix(1);
          while (!one.empty() && one.back() == ' ')
            one.remove_suffix(1);
          Endpoint ep;
          if (!one.empty()) {
            if (parse_addr(one, ep)) {
              if (std::find(inst.endpoints.begin(), inst.endpoints.end(), ep) ==
                  inst.endpoints.end()) {
                inst.endpoints.push_back(std::move(ep));
              }
            } else {
              ++data_.skipped_addrs;
            }
          }
          if (comma == std::string_view::npos) break;
          start = comma + 1;
        }
      }
    }
    data_.instances.push_back(std::move(inst));
  }

  RegistryData data_;
};

common::Result<bool> parse(std::string_view json, rapidjson::Document& doc) {
  if (json.size() > kMaxDocumentSize) {
    return common::Error{"document of " + std::to_string(json.size()) + " bytes is larger than " +
                         std::to_string(kMaxDocumentSize)};
  }
  if (json.empty()) return common::Error{"empty document"};
  // Iterative parsing: deeply nested input cannot exhaust the stack.
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    return common::Error{std::string("invalid JSON at offset ") +
                         std::to_string(doc.GetErrorOffset()) + ": " +
                         rapidjson::GetParseError_En(doc.GetParseError())};
  }
  if (!doc.IsObject()) return common::Error{"the document is not a JSON object"};
  return true;
}

// The standard envelope: code must be an integer; returns the data member (may be null).
common::Result<const Value*> envelope(const rapidjson::Document& doc, bool allow_not_modified) {
  const Value* code = member(doc, "code");
  if (code == nullptr || !code->IsInt()) return common::Error{"no integer \"code\" in the answer"};
  int c = code->GetInt();
  if (c != 0 && !(allow_not_modified && c == -304)) {
    return common::Error{"registry answered code " + std::to_string(c) + " (" +
                         string_of(member(doc, "message")) + ")"};
  }
  return member(doc, "data");
}

// appid -> [instances] (fetch/all) or appid -> InstanceInfo (fetchs).
bool decode_app_map(const Value& data, Decoder& decoder,
                    std::map<std::string, std::int64_t>* latest) {
  if (!data.IsObject()) return false;
  for (const auto& app : data.GetObject()) {
    std::string appid(app.name.GetString(), app.name.GetStringLength());
    if (app.value.IsArray()) {
      decoder.instances(app.value, appid);
    } else if (app.value.IsObject()) {
      std::int64_t ts = 0;
      if (!decoder.instance_info(app.value, appid, &ts)) return false;
      if (latest != nullptr) (*latest)[appid] = ts;
    } else if (!app.value.IsNull()) {
      return false;
    }
  }
  return true;
}

}  // namespace

common::Result<RegistryData> decode_registry_document(std::string_view json) {
  rapidjson::Document doc;
  if (auto ok = parse(json, doc); !ok) return ok.error();
  const Value* data = &doc;
  if (member(doc, "code") != nullptr) {
    auto d = envelope(doc, false);
    if (!d) return d.error();
    data = *d;
    if (data == nullptr || data->IsNull()) return common::Error{"the answer has no data"};
  }
  Decoder decoder;
  if (member(*data, "instances") != nullptr) {  // fetch: one InstanceInfo
    decoder.instance_info(*data, "", nullptr);
  } else if (!decode_app_map(*data, decoder, nullptr)) {
    return common::Error{"unexpected shape: expected appid -> instances"};
  }
  return decoder.finish();
}

common::Result<RegistryData> decode_fetch_all(std::string_view body) {
  rapidjson::Document doc;
  if (auto ok = parse(body, doc); !ok) return ok.error();
  auto data = envelope(doc, false);
  if (!data) return data.error();
  Decoder decoder;
  if (*data != nullptr && !(*data)->IsNull() && !decode_app_map(**data, decoder, nullptr)) {
    return common::Error{"unexpected fetch/all shape"};
  }
  return decoder.finish();
}

common::Result<RegistryData> decode_fetchs(std::string_view body) {
  return decode_fetch_all(body);  // same envelope; app values are InstanceInfo objects
}

common::Result<PollsAnswer> decode_polls(std::string_view body) {
  rapidjson::Document doc;
  if (auto ok = parse(body, doc); !ok) return ok.error();
  const Value* code = member(doc, "code");
  if (code == nullptr || !code->IsInt()) return common::Error{"no integer \"code\" in the answer"};
  PollsAnswer answer;
  answer.code = code->GetInt();
  if (answer.code != 0) return answer;
  const Value* data = member(doc, "data");
  Decoder decoder;
  if (data == nullptr || !data->IsObject() || !decode_app_map(*data, decoder, &answer.latest)) {
    return common::Error{"unexpected polls shape"};
  }
  for (const auto& [appid, ts] : answer.latest) {
    // The SDK treats an app at latest_timestamp 0 as a server error (§7.5).
    if (ts <= 0) return common::Error{"app " + appid + " has no latest_timestamp"};
  }
  if (const Value* error = member(doc, "error")) {
    if (const Value* miss = member(*error, "-404"); miss != nullptr && miss->IsArray()) {
      for (const auto& m : miss->GetArray()) {
        if (m.IsString()) answer.missing.emplace_back(m.GetString(), m.GetStringLength());
      }
    }
  }
  answer.data = decoder.finish();
  return answer;
}

common::Result<std::vector<std::string>> decode_nodes(std::string_view body) {
  rapidjson::Document doc;
  if (auto ok = parse(body, doc); !ok) return ok.error();
  auto data = envelope(doc, false);
  if (!data) return data.error();
  if (*data == nullptr || !(*data)->IsArray()) return common::Error{"unexpected nodes shape"};
  std::vector<std::string> out;
  for (const auto& node : (*data)->GetArray()) {
    std::string addr = string_of(member(node, "addr"));
    if (!addr.empty() && addr.size() < 256) out.push_back(std::move(addr));
  }
  return out;
}

}  // namespace discodns::registry
