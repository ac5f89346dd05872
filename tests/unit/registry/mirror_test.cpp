// Mirror: the merge rules of the registry mirror, event by event on a manual clock. Each test
// names the defect of issue 12 it pins down.
#include "registry/mirror.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace discodns::registry {
namespace {

constexpr common::Nanos kS = common::kNanosPerSecond;
constexpr common::Nanos kT0 = 1'800'000'000 * kS;

Instance inst(std::string appid, std::string host, Status status = Status::kUp,
              common::Nanos renew = kT0) {
  Instance i;
  i.appid = std::move(appid);
  i.env = "dev";
  i.zone = "gd";
  i.hostname = std::move(host);
  i.status = status;
  i.renew_ns = renew;
  i.endpoints = {{"grpc", "10.0.0.1", 9000}};
  return i;
}

InstanceList list(std::vector<Instance> instances) {
  InstanceList l;
  l.instances = std::move(instances);
  return l;
}

PollsAnswer poll_answer(const std::string& appid, std::int64_t latest,
                        std::vector<Instance> instances) {
  PollsAnswer a;
  a.latest[appid] = latest;
  a.data = list(std::move(instances));
  return a;
}

std::vector<std::string> hosts(const Mirror& m, const std::string& appid) {
  std::vector<std::string> out;
  if (AppPtr app = m.data().find({appid, "dev"})) {
    for (const auto& i : *app)
      out.push_back(i.hostname + (i.status == Status::kWaiting ? "(waiting)" : ""));
  }
  return out;
}

MirrorOptions options() {
  MirrorOptions o;
  o.removal_delay_ns = 35 * kS;
  o.max_removal_share = 0.5;
  o.mass_removal_hold_ns = 300 * kS;
  return o;
}

// A registry of `apps` apps with one instance each, applied as a full answer at `now`.
std::vector<Instance> registry_of(int apps) {
  std::vector<Instance> all;
  for (int i = 0; i < apps; ++i)
    all.push_back(inst("app" + std::to_string(i), "h1"));
  return all;
}

// Defect 1: renew times are kept with the moment they were observed (an answer's arrival);
// an answer from a node that lags behind never moves one backwards.
TEST(Mirror, RenewTimesKeepTheirObservationAndNeverGoBack) {
  Mirror m(options());
  m.apply_full(list({inst("a", "h1", Status::kUp, kT0)}), m.ticket(), kT0 + 20 * kS);
  const AppInstance& seen = m.data().find({"a", "dev"})->front();
  EXPECT_EQ(seen.renew_ns, kT0);
  EXPECT_EQ(seen.observed_ns, kT0 + 20 * kS);
  // A poll answer from a lagging node: h1's renew time is older than the one held.
  m.apply_poll("dev",
               poll_answer("a", 7,
                           {inst("a", "h1", Status::kUp, kT0 - 60 * kS),
                            inst("a", "h2", Status::kUp, kT0 + 30 * kS)}),
               {{"a", 5}}, kT0 + 31 * kS);
  auto app = m.data().find({"a", "dev"});
  ASSERT_EQ(app->size(), 2u);
  EXPECT_EQ((*app)[0].renew_ns, kT0);  // kept, with its observation
  EXPECT_EQ((*app)[0].observed_ns, kT0 + 20 * kS);
  EXPECT_EQ((*app)[1].renew_ns, kT0 + 30 * kS);
  EXPECT_EQ((*app)[1].observed_ns, kT0 + 31 * kS);
}

// Defect 2: a registry restarted empty (or a lagging node) answers a valid fetch/all that
// lacks most apps. Nothing is removed until the absence outlasts removal_delay; a refill
// within it loses nothing.
TEST(Mirror, FullAnswerMissingAppsRemovesThemOnlyAfterTheDelay) {
  struct Case {
    const char* what;
    common::Nanos second_answer_at;  // after the first, absent answer
    bool refilled;                   // the second answer lists the app again
    bool removed;
  };
  const Case cases[] = {
      {"refilled within the delay", 20 * kS, true, false},
      {"still absent before the delay", 20 * kS, false, false},
      {"absent past the delay", 40 * kS, false, true},
      {"refilled after the delay", 40 * kS, true, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Mirror m(options());
    m.apply_full(list({inst("a", "h1"), inst("b", "h1"), inst("c", "h1")}), m.ticket(), kT0);
    m.apply_full(list({inst("a", "h1")}), m.ticket(), kT0 + 1 * kS);  // b, c missing
    EXPECT_EQ(hosts(m, "b"), std::vector<std::string>{"h1"});
    EXPECT_EQ(m.stats().pending_removals, 2u);
    std::vector<Instance> second{inst("a", "h1"), inst("c", "h1")};
    if (c.refilled) second.push_back(inst("b", "h1"));
    m.apply_full(list(second), m.ticket(), kT0 + 1 * kS + c.second_answer_at);
    EXPECT_EQ(hosts(m, "b").empty(), c.removed);
    EXPECT_EQ(hosts(m, "c"), std::vector<std::string>{"h1"});
  }
}

// Defect 2, at scale: confirmed removals of most of the mirror wait for mass_removal_hold.
TEST(Mirror, MassRemovalIsHeldBack) {
  Mirror m(options());
  m.apply_full(list(registry_of(40)), m.ticket(), kT0);
  m.apply_full(list(registry_of(10)), m.ticket(), kT0 + 1 * kS);  // 30 of 40 gone
  m.apply_full(list(registry_of(10)), m.ticket(), kT0 + 60 * kS);
  EXPECT_EQ(m.data().instances(), 40u);
  EXPECT_EQ(m.stats().held_removals, 30u);
  EXPECT_EQ(m.stats().mass_holds_total, 1u);
  m.apply_full(list(registry_of(10)), m.ticket(), kT0 + 120 * kS);
  EXPECT_EQ(m.stats().mass_holds_total, 1u);  // one hold, however long
  m.apply_full(list(registry_of(10)), m.ticket(), kT0 + 302 * kS);
  EXPECT_EQ(m.data().instances(), 10u);
  EXPECT_EQ(m.stats().held_removals, 0u);
  EXPECT_EQ(m.stats().removed_total, 30u);
}

// A few removals are no mass removal, even from a small registry.
TEST(Mirror, FewRemovalsAreNotHeld) {
  Mirror m(options());
  m.apply_full(list(registry_of(3)), m.ticket(), kT0);
  m.apply_full(list(registry_of(1)), m.ticket(), kT0 + 1 * kS);
  m.apply_full(list(registry_of(1)), m.ticket(), kT0 + 40 * kS);
  EXPECT_EQ(m.data().instances(), 1u);
}

// Defect 3: a fetch/all sent before a poll answer arrived, applied after it, must not undo it.
TEST(Mirror, OlderFullAnswerNeverOverwritesNewerPollData) {
  Mirror m(options());
  m.apply_full(list({inst("a", "h1"), inst("a", "h2")}), m.ticket(), kT0);
  m.apply_poll("dev", poll_answer("a", 1, {inst("a", "h1"), inst("a", "h2")}), {{"a", 0}}, kT0);
  Mirror::Ticket sent = m.ticket();  // fetch/all sent: the registry still has h2
  // h2 is cancelled; the poll says so before the fetch/all answer arrives.
  m.apply_poll("dev", poll_answer("a", 2, {inst("a", "h1")}), {{"a", 1}}, kT0 + 1 * kS);
  EXPECT_EQ(hosts(m, "a"), std::vector<std::string>{"h1"});
  m.apply_full(list({inst("a", "h1"), inst("a", "h2")}), sent, kT0 + 2 * kS);
  EXPECT_EQ(hosts(m, "a"), std::vector<std::string>{"h1"});
  EXPECT_EQ(m.stats().stale_apps_total, 1u);
  // A full answer sent after the poll applies as usual.
  m.apply_full(list({inst("a", "h1"), inst("a", "h3")}), m.ticket(), kT0 + 3 * kS);
  EXPECT_EQ(hosts(m, "a"), (std::vector<std::string>{"h1", "h3"}));
}

// Defect 5 and the poll rules: what a poll answer omits depends on why it was sent.
TEST(Mirror, PollOmissions) {
  struct Case {
    const char* what;
    std::int64_t sent, latest;  // poll position sent, latest_timestamp answered
    Status h2_before;
    std::vector<std::string> after;
    bool confirm;  // the app is to be fetched to confirm
  };
  const Case cases[] = {
      {"cancel (latest moved): removed at once", 5, 9, Status::kUp, {"h1"}, false},
      {"/set status=2 (latest unchanged): kept as waiting",
       5,
       5,
       Status::kUp,
       {"h1", "h2(waiting)"},
       true},
      {"waiting already: polls never carry it",
       5,
       9,
       Status::kWaiting,
       {"h1", "h2(waiting)"},
       false},
      {"resync from 0: absence only pending", 0, 9, Status::kUp, {"h1", "h2"}, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Mirror m(options());
    m.apply_full(list({inst("a", "h1"), inst("a", "h2", c.h2_before)}), m.ticket(), kT0);
    auto confirm = m.apply_poll("dev", poll_answer("a", c.latest, {inst("a", "h1")}),
                                {{"a", c.sent}}, kT0 + 1 * kS);
    EXPECT_EQ(hosts(m, "a"), c.after);
    EXPECT_EQ(!confirm.empty(), c.confirm);
    EXPECT_EQ(m.apps().at({"a", "dev"}).latest, c.latest);
  }
}

// The confirming fetch (status 3) settles a WAITING instance, and an on-miss fetch adds a new
// app to the mirror (and to the polls).
TEST(Mirror, FetchAnswersCoverOnlyTheirApps) {
  Mirror m(options());
  m.apply_full(list({inst("a", "h1"), inst("b", "h1")}), m.ticket(), kT0);
  m.take_apps_changed();
  m.apply_fetch({"a", "new"}, "dev", list({inst("a", "h1", Status::kWaiting), inst("new", "n1")}),
                m.ticket(), kT0 + 1 * kS);
  EXPECT_EQ(hosts(m, "a"), std::vector<std::string>{"h1(waiting)"});
  EXPECT_EQ(hosts(m, "new"), std::vector<std::string>{"n1"});
  EXPECT_EQ(hosts(m, "b"), std::vector<std::string>{"h1"});  // not covered: untouched
  EXPECT_TRUE(m.take_apps_changed());
  EXPECT_TRUE(m.apps().contains({"new", "dev"}));
}

TEST(Mirror, EnvsNotFollowedAreIgnored) {
  MirrorOptions o = options();
  o.envs = {"prod"};
  Mirror m(o);
  m.apply_full(list({inst("a", "h1")}), m.ticket(), kT0);
  EXPECT_EQ(m.data().apps(), 0u);
}

TEST(Mirror, NodeSwitchResetsPositionsOnly) {
  Mirror m(options());
  m.apply_full(list({inst("a", "h1")}), m.ticket(), kT0);
  m.apply_poll("dev", poll_answer("a", 42, {inst("a", "h1")}), {{"a", 0}}, kT0);
  m.reset_positions();
  EXPECT_EQ(m.apps().at({"a", "dev"}).latest, 0);
  EXPECT_EQ(hosts(m, "a"), std::vector<std::string>{"h1"});
}

}  // namespace
}  // namespace discodns::registry
