#include "registry/persist.hpp"

#include <fcntl.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "registry/decode.hpp"

namespace discodns::registry {

std::string encode_fetch_all(const RegistryData& data) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("code");
  w.Int(0);
  w.Key("message");
  w.String("0");
  w.Key("ttl");
  w.Int(1);
  w.Key("data");
  w.StartObject();
  // Apps in (appid, env) order, so each appid's array (all its envs) is contiguous.
  auto apps = data.sorted();
  for (std::size_t a = 0; a < apps.size();) {
    const std::string& appid = apps[a].first->appid;
    w.Key(appid.c_str(), static_cast<rapidjson::SizeType>(appid.size()));
    w.StartArray();
    for (; a < apps.size() && apps[a].first->appid == appid; ++a) {
      for (const AppInstance& inst : *apps[a].second) {
        auto str = [&](const char* key, const std::string& value) {
          w.Key(key);
          w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
        };
        w.StartObject();
        str("region", inst.region);
        str("zone", inst.zone);
        str("env", apps[a].first->env);
        str("appid", appid);
        str("hostname", inst.hostname);
        w.Key("addrs");
        w.StartArray();
        for (const auto& ep : inst.endpoints) {
          std::string addr = endpoint_url(ep);
          w.String(addr.c_str(), static_cast<rapidjson::SizeType>(addr.size()));
        }
        w.EndArray();
        str("version", inst.version);
        w.Key("metadata");
        w.StartObject();
        for (const auto& [k, v] : inst.metadata) {
          w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
          w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
        }
        w.EndObject();
        w.Key("status");
        w.Uint(static_cast<unsigned>(inst.status));
        w.Key("renew_timestamp");
        w.Int64(inst.renew_ns);
        w.Key("latest_timestamp");
        w.Int64(inst.latest_ns);
        w.EndObject();
      }
    }
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

common::Result<bool> save_registry(const std::filesystem::path& file, const RegistryData& data) {
  return write_atomically(file, encode_fetch_all(data));
}

common::Result<bool> write_atomically(const std::filesystem::path& file, std::string_view text) {
  std::filesystem::path tmp = file;
  tmp += ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return common::Error{"cannot create " + tmp.string() + ": " + std::strerror(errno)};
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return common::Error{"cannot write " + tmp.string() + ": " + why};
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return common::Error{"cannot flush " + tmp.string() + ": " + std::strerror(errno)};
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return common::Error{"cannot rename to " + file.string() + ": " + why};
  }
  return true;
}

common::Result<RegistryData> load_registry(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return common::Error{"cannot open " + file.string()};
  std::ostringstream text;
  text << in.rdbuf();
  auto decoded = decode_registry_document(text.str());
  if (!decoded) return common::Error{file.string() + ": " + decoded.error().text};
  return RegistryData::from(std::move(decoded.value()));
}

}  // namespace discodns::registry
