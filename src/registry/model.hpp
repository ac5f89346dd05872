// The registry data we serve: only the fields of a discovery instance that DNS needs.
// Produced by registry/decode, consumed by catalog/ (which never sees HTTP or JSON).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/cow_shards.hpp"

namespace discodns::registry {

// One parsed `scheme://host:port` address. host is an IPv4 or IPv6 literal or a name;
// catalog/ decides what it can serve.
struct Endpoint {
  std::string scheme;  // lower-cased, e.g. "grpc", "http"
  std::string host;    // without brackets for IPv6
  std::uint16_t port = 0;

  bool operator==(const Endpoint&) const = default;
};

// As discovery writes it: "grpc://10.0.0.1:9000", "grpc://[fd00::1]:9000".
std::string endpoint_url(const Endpoint& endpoint);

enum class Status : std::uint8_t { kUp = 1, kWaiting = 2 };

// Metadata as (key, value) pairs sorted by key, keys unique: a flat vector rather than a map,
// because every instance carries one and a map costs a tree node per entry.
using Metadata = std::vector<std::pair<std::string, std::string>>;

// One instance as kept under its app (RegistryData): its app's key is not repeated in it.
struct AppInstance {
  std::string zone;
  std::string region;  // informational only: discovery neither keys nor filters on it
  std::string hostname;
  std::vector<Endpoint> endpoints;  // comma-joined addrs already split, unparsable ones skipped
  std::string version;
  Metadata metadata;  // null metadata -> empty
  Status status = Status::kUp;
  std::uint16_t weight = 10;   // metadata.weight; missing/invalid/<=0 -> 10 (the SDKs' default)
  std::int64_t renew_ns = 0;   // renew_timestamp, ns since epoch (int64, never double)
  std::int64_t latest_ns = 0;  // latest_timestamp of the instance
  // Wall time (ns) at which renew_ns was the registry's current value: when the full answer
  // (fetch/all, fetchs) that carried it arrived. Renews never reach polls, so a poll answer's
  // renew_timestamp proves nothing about now; lateness is judged as of this moment
  // (design.md §4). 0 = not observed (a file source, or data only a poll has told of).
  std::int64_t observed_ns = 0;

  bool operator==(const AppInstance&) const = default;
  // Equal in everything answers are compiled from: all but the times that only decide
  // freshness (renew_ns, observed_ns), which a reconcile moves for every instance.
  bool same_shape(const AppInstance& other) const;
};

// One instance as decoded, with its app's key.
struct Instance : AppInstance {
  std::string appid;
  std::string env;

  bool operator==(const Instance&) const = default;
};

// Instances as a decoder reads them from one document, sorted by (appid, env, zone, hostname).
struct InstanceList {
  std::vector<Instance> instances;
  // Counts of records the decoder had to skip, for logs and metrics.
  std::uint64_t skipped_instances = 0;
  std::uint64_t skipped_addrs = 0;

  bool operator==(const InstanceList&) const = default;
};

// What the registry keys instances by (discovery-protocol.md §2): an app in one env.
struct AppKey {
  std::string appid;
  std::string env;

  auto operator<=>(const AppKey&) const = default;
};

// The instances of one app, sorted by (zone, hostname). Immutable once shared.
using AppInstances = std::vector<AppInstance>;
using AppPtr = std::shared_ptr<const AppInstances>;
// The one instance order: (appid, env, zone, hostname) across apps, and within an app
// (zone, hostname), the order RegistryData keeps (the registry sends random order).
// Sorts an app's instances so.
void sort_instances(AppInstances& instances);
// Sorts a whole list so; of instances with the same key, the last one in `list` stays (as a
// Go map, which the registry's JSON comes from, would have it).
void sort_unique_instances(std::vector<Instance>& list);
// Same instances in the same order, equal but for their freshness times.
bool same_shape(const AppInstances& a, const AppInstances& b);
// Same renew and observed times, instance by instance (a and b of equal size).
bool same_times(const AppInstances& a, const AppInstances& b);

// An app as RegistryData keeps it. `shape` stays the same across versions for as long as the
// instances change only in their freshness times (a reconcile moves those for every app), so
// a consumer tells such a change from one in what answers say by comparing two numbers: the
// comparison is made once, when the data is set, on the thread that decoded it.
struct StoredApp {
  AppPtr instances;
  std::uint64_t shape = 0;  // unique in the process: never reused across versions or sources
};

// All instances of the registry that one source sees, by app. Versions share every app (and
// every shard of apps) that did not change, so a consumer finds what changed between two
// versions by comparing pointers (catalog/builder), and a change to one app costs one app.
class RegistryData {
 public:
  using Apps = std::map<AppKey, StoredApp>;
  static constexpr std::size_t kShards = 256;

  RegistryData() = default;
  // Groups a decoded list by app. Apps equal to those in `previous` keep previous's copy, so
  // a re-read file or a reconcile that changed one app shows as one changed app.
  static RegistryData from(InstanceList list, const RegistryData* previous = nullptr);

  AppPtr find(const AppKey& key) const;
  // Replaces an app's instances (sorted by zone, hostname); none removes the app. Returns
  // false, keeping the current copy, when they are equal to what is there.
  bool set(const AppKey& key, AppInstances instances);

  static std::size_t shard_of(const AppKey& key);
  // Null when empty; apps in a shard are sorted by key.
  const Apps* shard(std::size_t i) const { return shards_.shard(i); }
  bool shares_shard(const RegistryData& other, std::size_t i) const {
    return shards_.shares(other.shards_, i);
  }
  // Every app, in no particular order: f(const AppKey&, const AppInstances&).
  template <class F>
  void for_each_app(F&& f) const {
    shards_.for_each_shard([&](const Apps& apps) {
      for (const auto& [key, app] : apps)
        f(key, *app.instances);
    });
  }
  // Every app, in (appid, env) order.
  std::vector<std::pair<const AppKey*, const AppInstances*>> sorted() const;
  // Every instance, sorted by (appid, env, zone, hostname): for files and tests.
  InstanceList flatten() const;

  std::size_t apps() const { return apps_; }
  std::size_t instances() const { return instances_; }

  // Counts of records the decoder had to skip, for logs and metrics.
  std::uint64_t skipped_instances = 0;
  std::uint64_t skipped_addrs = 0;

  friend bool operator==(const RegistryData& a, const RegistryData& b);

 private:
  common::CowShards<Apps, kShards> shards_;
  std::size_t apps_ = 0;
  std::size_t instances_ = 0;
};

}  // namespace discodns::registry
