#include "registry/node_set.hpp"

#include <algorithm>

namespace discodns::registry {

std::chrono::milliseconds backoff_for(int failures, std::chrono::milliseconds base,
                                      std::chrono::milliseconds max) {
  return std::min<std::chrono::milliseconds>(max, base * (1L << std::clamp(failures - 1, 0, 20)));
}

NodeSet::NodeSet(const std::vector<std::string>& seeds, std::uint64_t random_seed)
    : rng_(random_seed) {
  for (const auto& addr : seeds)
    nodes_.push_back({addr, true});
  // Spread processes over the seeds.
  current_ = nodes_.empty() ? 0 : static_cast<std::size_t>(rng_() % nodes_.size());
}

NodeSet::Millis NodeSet::failed(Time now) {
  Node& node = nodes_[current_];
  ++node.failures;
  Millis backoff = backoff_for(node.failures, kBackoffBase, kBackoffMax);
  // Jitter: never in lock step with other clients, never longer than the cap.
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  node.backoff_until = now + Millis(static_cast<long>(backoff.count() * jitter(rng_)));
  std::size_t best = current_;
  for (std::size_t i = 1; i <= nodes_.size(); ++i) {
    std::size_t candidate = (current_ + i) % nodes_.size();
    if (nodes_[candidate].backoff_until < nodes_[best].backoff_until) best = candidate;
  }
  current_ = best;
  return backoff;
}

bool NodeSet::listed(const std::vector<std::string>& addrs) {
  for (Node& node : nodes_) {
    bool present = std::find(addrs.begin(), addrs.end(), node.addr) != addrs.end();
    node.missing = present ? 0 : node.missing + 1;
  }
  for (const auto& addr : addrs) {
    bool known =
        std::any_of(nodes_.begin(), nodes_.end(), [&](const Node& n) { return n.addr == addr; });
    if (!known) nodes_.push_back({addr, false});
  }
  const std::string in_use = nodes_[current_].addr;
  std::erase_if(nodes_, [](const Node& n) { return !n.seed && n.missing >= kForgetAfter; });
  auto it =
      std::find_if(nodes_.begin(), nodes_.end(), [&](const Node& n) { return n.addr == in_use; });
  if (it != nodes_.end()) {
    current_ = static_cast<std::size_t>(it - nodes_.begin());
    return false;
  }
  current_ = 0;  // seeds are never forgotten, so there is one
  return true;
}

std::vector<std::string> NodeSet::addresses() const {
  std::vector<std::string> out;
  for (const Node& n : nodes_)
    out.push_back(n.addr);
  return out;
}

}  // namespace discodns::registry
