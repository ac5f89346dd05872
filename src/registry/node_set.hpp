// NodeSet: the discovery nodes of one source and which one is in use. Seeds come from the
// config, more are learned from /discovery/nodes; a learned node that recent /nodes answers
// no longer list is forgotten. A failing node backs off exponentially with jitter, and the
// node whose back-off ends first takes over. Pure: time is passed in, randomness seeded.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace discodns::registry {

class NodeSet {
 public:
  using Time = std::chrono::steady_clock::time_point;
  using Millis = std::chrono::milliseconds;
  static constexpr Millis kBackoffBase{500};
  static constexpr Millis kBackoffMax{10'000};  // a recovered registry is used again soon
  // A learned node missing from this many /nodes answers in a row is forgotten.
  static constexpr int kForgetAfter = 3;

  NodeSet(const std::vector<std::string>& seeds, std::uint64_t random_seed);

  bool empty() const { return nodes_.empty(); }
  std::size_t size() const { return nodes_.size(); }
  const std::string& current() const { return nodes_[current_].addr; }
  // The current node is not backing off.
  bool usable(Time now) const { return nodes_[current_].backoff_until <= now; }

  // The current node failed: it backs off, and the node whose back-off ends first becomes
  // current (possibly the same one, when it is the only one). Returns the back-off chosen.
  Millis failed(Time now);
  // The current node answered well: its back-off starts from the base again.
  void succeeded() { nodes_[current_].failures = 0; }
  // A /discovery/nodes answer: new addresses join; learned ones it keeps omitting are
  // forgotten (seeds never are). Returns true when the current node was forgotten (the
  // caller then treats it like a switch).
  bool listed(const std::vector<std::string>& addrs);

  std::vector<std::string> addresses() const;

 private:
  struct Node {
    std::string addr;
    bool seed = false;
    int failures = 0;
    int missing = 0;  // consecutive /nodes answers without it
    Time backoff_until{};
  };

  std::vector<Node> nodes_;
  std::size_t current_ = 0;
  std::mt19937_64 rng_;
};

// Exponential back-off: base * 2^(failures - 1), capped at max; failures >= 1.
std::chrono::milliseconds backoff_for(int failures, std::chrono::milliseconds base,
                                      std::chrono::milliseconds max);

}  // namespace discodns::registry
