// Transport: how the registry side talks HTTP, as an interface, so the discovery client can
// run against the curl client (registry/http_client) or a scripted fake in unit tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace discodns::registry {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::chrono::milliseconds timeout{10'000};
  std::chrono::milliseconds connect_timeout{2'000};
  std::size_t max_body = 64u << 20;
};

struct HttpResponse {
  bool transport_ok = false;    // false: connect/timeout/reset/too large; see `error`
  bool connect_failed = false;  // the node could not be reached at all (refused, no route)
  long status = 0;              // HTTP status when transport_ok
  std::string body;
  std::string error;   // the reason when !transport_ok
  double seconds = 0;  // total time of the transfer
};

class Transport {
 public:
  using Callback = std::function<void(HttpResponse)>;

  virtual ~Transport() = default;
  // Starts a transfer; `done` runs later on the thread that calls poll(). Returns an id for
  // cancel().
  virtual std::uint64_t submit(HttpRequest request, Callback done) = 0;
  // Aborts one transfer without running its callback; unknown ids are ignored.
  virtual void cancel(std::uint64_t id) = 0;
  // Drives transfers, waiting at most `wait` for activity; runs callbacks of finished ones.
  virtual void poll(std::chrono::milliseconds wait) = 0;
  // Makes a poll() that is waiting return early. Any thread.
  virtual void wakeup() = 0;
  // Aborts every transfer without running its callback.
  virtual void cancel_all() = 0;
};

}  // namespace discodns::registry
