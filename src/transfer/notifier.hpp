// Notifier: sends DNS NOTIFY (RFC 1996) for each new zone serial to the configured secondaries
// over UDP and collects their answers, on a background thread of its own. What to send when is
// NotifySchedule's decision; this is the I/O around it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "transfer/notify_schedule.hpp"

namespace discodns::transfer {

// TSIG for NOTIFY, as hooks so that this compiles without a TSIG implementation (a wrapper
// over tsig.hpp's TsigSigner and verify_response fills them in). Both run on the notifier's
// thread; each message has its own id, so a hook pair can keep the request MAC per id.
struct NotifyTsig {
  // Appends a TSIG RR to the `size`-byte message at the start of `buffer` (at least 512 bytes
  // free past `size`); returns the signed size, 0 when signing failed (nothing is sent then:
  // the attempt times out and is retried).
  std::function<std::size_t(std::span<std::uint8_t> buffer, std::size_t size)> sign;
  // True when an answer's TSIG verifies; an answer that does not is dropped unread.
  std::function<bool(std::span<const std::uint8_t> answer)> verify;
};

class Notifier {
 public:
  // `targets` are the secondaries (address and port); `apex_wire` the zone's lower-case
  // wire-format name. Opens one UDP socket per address family the targets use, on an ephemeral
  // port of loopback when every target of that family is loopback, else of the wildcard
  // address, and starts the thread. Throws boost::system::system_error when a socket fails.
  Notifier(std::vector<boost::asio::ip::udp::endpoint> targets, std::string apex_wire,
           NotifyOptions options = {}, NotifyTsig tsig = {});
  ~Notifier();  // stop()
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // A new zone serial to announce to every target. Thread-safe; returns at once.
  void notify(std::uint32_t serial);
  // Each target's counters, in the order of `targets`. Thread-safe.
  std::vector<NotifyCounters> status() const;
  const std::vector<boost::asio::ip::udp::endpoint>& targets() const;
  // Stops the thread and waits for it; what is pending is dropped. Idempotent; call it from the
  // owner's thread, not concurrently with itself.
  void stop();

 private:
  class Loop;
  std::unique_ptr<Loop> loop_;
};

}  // namespace discodns::transfer
