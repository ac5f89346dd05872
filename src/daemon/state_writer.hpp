// StateWriter: what discodns keeps on disk across restarts, written on a thread of its own
// (each write is fsync'd, which can take long on a busy disk) and never on the update thread:
//  - each live source's warm-start copy (registry/persist),
//  - the zone serial's reservation: a value no serial served so far exceeds, so that a
//    restart continues above it and the serial never goes backwards (RFC 1982 order).
// The serial is reserved kSerialsAhead at a time, ahead of need; only when the writer lags
// that far behind does the update thread wait for a write.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "registry/model.hpp"

namespace discodns::daemon {

class StateWriter {
 public:
  static constexpr std::uint32_t kSerialsAhead = 1000;

  // serial_file: where the reservation lives; empty = serials are not kept (they follow the
  // clock only).
  explicit StateWriter(std::filesystem::path serial_file);
  ~StateWriter();
  StateWriter(const StateWriter&) = delete;
  StateWriter& operator=(const StateWriter&) = delete;

  // What the last run reserved (0 = nothing kept): start serials above it.
  std::uint32_t reserved() const { return durable_.load(); }
  // Before `serial` is published: it is covered by a durable reservation when this returns.
  void reserve(std::uint32_t serial);
  // Queues a warm-start copy; a newer one for the same file replaces one not yet written.
  void save(const std::filesystem::path& file, std::shared_ptr<const registry::RegistryData> data);
  // Writes everything queued, then stops the thread. Idempotent.
  void stop();

 private:
  void run();
  void write_serial(std::uint32_t value);

  std::filesystem::path serial_file_;
  std::atomic<std::uint32_t> durable_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::filesystem::path, std::shared_ptr<const registry::RegistryData>> saves_;
  std::optional<std::uint32_t> serial_due_;  // guarded by mutex_
  bool stopping_ = false;
  std::mutex write_mutex_;  // one serial write at a time (writer thread or update thread)
  std::thread thread_;
};

// RFC 1982: a is greater than b in sequence space.
inline bool serial_greater(std::uint32_t a, std::uint32_t b) {
  return a != b && static_cast<std::int32_t>(a - b) > 0;
}

}  // namespace discodns::daemon
