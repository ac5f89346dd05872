#include "admin/http_server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <thread>

#include "common/guarded_loop.hpp"
#include "common/thread_priority.hpp"

namespace discodns::admin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr std::chrono::milliseconds kAcceptRetry{100};

// One connection: read a request, answer it, repeat while the client keeps it alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Handlers& handlers)
      : stream_(std::move(socket)), handlers_(handlers) {}

  void start() { read(); }

 private:
  void read() {
    request_ = {};
    stream_.expires_after(kRequestTimeout);  // slow or silent clients are cut off
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec) self->respond();
                     });
  }

  void respond() {
    auto response = std::make_shared<http::response<http::string_body>>();
    response->version(request_.version());
    response->keep_alive(request_.keep_alive());
    response->set(http::field::server, "discodns");
    // The catch boundary of a request: a handler that throws answers 500, and this
    // connection and the server go on.
    try {
      route(*response);
    } catch (const std::exception& e) {
      common::note_background_error(common::BackgroundThread::kAdmin, e.what());
      reply(*response, http::status::internal_server_error, "text/plain",
            "internal error (logged)\n");
    }
    if (request_.method() == http::verb::head) response->body().clear();
    write(std::move(response));
  }

  void route(http::response<http::string_body>& response) {
    std::string target(request_.target());
    std::string path = target.substr(0, target.find('?'));
    if (request_.method() != http::verb::get && request_.method() != http::verb::head) {
      reply(response, http::status::method_not_allowed, "text/plain", "method not allowed\n");
    } else if (path == "/metrics") {
      reply(response, http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
            handlers_.metrics ? handlers_.metrics() : "");
    } else if (path == "/healthz") {
      reply(response, http::status::ok, "text/plain", "ok\n");
    } else if (path == "/readyz") {
      std::string why;
      bool ready = handlers_.ready && handlers_.ready(why);
      reply(response, ready ? http::status::ok : http::status::service_unavailable, "text/plain",
            (ready ? "ready: " : "not ready: ") + why + "\n");
    } else if (path == "/debug/registry") {
      reply(response, http::status::ok, "application/json",
            handlers_.registry_view ? handlers_.registry_view() : "{}");
    } else {
      reply(response, http::status::not_found, "text/plain", "not found\n");
    }
  }

  void write(std::shared_ptr<http::response<http::string_body>> response) {
    stream_.expires_after(kRequestTimeout);
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (response->keep_alive()) {
                          self->read();
                        } else {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                        }
                      });
  }

  static void reply(http::response<http::string_body>& r, http::status status,
                    const char* content_type, std::string body) {
    r.result(status);
    r.set(http::field::content_type, content_type);
    r.body() = std::move(body);
    r.prepare_payload();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  const Handlers& handlers_;
};

}  // namespace

struct HttpServer::Impl {
  Impl(const std::string& host, std::uint16_t port, Handlers h)
      : handlers(std::move(h)), acceptor(io) {
    beast::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) throw std::runtime_error("admin listen address " + host + ": " + ec.message());
    tcp::endpoint endpoint(address, port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint, ec);
    if (ec) {
      throw std::runtime_error("admin listen " + host + ":" + std::to_string(port) + ": " +
                               ec.message());
    }
    acceptor.listen();
  }

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) return back_off(ec);
      backing_off = false;
      try {
        std::make_shared<Session>(std::move(socket), handlers)->start();
      } catch (const std::exception& e) {  // this connection is lost, the next one is not
        common::note_background_error(common::BackgroundThread::kAdmin, e.what());
      }
      accept();
    });
  }

  // EMFILE, ENFILE, ENOBUFS, ENOMEM...: the connection stays queued, so accepting again at
  // once would spin a core. Pause, count, warn once per run of failures.
  void back_off(const beast::error_code& ec) {
    backoffs.fetch_add(1, std::memory_order_relaxed);
    if (!backing_off)
      spdlog::warn("admin accept: {}; pausing accepts 100 ms at a time", ec.message());
    backing_off = true;
    retry.expires_after(kAcceptRetry);
    retry.async_wait([this](const beast::error_code& e) {
      if (!e) accept();
    });
  }

  // The admin thread: a handler exception that escapes every boundary above is counted and
  // the loop runs on (Asio allows run() again after a handler threw).
  void run() {
    for (;;) {
      bool done = false;
      common::guarded_pass(
          common::BackgroundThread::kAdmin,
          [this, &done] {
            io.run();
            done = true;
          },
          kAcceptRetry);
      if (done) return;
    }
  }

  Handlers handlers;
  asio::io_context io{1};
  tcp::acceptor acceptor;
  asio::steady_timer retry{io};
  bool backing_off = false;
  std::atomic<std::uint64_t> backoffs{0};
  std::thread thread;
};

HttpServer::HttpServer(const std::string& host, std::uint16_t port, Handlers handlers)
    : impl_(std::make_unique<Impl>(host, port, std::move(handlers))) {}

HttpServer::~HttpServer() {
  stop();
}

std::uint64_t HttpServer::accept_backoffs() const {
  return impl_->backoffs.load(std::memory_order_relaxed);
}

std::uint16_t HttpServer::port() const {
  return impl_->acceptor.local_endpoint().port();
}

void HttpServer::start() {
  impl_->accept();
  impl_->thread = std::thread([this] {
    common::name_current_thread("dd-admin");
    impl_->run();
  });
}

void HttpServer::stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->retry.cancel();
    impl_->acceptor.close(ignored);
    impl_->io.stop();
  });
  impl_->thread.join();
}

}  // namespace discodns::admin
