// DiscoverySource's thread (issue 13): an exception in a pass of its loop is caught, counted
// and survived, and data the sink did not take is delivered again on the next pass.
#include "registry/discovery_source.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "common/guarded_loop.hpp"

namespace discodns::registry {
namespace {

using std::chrono::milliseconds;

// Answers fetch/all at once with one app, fails /nodes, and keeps polls pending (a long poll
// that never returns). Thread-safe: the source's thread calls it.
class OneAppTransport final : public Transport {
 public:
  std::uint64_t submit(HttpRequest request, Callback done) override {
    std::lock_guard lock(mutex_);
    HttpResponse r;
    if (request.url.find("/fetch/all") != std::string::npos) {
      r.transport_ok = true;
      r.status = 200;
      r.body = R"({"code":0,"message":"0","ttl":1,"data":{"a":[{"region":"china","zone":"gd",)"
               R"("env":"dev","appid":"a","hostname":"h1","addrs":["grpc://10.0.0.1:9000"],)"
               R"("version":"","metadata":{},"status":1,"reg_timestamp":1,"up_timestamp":1,)"
               R"("renew_timestamp":1800000000000000000,"dirty_timestamp":1,)"
               R"("latest_timestamp":5}]}})";
    } else if (request.url.find("/polls") != std::string::npos) {
      return next_id_++;  // parked, as a long poll is
    } else {
      r.error = "Couldn't connect to server";
      r.connect_failed = true;
    }
    ready_.emplace_back(std::move(done), std::move(r));
    return next_id_++;
  }
  void cancel(std::uint64_t) override {}
  void poll(milliseconds wait) override {
    std::vector<std::pair<Callback, HttpResponse>> ready;
    {
      std::lock_guard lock(mutex_);
      ready.swap(ready_);
    }
    if (ready.empty()) std::this_thread::sleep_for(std::min(wait, milliseconds(5)));
    for (auto& [done, response] : ready)
      done(std::move(response));
  }
  void wakeup() override {}
  void cancel_all() override {
    std::lock_guard lock(mutex_);
    ready_.clear();
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<Callback, HttpResponse>> ready_;
  std::uint64_t next_id_ = 1;
};

TEST(DiscoverySource, ASinkThatThrowsDoesNotEndTheLoopAndTheDataIsDeliveredAgain) {
  config::RegistrySource config;
  config.region = "china";
  config.kind = config::SourceKind::kDiscovery;
  config.nodes = {"n1:7171"};
  std::atomic<int> calls{0};
  std::atomic<std::size_t> instances{0};
  auto errors_before = common::background_errors(common::BackgroundThread::kRegistry);
  common::SystemClock clock;
  DiscoverySource source(
      config, MirrorOptions{}, clock,
      [&](std::shared_ptr<const RegistryData> data, const SourceHealth&) {
        if (calls.fetch_add(1) == 0) throw std::runtime_error("test: the sink failed");
        instances.store(data->instances());
      },
      std::make_unique<OneAppTransport>());
  source.start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (instances.load() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(instances.load(), 1u) << "the data the sink refused never came again";
  EXPECT_GE(calls.load(), 2);
  EXPECT_EQ(common::background_errors(common::BackgroundThread::kRegistry), errors_before + 1);
  // The loop goes on beating while its poll is parked.
  auto beats = source.heartbeat().count();
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_GT(source.heartbeat().count(), beats);
  source.stop();
}

}  // namespace
}  // namespace discodns::registry
