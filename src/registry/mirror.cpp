#include "registry/mirror.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace discodns::registry {
namespace {

// The instance of `list` with this zone and hostname (list sorted by zone, hostname).
const AppInstance* find_instance(const AppInstances& list, const AppInstance& like) {
  auto it = std::lower_bound(list.begin(), list.end(), like, [](const auto& a, const auto& b) {
    return std::tie(a.zone, a.hostname) < std::tie(b.zone, b.hostname);
  });
  if (it == list.end() || it->zone != like.zone || it->hostname != like.hostname) return nullptr;
  return &*it;
}

}  // namespace

bool Mirror::followed(const std::string& env) const {
  return options_.envs.empty() ||
         std::find(options_.envs.begin(), options_.envs.end(), env) != options_.envs.end();
}

void Mirror::seed(const RegistryData& data) {
  data_ = data;
  for (const auto& [key, instances] : data.sorted())
    apps_[*key];
  changed_ = apps_changed_ = true;
}

void Mirror::store(const AppKey& key, AppInstances instances, Ticket version) {
  sort_instances(instances);
  bool empty = instances.empty();
  changed_ |= data_.set(key, std::move(instances));
  if (empty) {
    apps_changed_ |= apps_.erase(key) > 0;
    return;
  }
  auto [it, added] = apps_.try_emplace(key);
  apps_changed_ |= added;
  it->second.version = std::max(it->second.version, version);
}

void Mirror::apply_full(InstanceList list, Ticket sent, common::Nanos now_ns) {
  std::map<AppKey, AppInstances> fresh;
  for (auto& inst : list.instances) {
    if (!followed(inst.env)) continue;
    AppKey key{inst.appid, inst.env};
    fresh[key].push_back(std::move(inst));  // the AppInstance part: the key is the map's
  }
  std::vector<AppKey> gone;
  for (const auto& [key, state] : apps_) {
    if (!fresh.contains(key)) gone.push_back(key);
  }
  for (auto& [key, instances] : fresh)
    merge_full(key, std::move(instances), sent, now_ns);
  for (const auto& key : gone)
    merge_full(key, {}, sent, now_ns);
  changed_ |= data_.skipped_instances != list.skipped_instances ||
              data_.skipped_addrs != list.skipped_addrs;
  data_.skipped_instances = list.skipped_instances;
  data_.skipped_addrs = list.skipped_addrs;
  confirm_removals(now_ns, nullptr);
}

void Mirror::apply_fetch(const std::vector<std::string>& appids, const std::string& env,
                         InstanceList list, Ticket sent, common::Nanos now_ns) {
  if (!followed(env)) return;
  std::map<AppKey, AppInstances> fresh;
  for (const auto& appid : appids)
    fresh[{appid, env}];
  for (auto& inst : list.instances) {
    auto it = fresh.find({inst.appid, inst.env});
    if (it != fresh.end()) it->second.push_back(std::move(inst));
  }
  std::vector<AppKey> covered;
  for (auto& [key, instances] : fresh) {
    covered.push_back(key);
    merge_full(key, std::move(instances), sent, now_ns);
  }
  confirm_removals(now_ns, &covered);
}

// A full answer's view of one app: what it lists is current as of now; what it omits is
// kept, and its absence timed, until confirm_removals settles it.
void Mirror::merge_full(const AppKey& key, AppInstances incoming, Ticket sent,
                        common::Nanos now_ns) {
  auto state = apps_.find(key);
  if (state != apps_.end() && state->second.version > sent) {
    ++stats_.stale_apps_total;  // a poll answer newer than this request wrote it
    return;
  }
  for (auto& inst : incoming) {
    inst.observed_ns = now_ns;
    absent_since_.erase({key, inst.zone, inst.hostname});
  }
  sort_instances(incoming);
  if (AppPtr held = data_.find(key)) {
    for (const AppInstance& old : *held) {
      if (find_instance(incoming, old) != nullptr) continue;
      absent_since_.try_emplace({key, old.zone, old.hostname}, now_ns);
      incoming.push_back(old);
    }
  }
  store(key, std::move(incoming), sent);
}

void Mirror::confirm_removals(common::Nanos now_ns, const std::vector<AppKey>* only) {
  std::vector<InstanceKey> due;
  bool overdue = false;  // absent for longer than the mass-removal hold
  for (const auto& [key, since] : absent_since_) {
    if (only != nullptr && std::find(only->begin(), only->end(), std::get<0>(key)) == only->end()) {
      continue;
    }
    if (now_ns - since < options_.removal_delay_ns) continue;
    due.push_back(key);
    overdue |= now_ns - since >= options_.mass_removal_hold_ns;
  }
  const double share =
      data_.instances() == 0 ? 0.0 : static_cast<double>(due.size()) / double(data_.instances());
  // A handful of instances is no mass removal, whatever share of a small registry it is.
  const bool mass = due.size() >= kMassRemovalMinimum && share > options_.max_removal_share;
  if (mass && !overdue) {
    if (!holding_) {
      ++stats_.mass_holds_total;
      spdlog::warn(
          "registry mirror: the registry no longer lists {} of {} instances; holding the "
          "removal back (a registry restarted empty, or a lagging node)",
          due.size(), data_.instances());
    }
    holding_ = true;
    stats_.held_removals = due.size();
  } else {
    if (holding_ && !due.empty())
      spdlog::warn("registry mirror: removing {} instances absent since the hold began",
                   due.size());
    holding_ = false;
    stats_.held_removals = 0;
    remove_instances(due);
  }
  stats_.pending_removals = absent_since_.size();
}

void Mirror::remove_instances(const std::vector<InstanceKey>& keys) {
  std::map<AppKey, std::set<std::pair<std::string, std::string>>> by_app;
  for (const auto& key : keys) {
    by_app[std::get<0>(key)].emplace(std::get<1>(key), std::get<2>(key));
    absent_since_.erase(key);
  }
  for (const auto& [app, hosts] : by_app) {
    AppPtr held = data_.find(app);
    if (!held) continue;
    AppInstances kept;
    for (const AppInstance& inst : *held) {
      if (!hosts.contains({inst.zone, inst.hostname})) kept.push_back(inst);
    }
    stats_.removed_total += held->size() - kept.size();
    auto state = apps_.find(app);
    store(app, std::move(kept), state != apps_.end() ? state->second.version : 0);
  }
}

std::vector<AppKey> Mirror::apply_poll(const std::string& env, PollsAnswer answer,
                                       const std::map<std::string, std::int64_t>& sent,
                                       common::Nanos now_ns) {
  std::vector<AppKey> to_confirm;
  std::map<std::string, AppInstances> by_app;
  for (auto& inst : answer.data.instances) {
    if (inst.env == env) by_app[inst.appid].push_back(std::move(inst));
  }
  const Ticket version = ++clock_;
  for (const auto& [appid, latest] : answer.latest) {
    AppKey key{appid, env};
    auto state = apps_.find(key);
    if (state == apps_.end()) continue;  // not ours (any more)
    auto position = sent.find(appid);
    const std::int64_t from = position != sent.end() ? position->second : 0;
    const bool resync = from == 0;
    const bool set_only = !resync && latest == from;  // /set moves no latest_timestamp (§10.2)
    AppInstances incoming = std::move(by_app[appid]);
    sort_instances(incoming);
    AppPtr held = data_.find(key);
    for (auto& inst : incoming) {
      absent_since_.erase({key, inst.zone, inst.hostname});
      // discovery builds a poll answer when it sends it (immediate) or at the change that
      // wakes it (delivered within 500 ms): its renew times are current as of its arrival.
      // A node that lags behind what we hold never moves a renew time backwards.
      inst.observed_ns = now_ns;
      const AppInstance* old = held ? find_instance(*held, inst) : nullptr;
      if (old != nullptr && old->renew_ns > inst.renew_ns) {
        inst.renew_ns = old->renew_ns;
        inst.observed_ns = old->observed_ns;
      }
    }
    bool confirm = false;
    if (held) {
      for (const AppInstance& old : *held) {
        if (find_instance(incoming, old) != nullptr) continue;
        if (old.status == Status::kWaiting) {  // polls carry UP instances only
          incoming.push_back(old);
        } else if (resync) {
          absent_since_.try_emplace({key, old.zone, old.hostname}, now_ns);
          incoming.push_back(old);
        } else if (set_only) {
          AppInstance& waiting = incoming.emplace_back(old);
          waiting.status = Status::kWaiting;
          confirm = true;
        } else {
          absent_since_.erase({key, old.zone, old.hostname});
          ++stats_.cancels_total;
        }
      }
    }
    if (confirm) to_confirm.push_back(key);
    state->second.latest = latest;
    store(key, std::move(incoming), version);
  }
  stats_.pending_removals = absent_since_.size();
  return to_confirm;
}

void Mirror::reset_positions() {
  for (auto& [key, state] : apps_)
    state.latest = 0;
}

}  // namespace discodns::registry
