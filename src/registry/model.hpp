// The registry data we serve: only the fields of a discovery instance that DNS needs.
// Produced by registry/decode, consumed by catalog/ (which never sees HTTP or JSON).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace discodns::registry {

// One parsed `scheme://host:port` address. host is an IPv4 or IPv6 literal or a name;
// catalog/ decides what it can serve.
struct Endpoint {
  std::string scheme;  // lower-cased, e.g. "grpc", "http"
  std::string host;    // without brackets for IPv6
  std::uint16_t port = 0;

  bool operator==(const Endpoint&) const = default;
};

enum class Status : std::uint8_t { kUp = 1, kWaiting = 2 };

struct Instance {
  std::string appid;
  std::string env;
  std::string zone;
  std::string region;  // informational only: discovery neither keys nor filters on it
  std::string hostname;
  std::vector<Endpoint> endpoints;  // comma-joined addrs already split, unparsable ones skipped
  std::string version;
  std::map<std::string, std::string> metadata;  // sorted; null metadata -> empty
  Status status = Status::kUp;
  std::uint16_t weight = 10;   // metadata.weight; missing/invalid/<=0 -> 10 (the SDKs' default)
  std::int64_t renew_ns = 0;   // renew_timestamp, ns since epoch (int64, never double)
  std::int64_t latest_ns = 0;  // latest_timestamp of the instance

  bool operator==(const Instance&) const = default;
};

// All instances of the registry that one source sees, sorted by (appid, env, zone, hostname).
struct RegistryData {
  std::vector<Instance> instances;
  // Counts of records the decoder had to skip, for logs and metrics.
  std::uint64_t skipped_instances = 0;
  std::uint64_t skipped_addrs = 0;

  bool operator==(const RegistryData&) const = default;
};

}  // namespace discodns::registry
