// NotifySchedule: the NOTIFY state machine of each target (see the header for the rules).
#include "transfer/notify_schedule.hpp"

#include <algorithm>
#include <utility>

namespace discodns::transfer {

NotifySchedule::NotifySchedule(std::size_t targets, NotifyOptions options,
                               std::function<std::uint16_t()> next_id)
    : options_(options), next_id_(std::move(next_id)), states_(targets) {
  options_.max_attempts = std::max(options_.max_attempts, 1u);
  options_.max_retry = std::max(options_.max_retry, options_.initial_retry);
}

common::Nanos NotifySchedule::retry_interval(unsigned attempt) const {
  common::Nanos interval = options_.initial_retry;
  // Doubling stops at the cap, so this cannot overflow whatever the attempt number.
  for (unsigned k = 1; k < attempt && interval < options_.max_retry; ++k)
    interval *= 2;
  return std::min(interval, options_.max_retry);
}

void NotifySchedule::set_serial(std::uint32_t serial, common::Nanos now) {
  for (State& state : states_) {
    state.serial = serial;
    if (state.counters.pending) continue;  // merged: the next send carries the newest serial
    state.counters.pending = true;
    state.attempts = 0;
    // The window opens at the first change and does not slide, so a steady stream of changes
    // still goes out every `coalesce`.
    state.ready_at = now + options_.coalesce;
  }
}

std::vector<NotifySchedule::Send> NotifySchedule::due(common::Nanos now) {
  std::vector<Send> sends;
  for (std::size_t target = 0; target < states_.size(); ++target) {
    State& state = states_[target];
    if (state.counters.in_flight && now >= state.deadline) fail_attempt(state);  // a timeout
    if (!state.counters.pending || state.counters.in_flight || now < state.ready_at) continue;
    ++state.attempts;
    state.id = next_id_();
    state.in_flight_serial = state.serial;
    state.sent_at = now;
    state.deadline = now + retry_interval(state.attempts);
    state.counters.in_flight = true;
    ++state.counters.sent;
    sends.push_back({target, state.serial, state.id, state.attempts});
  }
  return sends;
}

std::optional<common::Nanos> NotifySchedule::next_wakeup() const {
  std::optional<common::Nanos> earliest;
  for (const State& state : states_) {
    std::optional<common::Nanos> at;
    if (state.counters.in_flight)
      at = state.deadline;
    else if (state.counters.pending)
      at = state.ready_at;
    if (at && (!earliest || *at < *earliest)) earliest = at;
  }
  return earliest;
}

void NotifySchedule::on_response(std::size_t target, std::uint16_t id, std::uint8_t rcode,
                                 common::Nanos now) {
  if (target >= states_.size()) return;
  State& state = states_[target];
  if (!state.counters.in_flight || id != state.id) return;  // late, duplicate or forged
  if (rcode != 0) {
    fail_attempt(state);
    return;
  }
  state.counters.in_flight = false;
  ++state.counters.acked;
  state.counters.last_acked_serial = state.in_flight_serial;
  state.attempts = 0;
  if (state.serial == state.in_flight_serial) {
    state.counters.pending = false;
    return;
  }
  // A newer serial waited for this ack: it goes out now, though not within `coalesce` of the
  // last send.
  state.ready_at = std::max(now, state.sent_at + options_.coalesce);
}

void NotifySchedule::fail_attempt(State& state) {
  state.counters.in_flight = false;
  ++state.counters.failed;
  if (state.attempts >= options_.max_attempts) {
    ++state.counters.given_up;
    state.counters.pending = false;
    state.attempts = 0;
    return;
  }
  // Back-off counts from the failed attempt's send, so an error answer waits as long as a
  // timeout would have.
  state.ready_at =
      std::max(state.sent_at + retry_interval(state.attempts), state.sent_at + options_.coalesce);
}

}  // namespace discodns::transfer
