// DiscoveryClient over a scripted transport: what it asks for, and what a failure of each
// kind of request costs (issue 12: defects 4, 6 and 8).
#include "registry/discovery_client.hpp"
#include "registry/discovery_source.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace discodns::registry {
namespace {

using std::chrono::milliseconds;
const DiscoveryClient::Time kT0{std::chrono::hours(1)};
constexpr common::Nanos kWall = 1'800'000'000LL * common::kNanosPerSecond;

// Requests are kept until the test answers them; answers run in poll(), as with curl.
class FakeTransport final : public Transport {
 public:
  struct Pending {
    std::uint64_t id;
    HttpRequest request;
    Callback done;
  };
  std::uint64_t submit(HttpRequest request, Callback done) override {
    pending.push_back({next_id, std::move(request), std::move(done)});
    return next_id++;
  }
  void cancel(std::uint64_t id) override {
    std::erase_if(pending, [&](const Pending& p) { return p.id == id; });
  }
  void poll(milliseconds) override {
    auto ready = std::move(answers);
    answers.clear();
    for (auto& [done, response] : ready)
      done(std::move(response));
  }
  void wakeup() override {}
  void cancel_all() override { pending.clear(); }

  // Answers the first pending request whose URL contains `part`.
  bool answer(const std::string& part, HttpResponse response) {
    for (auto it = pending.begin(); it != pending.end(); ++it) {
      if (it->request.url.find(part) == std::string::npos) continue;
      answers.emplace_back(std::move(it->done), std::move(response));
      pending.erase(it);
      return true;
    }
    return false;
  }
  int count(const std::string& part) const {
    return static_cast<int>(std::count_if(pending.begin(), pending.end(), [&](const auto& p) {
      return p.request.url.find(part) != std::string::npos;
    }));
  }
  std::string url(const std::string& part) const {
    for (const auto& p : pending)
      if (p.request.url.find(part) != std::string::npos) return p.request.url;
    return "";
  }

  std::deque<Pending> pending;
  std::vector<std::pair<Callback, HttpResponse>> answers;
  std::uint64_t next_id = 1;
};

HttpResponse ok(std::string body) {
  HttpResponse r;
  r.transport_ok = true;
  r.status = 200;
  r.body = std::move(body);
  return r;
}

HttpResponse broken(bool connect_failed) {
  HttpResponse r;
  r.transport_ok = false;
  r.connect_failed = connect_failed;
  r.error = connect_failed ? "Couldn't connect to server" : "Operation timed out";
  return r;
}

std::string instance_json(const std::string& appid, const std::string& host, int status = 1) {
  return R"({"region":"china","zone":"gd","env":"dev","appid":")" + appid + R"(","hostname":")" +
         host + R"(","addrs":["grpc://10.0.0.1:9000"],"version":"","metadata":{},"status":)" +
         std::to_string(status) +
         R"(,"reg_timestamp":1,"up_timestamp":1,"renew_timestamp":1800000000000000000,)"
         R"("dirty_timestamp":1,"latest_timestamp":5})";
}

std::string fetch_all(const std::string& appids_json) {
  return R"({"code":0,"message":"0","ttl":1,"data":{)" + appids_json + "}}";
}

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() : wall_(kWall) {
    config_.region = "china";
    config_.kind = config::SourceKind::kDiscovery;
    config_.nodes = {"n1:7171", "n2:7171"};
    config_.miss_fetches_per_second = 1;
  }
  DiscoveryClient& client() {
    if (!client_)
      client_ = std::make_unique<DiscoveryClient>(config_, MirrorOptions{}, transport_, wall_, 1,
                                                  "discodns-test-0000000000000001");
    return *client_;
  }
  // Starts: fetch/all answered with app "a", and its poll sent.
  void start() {
    client().step(now_, milliseconds(0));
    ASSERT_TRUE(transport_.answer("/fetch/all",
                                  ok(fetch_all(R"("a":[)" + instance_json("a", "h1") + "]"))));
    transport_.answer("/nodes", broken(false));
    client().step(now_, milliseconds(0));
    client().step(now_, milliseconds(0));
    ASSERT_EQ(transport_.count("/discovery/polls"), 1);
  }

  config::RegistrySource config_;
  FakeTransport transport_;
  common::ManualClock wall_;
  DiscoveryClient::Time now_ = kT0;
  std::unique_ptr<DiscoveryClient> client_;
};

TEST_F(ClientTest, PollsCarryTheProcessIdentityAndASerial) {
  start();
  std::string url = transport_.url("/discovery/polls");
  EXPECT_NE(url.find("hostname=discodns-test-0000000000000001-"), std::string::npos) << url;
  // Two processes never share a poll hostname, even as pid 1 in twin containers (defect 4).
  EXPECT_NE(make_poll_identity(1), make_poll_identity(2));
  EXPECT_EQ(make_poll_identity(1).rfind("discodns-", 0), 0u);
}

// Defect 8: one failed poll is retried alone; the node and every position stay.
TEST_F(ClientTest, AFailedPollIsRetriedAloneOnTheSameNode) {
  start();
  std::string node = client().health(now_).node;
  ASSERT_TRUE(transport_.answer("/discovery/polls", broken(false)));
  client().step(now_, milliseconds(0));
  EXPECT_EQ(client().health(now_).node, node);
  EXPECT_EQ(client().health(now_).failures, 0u);
  EXPECT_EQ(client().health(now_).poll_retries, 1u);
  EXPECT_EQ(transport_.count("/fetch/all"), 0);        // no resync
  EXPECT_EQ(transport_.count("/discovery/polls"), 0);  // backing off
  now_ += milliseconds(1500);
  client().step(now_, milliseconds(0));
  EXPECT_EQ(transport_.count("/discovery/polls"), 1);
}

TEST_F(ClientTest, ANodeThatCannotBeReachedIsGivenUp) {
  start();
  std::string node = client().health(now_).node;
  ASSERT_TRUE(transport_.answer("/discovery/polls", broken(true)));
  client().step(now_, milliseconds(0));
  EXPECT_NE(client().health(now_).node, node);
  EXPECT_EQ(client().health(now_).node_switches, 1u);
  client().step(now_, milliseconds(0));
  EXPECT_EQ(transport_.count("/fetch/all"), 1);  // positions are per node: resync
}

TEST_F(ClientTest, PollsFailingInARowGiveUpTheNode) {
  start();
  std::string node = client().health(now_).node;
  for (int i = 0; i < DiscoveryClient::kPollFailuresPerNode; ++i) {
    ASSERT_TRUE(transport_.answer("/discovery/polls", ok("not json")));
    client().step(now_, milliseconds(0));
    now_ += milliseconds(20'000);
    client().step(now_, milliseconds(0));
  }
  EXPECT_NE(client().health(now_).node, node);
  EXPECT_EQ(client().health(now_).failures, 1u);
}

// Defect 6: a name a query missed is fetched at once, rate-limited and not twice.
TEST_F(ClientTest, MissesAreFetchedRateLimitedAndRemembered) {
  start();
  client().take_changed();
  client().want({{"new", "dev"}, {"x.new", "dev"}}, now_);
  client().step(now_, milliseconds(0));
  std::string url = transport_.url("/discovery/fetchs");
  EXPECT_NE(url.find("env=dev&status=3&appid=new&appid=x.new"), std::string::npos) << url;
  ASSERT_TRUE(
      transport_.answer("/discovery/fetchs",
                        ok(R"({"code":0,"message":"0","ttl":1,"data":{"new":{"instances":{"gd":[)" +
                           instance_json("new", "n1") + R"(]},"latest_timestamp":9}}})")));
  client().step(now_, milliseconds(0));
  auto data = client().take_changed();
  ASSERT_NE(data, nullptr);
  EXPECT_NE(data->find({"new", "dev"}), nullptr);
  // Known now: not fetched again; another unknown app within the same second: over the rate.
  client().want({{"new", "dev"}}, now_);
  client().want({{"other", "dev"}}, now_);
  client().step(now_, milliseconds(0));
  EXPECT_EQ(transport_.count("/discovery/fetchs"), 0);
  EXPECT_EQ(client().health(now_).misses_dropped, 1u);
  EXPECT_EQ(client().health(now_).miss_fetches, 1u);
  // The new app is polled too.
  EXPECT_NE(transport_.url("/discovery/polls").find("appid=new"), std::string::npos);
}

// Defect 5: an instance a poll drops without a version change (a /set) is confirmed by fetch.
TEST_F(ClientTest, AnInstanceLeavingThePollViewIsConfirmedByFetch) {
  start();
  // First poll answer: position 5 for "a".
  ASSERT_TRUE(transport_.answer("/discovery/polls",
                                ok(R"({"code":0,"message":"0","data":{"a":{"instances":{"gd":[)" +
                                   instance_json("a", "h1") + R"(]},"latest_timestamp":5}}})")));
  client().step(now_, milliseconds(0));
  client().step(now_, milliseconds(0));
  // A /set to WAITING wakes the poll with the same latest_timestamp and without h1.
  ASSERT_TRUE(transport_.answer(
      "/discovery/polls",
      ok(R"({"code":0,"message":"0","data":{"a":{"instances":{"gd":[]},"latest_timestamp":5}}})")));
  client().step(now_, milliseconds(0));
  auto data = client().take_changed();
  ASSERT_NE(data, nullptr);
  auto app = data->find({"a", "dev"});
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->front().status, Status::kWaiting);
  client().step(now_, milliseconds(0));
  EXPECT_NE(transport_.url("/discovery/fetchs").find("appid=a"), std::string::npos);
}

TEST(MissCandidates, EverySuffixOfTheAppidLabels) {
  auto wire = [](std::vector<std::string> labels) {
    std::string out;
    for (const auto& l : labels)
      out += static_cast<char>(l.size()) + l;
    return out;
  };
  auto keys = miss_candidates(wire({"_grpc", "_tcp", "goim", "comet", "dev", "gd"}));
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].appid, "comet");
  EXPECT_EQ(keys[1].appid, "goim.comet");
  EXPECT_EQ(keys[1].env, "dev");
  EXPECT_EQ(miss_candidates(wire({"h1", "goim", "comet", "dev", "gd"})).size(), 3u);
  EXPECT_TRUE(miss_candidates(wire({"dev", "gd"})).empty());
  EXPECT_TRUE(miss_candidates(std::string("\x05"
                                          "ab",
                                          3))
                  .empty());  // broken wire name
}

}  // namespace
}  // namespace discodns::registry
