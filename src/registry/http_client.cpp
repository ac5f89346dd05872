#include "registry/http_client.hpp"

#include <curl/curl.h>

#include <mutex>
#include <stdexcept>

namespace discodns::registry {

struct HttpClient::Transfer {
  CURL* easy = nullptr;
  std::uint64_t id = 0;
  curl_slist* headers = nullptr;
  std::size_t max_body = 0;
  bool too_large = false;
  // The client's budget across every transfer: a cap per answer alone would let many long
  // polls answering at once hold max_body each.
  std::size_t* buffered_total = nullptr;
  std::size_t max_total = 0;
  std::size_t counted = 0;  // this transfer's share of *buffered_total
  bool over_budget = false;
  HttpResponse response;
  Callback done;
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    *buffered_total -= counted;
    if (headers != nullptr) curl_slist_free_all(headers);
    if (easy != nullptr) curl_easy_cleanup(easy);
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* self) {
    auto* t = static_cast<Transfer*>(self);
    std::size_t n = size * count;
    if (t->response.body.size() + n > t->max_body) {
      t->too_large = true;
      return 0;  // aborts the transfer: an endless or huge body never fills memory
    }
    if (*t->buffered_total + n > t->max_total) {
      t->over_budget = true;
      return 0;
    }
    t->response.body.append(data, n);
    t->counted += n;
    *t->buffered_total += n;
    return n;
  }
};

namespace {
void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}
}  // namespace

HttpClient::HttpClient() {
  global_init();
  multi_ = curl_multi_init();
  if (multi_ == nullptr) throw std::runtime_error("curl_multi_init failed");
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 16L);
}

HttpClient::~HttpClient() {
  cancel_all();
  curl_multi_cleanup(multi_);
}

std::uint64_t HttpClient::submit(HttpRequest request, Callback done) {
  auto t = std::make_unique<Transfer>();
  t->id = next_id_++;
  t->easy = curl_easy_init();
  t->max_body = request.max_body;
  t->buffered_total = &buffered_;
  t->max_total = kMaxBufferedTotal;
  t->done = std::move(done);
  for (const auto& h : request.headers)
    t->headers = curl_slist_append(t->headers, h.c_str());
  CURL* e = t->easy;
  // curl copies a URL's path and query a byte at a time, several times per request; a poll
  // for 64 apps carries a ~3.6 KB query, which cost ~20 % of the registry thread's time per
  // change. Given only the origin as the URL and the rest as the request target, it copies
  // the target once.
  // The target is in origin form, so no proxy may be in between: discodns talks to discovery
  // nodes directly whatever http_proxy says.
  auto scheme_end = request.url.find("://");
  auto path = scheme_end == std::string::npos ? scheme_end : request.url.find('/', scheme_end + 3);
  if (path != std::string::npos) {
    curl_easy_setopt(e, CURLOPT_REQUEST_TARGET, request.url.substr(path).c_str());  // copied
    request.url.resize(path + 1);
  }
  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROXY, "");
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "discodns");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  curl_multi_add_handle(multi_, e);
  std::uint64_t id = t->id;
  transfers_.emplace(e, std::move(t));
  return id;
}

void HttpClient::cancel(std::uint64_t id) {
  for (auto it = transfers_.begin(); it != transfers_.end(); ++it) {
    if (it->second->id == id) {
      curl_multi_remove_handle(multi_, it->second->easy);
      transfers_.erase(it);
      return;
    }
  }
}

void HttpClient::poll(std::chrono::milliseconds wait) {
  int running = 0;
  curl_multi_perform(multi_, &running);
  curl_multi_poll(multi_, nullptr, 0, static_cast<int>(wait.count()), nullptr);
  curl_multi_perform(multi_, &running);
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    auto it = transfers_.find(msg->easy_handle);
    if (it == transfers_.end()) continue;
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_, t->easy);
    HttpResponse& r = t->response;
    CURLcode code = msg->data.result;
    r.transport_ok = code == CURLE_OK;
    r.connect_failed = code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST;
    if (!r.transport_ok) {
      r.error = t->too_large     ? "answer larger than " + std::to_string(t->max_body) + " bytes"
                : t->over_budget ? "answers in flight exceed " + std::to_string(kMaxBufferedTotal) +
                                       " bytes together"
                                 : (t->error[0] != 0 ? t->error : curl_easy_strerror(code));
      r.body.clear();
    }
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &r.seconds);
    Callback done = std::move(t->done);
    HttpResponse response = std::move(r);
    t.reset();
    done(std::move(response));
  }
}

void HttpClient::wakeup() {
  curl_multi_wakeup(multi_);
}

void HttpClient::cancel_all() {
  for (auto& [easy, t] : transfers_)
    curl_multi_remove_handle(multi_, t->easy);
  transfers_.clear();
}

}  // namespace discodns::registry
