// Admin HTTP (Boost.Beast) on its own thread and its own listen address: /metrics,
// /healthz, /readyz, /debug/registry. It only reads: every handler is a callback given by the
// daemon, run on the admin thread; one that throws answers 500 (logged, counted in
// discodns_background_errors_total{thread="admin"}) and the server goes on.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace discodns::admin {

struct Handlers {
  std::function<std::string()> metrics;        // Prometheus text
  std::function<bool(std::string&)> ready;     // true = ready; the string says why (not)
  std::function<std::string()> registry_view;  // JSON, read-only
};

class HttpServer {
 public:
  // Binds now (throws std::runtime_error with the reason); serves after start().
  HttpServer(const std::string& host, std::uint16_t port, Handlers handlers);
  ~HttpServer();
  std::uint16_t port() const;
  // Accept errors (out of descriptors or memory) that paused accepting for 100 ms.
  std::uint64_t accept_backoffs() const;
  void start();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace discodns::admin
