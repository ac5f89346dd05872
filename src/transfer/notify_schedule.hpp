// NotifySchedule decides which DNS NOTIFY (RFC 1996) to send to which secondary and when:
// coalescing serial changes, one message in flight per target, retries with exponential
// back-off, giving up. Pure: no sockets, no threads, no clock (time is passed in).
//
// A target's life: set_serial() makes it pending; the first NOTIFY goes out `coalesce` after
// that change, carrying the newest serial by then (so a burst of changes is one message).
// Attempt k waits retry(k) = initial_retry * 2^(k-1), at most max_retry, for its answer; attempt
// k+1 goes out retry(k) after attempt k whether k timed out or was answered with an error
// rcode (back-off either way). Every attempt carries the newest serial. A serial change while
// a NOTIFY is in flight waits for that one's end; after its ack the newer serial goes out at
// once, or `coalesce` after the last send if that is later. After max_attempts failed attempts
// the target gives up until the next set_serial(). Each attempt has a fresh message id, and
// only the current attempt's id is accepted as its answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "common/clock.hpp"

namespace discodns::transfer {

struct NotifyOptions {
  common::Nanos coalesce = 100'000'000;       // 100 ms
  common::Nanos initial_retry = 500'000'000;  // 500 ms; doubles per attempt
  common::Nanos max_retry = 30 * common::kNanosPerSecond;
  unsigned max_attempts = 10;  // failed attempts before giving up (at least 1)
};

// One target's counters, as metrics show them.
struct NotifyCounters {
  std::uint64_t sent = 0;      // NOTIFY messages sent (retries included)
  std::uint64_t acked = 0;     // NOERROR answers with the id of the attempt in flight
  std::uint64_t failed = 0;    // attempts that failed: timeouts plus error rcodes
  std::uint64_t given_up = 0;  // announcements abandoned after max_attempts failed attempts
  std::uint32_t last_acked_serial = 0;  // 0 = none acknowledged yet
  bool in_flight = false;               // a NOTIFY awaits its answer
  bool pending = false;                 // a serial is still to be acknowledged
  bool operator==(const NotifyCounters&) const = default;
};

class NotifySchedule {
 public:
  struct Send {
    std::size_t target;
    std::uint32_t serial;
    std::uint16_t id;
    unsigned attempt;  // 1 for the first message of an announcement
  };

  // `next_id` gives each attempt's message id: random, so that an off-path attacker cannot
  // guess it and forge an ack.
  NotifySchedule(std::size_t targets, NotifyOptions options,
                 std::function<std::uint16_t()> next_id);

  // A new zone serial for every target (each call is announced, even a repeated serial).
  void set_serial(std::uint32_t serial, common::Nanos now);
  // What to send now; each is in flight from this call on. Also ends timed-out attempts.
  std::vector<Send> due(common::Nanos now);
  // The earliest time due() has something to do (a send or a timeout); none when idle.
  std::optional<common::Nanos> next_wakeup() const;
  // An answer from `target` with message id `id`: NOERROR acknowledges the attempt in flight,
  // any other rcode fails it. Ids of other (older) attempts are ignored.
  void on_response(std::size_t target, std::uint16_t id, std::uint8_t rcode, common::Nanos now);

  std::size_t targets() const { return states_.size(); }
  const NotifyCounters& counters(std::size_t target) const { return states_[target].counters; }
  // How long attempt `attempt` (1-based) waits for its answer.
  common::Nanos retry_interval(unsigned attempt) const;

 private:
  struct State {
    NotifyCounters counters;             // in_flight and pending are the state, not copies of it
    std::uint32_t serial = 0;            // newest serial to announce, when pending
    std::uint32_t in_flight_serial = 0;  // what the attempt in flight carries
    std::uint16_t id = 0;                // the attempt in flight's message id
    unsigned attempts = 0;               // of the current announcement
    common::Nanos ready_at = 0;          // pending, nothing in flight: earliest next send
    common::Nanos sent_at = 0;   // the attempt in flight's (or the last attempt's) send time
    common::Nanos deadline = 0;  // in flight: its answer is late from then on
  };

  // Ends the attempt in flight as failed: schedules the next one, or gives up.
  void fail_attempt(State& state);

  NotifyOptions options_;
  std::function<std::uint16_t()> next_id_;
  std::vector<State> states_;
};

}  // namespace discodns::transfer
