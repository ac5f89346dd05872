// The optional sampled query log ([log] query_sample = N): one info line for one query in N,
// so an operator can see what clients ask without paying a log line per query. The sampler is
// a countdown per worker (no shared state); only a sampled query is parsed again and
// formatted, so the unsampled path stays allocation-free.
#pragma once

#include <cstdint>
#include <span>

#include "query/engine.hpp"

namespace discodns::server {

class QuerySampler {
 public:
  explicit QuerySampler(unsigned every = 0) : every_(every), countdown_(every) {}
  bool hit() noexcept {
    if (every_ == 0 || --countdown_ != 0) return false;
    countdown_ = every_;
    return true;
  }

 private:
  unsigned every_;
  unsigned countdown_;
};

// "query udp 192.0.2.1 goim.comet.dev.gd.china.example.com. A NOERROR 86B" (+ " TC").
void log_query(query::Transport transport, std::span<const std::uint8_t> client_address,
               std::span<const std::uint8_t> message, const query::Outcome& outcome);

}  // namespace discodns::server
