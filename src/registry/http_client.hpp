// HttpClient: libcurl's multi interface driven by one thread (the registry thread). Every
// transfer has a connect timeout, a total timeout and a body-size cap, and all bodies being
// received share one budget (kMaxBufferedTotal), so a slow, stalled, endless or huge registry
// can never hold the thread or more than that much memory. Connections are kept alive and
// reused between requests to the same node.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "registry/transport.hpp"

namespace discodns::registry {

class HttpClient final : public Transport {
 public:
  // Bytes of answers being received by all transfers together; one that would go past it is
  // aborted ("answers in flight exceed …").
  static constexpr std::size_t kMaxBufferedTotal = 128u << 20;

  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Transport (see registry/transport.hpp).
  std::uint64_t submit(HttpRequest request, Callback done) override;
  void cancel(std::uint64_t id) override;
  void poll(std::chrono::milliseconds wait) override;
  void wakeup() override;
  void cancel_all() override;
  std::size_t in_flight() const { return transfers_.size(); }

 private:
  struct Transfer;
  void* multi_;
  std::uint64_t next_id_ = 1;
  std::size_t buffered_ = 0;  // bodies held by transfers in flight
  std::map<void*, std::unique_ptr<Transfer>> transfers_;
};

}  // namespace discodns::registry
