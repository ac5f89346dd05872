// FileSource: source = "file". Serves a registry snapshot file (any shape decode accepts) and
// reloads it when it changes; a missing or broken file keeps the last good data and is logged.
// Owned by daemon/; check_now may be called from any thread, the sink runs on the caller's
// thread (or the background thread) and must not call back into this FileSource.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/heartbeat.hpp"
#include "common/result.hpp"
#include "registry/model.hpp"

namespace discodns::registry {

class FileSource {
 public:
  using Sink = std::function<void(std::shared_ptr<const RegistryData>)>;

  FileSource(std::filesystem::path file, std::chrono::milliseconds check_interval, Sink sink);
  ~FileSource();  // stops the background thread
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  // Reads the file if it changed (mtime with nanoseconds, size, inode) since the last read,
  // decodes it and hands it to the sink. true: new data delivered; false: unchanged. An
  // error (missing, unreadable, bad JSON) leaves the last good data in place: the sink is not
  // called, and the same broken file is not read again until it changes.
  common::Result<bool> check_now();
  // A background thread calling check_now at once and then every check_interval until stop().
  void start();
  void stop();
  // Beats once per check of the background thread.
  const common::Heartbeat& heartbeat() const { return heartbeat_; }

 private:
  // What stat says about the file; equal stamps mean "probably the same content".
  struct Stamp {
    std::int64_t mtime_ns = -1;  // -1: never read; -2: the file could not be opened
    std::int64_t size = 0;
    std::uint64_t inode = 0;
    std::uint64_t device = 0;
    bool operator==(const Stamp&) const = default;
  };

  common::Result<bool> fail(const Stamp& state, std::string why);
  // Decodes a file read whole and hands it to the sink.
  common::Result<bool> deliver(std::string_view text, const Stamp& stamp);

  const std::filesystem::path file_;
  const std::chrono::milliseconds interval_;
  const Sink sink_;

  std::mutex check_mutex_;  // one check at a time; guards the fields below
  Stamp seen_;              // file state at the last complete read, good or bad
  std::size_t seen_hash_ = 0;
  // Timestamps are only as fine as the kernel's coarse clock (a few ms, a second on some
  // file systems): a same-size rewrite right after our read can keep the stamp. While the
  // mtime is that recent, unchanged stamps are re-read and compared by content.
  bool unsettled_ = false;
  std::shared_ptr<const RegistryData> previous_;  // last data delivered
  std::string last_error_;                        // non-empty while the current file state is bad
  Stamp logged_state_;                            // the failure already logged for this state
  std::string logged_error_;

  std::mutex thread_mutex_;  // guards stopping_ for the wait
  std::condition_variable wake_;
  bool stopping_ = false;
  common::Heartbeat heartbeat_;
  std::thread thread_;
};

}  // namespace discodns::registry
