// CowShards: a map split into a fixed number of shards that copies share until one of them
// writes. Copying the whole thing costs N pointer copies; a write copies only the shard it
// touches. That is how a change to one app costs one app, not the whole registry, on the
// registry side (registry::RegistryData) and in the snapshot (catalog::Snapshot).
//
// One writer per object. An object whose shard is also held by another object (use_count > 1)
// copies it before writing, so objects published to other threads are never written to.
#pragma once

#include <array>
#include <cstddef>
#include <memory>

namespace discodns::common {

template <class Map, std::size_t N>
class CowShards {
 public:
  static constexpr std::size_t kShards = N;

  // Null when the shard is empty.
  const Map* shard(std::size_t i) const { return shards_[i].get(); }
  // Whether shard i is the very same (shared) object in both: then its content is equal.
  bool shares(const CowShards& other, std::size_t i) const {
    return shards_[i] == other.shards_[i];
  }
  // Shard i, ready to be written (copied first when another object holds it too).
  Map& writable(std::size_t i) {
    auto& s = shards_[i];
    if (!s) {
      s = std::make_shared<Map>();
    } else if (s.use_count() > 1) {
      s = std::make_shared<Map>(*s);
    }
    return *s;
  }

  template <class F>
  void for_each_shard(F&& f) const {
    for (const auto& s : shards_) {
      if (s) f(*s);
    }
  }

 private:
  std::array<std::shared_ptr<Map>, N> shards_;
};

}  // namespace discodns::common
