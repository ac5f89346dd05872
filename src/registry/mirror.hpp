// Mirror: the registry of one discovery cluster as discodns believes it is, built from the
// answers it got. Pure: no HTTP, no threads; every event carries its time, so the merge rules
// are unit-tested on a manual clock (tests/unit/registry/mirror_test.cpp).
//
// Rules (README "Registry mirror"):
//  - Versions: a full answer (fetch/all, fetchs) never overwrites an app that a poll answer
//    received after the full request was sent has written (that poll data is newer).
//  - Removal guard: what a full answer no longer lists is still served, and removed only when
//    a full answer at least removal_delay after it first went missing still lacks it (a
//    registry restarted empty refills within one renew interval). When the confirmed
//    removals would take more than max_removal_share of the instances at once (and at least
//    kMassRemovalMinimum of them), they wait for mass_removal_hold.
//  - Polls: an instance a poll answer omits was cancelled (removed at once) when the app's
//    latest_timestamp moved; when it did not move, a /set took it out of the poll's UP-only
//    view: it stays as WAITING and the app is fetched to confirm. A poll sent from position
//    0 (a resync) is treated like a full answer for its app.
//  - Renew times are kept with the moment they were observed (an answer's arrival: discovery
//    builds every answer, polls included, from its live registry), and never move backwards.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "common/clock.hpp"
#include "registry/decode.hpp"
#include "registry/model.hpp"

namespace discodns::registry {

struct MirrorOptions {
  std::vector<std::string> envs;  // envs followed; empty = all
  common::Nanos removal_delay_ns = 35 * common::kNanosPerSecond;
  double max_removal_share = 0.5;
  common::Nanos mass_removal_hold_ns = 300 * common::kNanosPerSecond;
};

struct MirrorStats {
  std::uint64_t pending_removals = 0;  // instances absent from full answers, still served
  std::uint64_t held_removals = 0;     // confirmed absent, held back by the share rule
  std::uint64_t removed_total = 0;     // removed once the absence was confirmed
  std::uint64_t cancels_total = 0;     // removed at once: cancels seen in polls
  std::uint64_t mass_holds_total = 0;  // full answers whose removals were held back
  std::uint64_t stale_apps_total = 0;  // apps of full answers skipped for newer poll data
};

class Mirror {
 public:
  // The share rule holds back only removals of at least this many instances.
  static constexpr std::size_t kMassRemovalMinimum = 10;
  using Ticket = std::uint64_t;  // orders requests and answers of one mirror
  struct AppState {
    std::int64_t latest = 0;  // poll position: app-level latest_timestamp on the node in use
    Ticket version = 0;       // the answer that last wrote the app
  };
  using Apps = std::map<AppKey, AppState>;

  explicit Mirror(MirrorOptions options) : options_(std::move(options)) {}

  // Data known before the first answer (warm start).
  void seed(const RegistryData& data);
  // Taken when a full request is sent, given back with its answer.
  Ticket ticket() { return ++clock_; }

  // fetch/all: every app of the followed envs.
  void apply_full(InstanceList list, Ticket sent, common::Nanos now_ns);
  // fetchs for `appids` of `env` (status 3): those apps only.
  void apply_fetch(const std::vector<std::string>& appids, const std::string& env,
                   InstanceList list, Ticket sent, common::Nanos now_ns);
  // polls of `env`, sent with these positions. Returns the apps to fetch to confirm an
  // instance that left the poll's view without a version change.
  std::vector<AppKey> apply_poll(const std::string& env, PollsAnswer answer,
                                 const std::map<std::string, std::int64_t>& sent,
                                 common::Nanos now_ns);
  // Another node: positions are per node (protocol §4.8).
  void reset_positions();

  const RegistryData& data() const { return data_; }
  const Apps& apps() const { return apps_; }
  const MirrorStats& stats() const { return stats_; }
  bool changed() const { return changed_; }
  // True once after data (or the set of apps) changed.
  bool take_changed() { return std::exchange(changed_, false); }
  bool take_apps_changed() { return std::exchange(apps_changed_, false); }

 private:
  using InstanceKey = std::tuple<AppKey, std::string, std::string>;  // app, zone, hostname

  bool followed(const std::string& env) const;
  void merge_full(const AppKey& key, AppInstances incoming, Ticket sent, common::Nanos now_ns);
  void confirm_removals(common::Nanos now_ns, const std::vector<AppKey>* only);
  void remove_instances(const std::vector<InstanceKey>& keys);
  void store(const AppKey& key, AppInstances instances, Ticket version);

  MirrorOptions options_;
  RegistryData data_;
  Apps apps_;
  std::map<InstanceKey, common::Nanos> absent_since_;
  MirrorStats stats_;
  Ticket clock_ = 0;
  bool changed_ = false;
  bool apps_changed_ = false;
  bool holding_ = false;  // the share rule is holding removals back (logged once)
};

}  // namespace discodns::registry
