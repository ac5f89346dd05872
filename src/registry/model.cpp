#include "registry/model.hpp"

#include "common/hash.hpp"

#include <algorithm>
#include <atomic>
#include <string_view>
#include <tuple>

namespace discodns::registry {

bool AppInstance::same_shape(const AppInstance& other) const {
  return zone == other.zone && hostname == other.hostname && status == other.status &&
         weight == other.weight && latest_ns == other.latest_ns && region == other.region &&
         version == other.version && endpoints == other.endpoints && metadata == other.metadata;
}

namespace {

auto instance_key(const Instance& i) {
  return std::tie(i.appid, i.env, i.zone, i.hostname);
}

}  // namespace

void sort_unique_instances(std::vector<Instance>& list) {
  std::stable_sort(list.begin(), list.end(), [](const Instance& a, const Instance& b) {
    return instance_key(a) < instance_key(b);
  });
  std::vector<Instance> unique;
  unique.reserve(list.size());
  for (auto& inst : list) {
    if (!unique.empty() && instance_key(unique.back()) == instance_key(inst)) {
      unique.back() = std::move(inst);
    } else {
      unique.push_back(std::move(inst));
    }
  }
  list = std::move(unique);
}

void sort_instances(AppInstances& instances) {
  std::sort(instances.begin(), instances.end(), [](const AppInstance& a, const AppInstance& b) {
    return std::tie(a.zone, a.hostname) < std::tie(b.zone, b.hostname);
  });
}

bool same_shape(const AppInstances& a, const AppInstances& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const AppInstance& x, const AppInstance& y) { return x.same_shape(y); });
}

bool same_times(const AppInstances& a, const AppInstances& b) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].renew_ns != b[i].renew_ns || a[i].observed_ns != b[i].observed_ns) return false;
  }
  return true;
}

namespace {
std::atomic<std::uint64_t> last_shape{0};  // StoredApp::shape: process-wide, never reused
}  // namespace

RegistryData RegistryData::from(InstanceList list, const RegistryData* previous) {
  RegistryData data;
  if (previous != nullptr) data = *previous;  // shares every shard until set() writes one
  data.skipped_instances = list.skipped_instances;
  data.skipped_addrs = list.skipped_addrs;
  auto& all = list.instances;
  sort_unique_instances(all);
  // Apps of `previous` that the list no longer has.
  std::vector<AppKey> gone;
  if (previous != nullptr) {
    for (const auto& app : previous->sorted()) {
      const AppKey& key = *app.first;  // not a structured binding: clang 15 cannot capture one
      auto before = [&](const Instance& i) { return AppKey{i.appid, i.env} < key; };
      auto it = std::partition_point(all.begin(), all.end(), before);
      if (it == all.end() || it->appid != key.appid || it->env != key.env) gone.push_back(key);
    }
  }
  for (const auto& key : gone)
    data.set(key, {});
  for (std::size_t begin = 0; begin < all.size();) {
    std::size_t end = begin + 1;
    while (end < all.size() && all[end].appid == all[begin].appid &&
           all[end].env == all[begin].env) {
      ++end;
    }
    AppKey key{all[begin].appid, all[begin].env};
    AppInstances app(std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(begin)),
                     std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(end)));
    data.set(key, std::move(app));
    begin = end;
  }
  return data;
}

std::size_t RegistryData::shard_of(const AppKey& key) {
  // appid, a separator no appid contains, env.
  std::uint64_t h = common::Fnv1a64().add(key.appid).add_byte(0xff).add(key.env).value();
  return static_cast<std::size_t>(h >> 56) % kShards;
}

AppPtr RegistryData::find(const AppKey& key) const {
  const Apps* apps = shard(shard_of(key));
  if (apps == nullptr) return nullptr;
  auto it = apps->find(key);
  return it == apps->end() ? nullptr : it->second.instances;
}

bool RegistryData::set(const AppKey& key, AppInstances instances) {
  std::size_t i = shard_of(key);
  const Apps* current = shard(i);
  auto it = current != nullptr ? current->find(key) : Apps::const_iterator{};
  bool present = current != nullptr && it != current->end();
  const bool shape_kept = present && same_shape(*it->second.instances, instances);
  if (shape_kept && same_times(*it->second.instances, instances)) return false;
  if (!present && instances.empty()) return false;
  const std::uint64_t shape = shape_kept ? it->second.shape : ++last_shape;
  Apps& apps = shards_.writable(i);
  if (present) {
    instances_ -= apps[key].instances->size();
    --apps_;
  }
  if (instances.empty()) {
    apps.erase(key);
    return true;
  }
  instances_ += instances.size();
  ++apps_;
  apps[key] = {std::make_shared<const AppInstances>(std::move(instances)), shape};
  return true;
}

std::vector<std::pair<const AppKey*, const AppInstances*>> RegistryData::sorted() const {
  std::vector<std::pair<const AppKey*, const AppInstances*>> out;
  out.reserve(apps_);
  shards_.for_each_shard([&](const Apps& apps) {
    for (const auto& [key, app] : apps)
      out.emplace_back(&key, app.instances.get());
  });
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  return out;
}

InstanceList RegistryData::flatten() const {
  InstanceList list;
  list.skipped_instances = skipped_instances;
  list.skipped_addrs = skipped_addrs;
  list.instances.reserve(instances_);
  for (const auto& [key, instances] : sorted()) {
    for (const AppInstance& one : *instances) {
      Instance& full = list.instances.emplace_back();
      static_cast<AppInstance&>(full) = one;
      full.appid = key->appid;
      full.env = key->env;
    }
  }
  return list;
}

bool operator==(const RegistryData& a, const RegistryData& b) {
  if (a.apps_ != b.apps_ || a.instances_ != b.instances_ ||
      a.skipped_instances != b.skipped_instances || a.skipped_addrs != b.skipped_addrs) {
    return false;
  }
  for (std::size_t i = 0; i < RegistryData::kShards; ++i) {
    if (a.shares_shard(b, i)) continue;
    const RegistryData::Apps* x = a.shard(i);
    const RegistryData::Apps* y = b.shard(i);
    std::size_t nx = x ? x->size() : 0;
    std::size_t ny = y ? y->size() : 0;
    if (nx != ny) return false;
    if (nx == 0) continue;
    bool equal = std::equal(x->begin(), x->end(), y->begin(), [](const auto& p, const auto& q) {
      return p.first == q.first && (p.second.instances == q.second.instances ||
                                    *p.second.instances == *q.second.instances);
    });
    if (!equal) return false;
  }
  return true;
}

std::string endpoint_url(const Endpoint& endpoint) {
  bool v6 = endpoint.host.find(':') != std::string::npos;
  return endpoint.scheme + "://" + (v6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" +
         std::to_string(endpoint.port);
}

}  // namespace discodns::registry
