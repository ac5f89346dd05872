// HttpClient: libcurl's multi interface driven by one thread (the registry thread). Every
// transfer has a connect timeout, a total timeout and a body-size cap, and all bodies being
// received share one budget (kMaxBufferedTotal), so a slow, stalled, endless or huge registry
// can never hold the thread or more than that much memory. Connections are kept alive and
// reused between requests to the same node.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
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
  bool transport_ok = false;  // false: connect/timeout/reset/too large; see `error`
  long status = 0;            // HTTP status when transport_ok
  std::string body;
  std::string error;   // curl's reason when !transport_ok
  double seconds = 0;  // total time of the transfer
};

class HttpClient {
 public:
  // Bytes of answers being received by all transfers together; one that would go past it is
  // aborted ("answers in flight exceed …").
  static constexpr std::size_t kMaxBufferedTotal = 128u << 20;

  using Callback = std::function<void(HttpResponse)>;

  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts a transfer; `done` runs later on the thread that calls poll(). Returns an id for
  // cancel().
  std::uint64_t submit(HttpRequest request, Callback done);
  // Aborts one transfer without running its callback; unknown ids are ignored.
  void cancel(std::uint64_t id);
  // Drives transfers, waiting at most `wait` for activity; runs callbacks of finished ones.
  void poll(std::chrono::milliseconds wait);
  // Makes a poll() that is waiting return early. Any thread.
  void wakeup();
  // Aborts every transfer without running its callback.
  void cancel_all();
  std::size_t in_flight() const { return transfers_.size(); }

 private:
  struct Transfer;
  void* multi_;
  std::uint64_t next_id_ = 1;
  std::size_t buffered_ = 0;  // bodies held by transfers in flight
  std::map<void*, std::unique_ptr<Transfer>> transfers_;
};

}  // namespace discodns::registry
