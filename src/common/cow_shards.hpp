// CowShards: a map split into a fixed number of shards that copies share until one of them
// writes. Copying the whole thing costs N pointer copies; a write copies only the shard it
// touches. That is how a change to one app costs one app, not the whole registry, on the
// registry side (registry::RegistryData) and in the snapshot (catalog::Snapshot).
//
// One writer thread per object, which writes in place only the shards it created itself since
// the object was last copied; any other shard is copied first. Ownership is tracked with flags
// rather than shared_ptr::use_count, whose relaxed read would not order another thread's
// last reads of a shard before our writes. Copying an object clears the flags of both (the
// source's are `mutable`: they belong to the writer thread, and readers never look at them).
#pragma once

#include <array>
#include <cstddef>
#include <memory>

namespace discodns::common {

template <class Map, std::size_t N>
class CowShards {
 public:
  static constexpr std::size_t kShards = N;

  CowShards() = default;
  CowShards(const CowShards& other) : shards_(other.shards_) { other.owned_.fill(false); }
  CowShards& operator=(const CowShards& other) {
    shards_ = other.shards_;
    owned_.fill(false);
    other.owned_.fill(false);
    return *this;
  }

  // Null when the shard is empty.
  const Map* shard(std::size_t i) const { return shards_[i].get(); }
  // Whether shard i is the very same (shared) object in both: then its content is equal.
  bool shares(const CowShards& other, std::size_t i) const {
    return shards_[i] == other.shards_[i];
  }
  // Shard i, ready to be written (copied first unless this object made it).
  Map& writable(std::size_t i) {
    auto& s = shards_[i];
    if (!owned_[i]) {
      s = s ? std::make_shared<Map>(*s) : std::make_shared<Map>();
      owned_[i] = true;
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
  mutable std::array<bool, N> owned_{};
};

}  // namespace discodns::common
