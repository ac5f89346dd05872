// FileSource: source = "file". Serves a registry snapshot file (any shape decode accepts) and
// reloads it when it changes; a missing or broken file keeps the last good data and is logged.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/result.hpp"
#include "registry/model.hpp"

namespace discodns::registry {

class FileSource {
 public:
  using Sink = std::function<void(std::shared_ptr<const RegistryData>)>;

  FileSource(std::filesystem::path file, std::chrono::milliseconds check_interval, Sink sink);
  ~FileSource();

  // Reads the file if it changed (mtime with nanoseconds, size, inode) since the last read,
  // decodes it and hands it to the sink. true: new data delivered; false: unchanged. An
  // error leaves the last good data in place (the sink is not called).
  common::Result<bool> check_now();
  // A background thread calling check_now every check_interval until stop().
  void start();
  void stop();

 private:
  struct Stamp {
    std::int64_t mtime_ns = -1;
    std::uintmax_t size = 0;
    std::uint64_t inode = 0;
    bool operator==(const Stamp&) const = default;
  };

  std::filesystem::path file_;
  std::chrono::milliseconds interval_;
  Sink sink_;
  Stamp seen_;  // state of the file at the last attempt, good or bad
  std::string last_error_;
  std::mutex mutex_;  // guards stopping_ for the wait
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace discodns::registry
