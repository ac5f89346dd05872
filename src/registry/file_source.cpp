#include "registry/file_source.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "registry/persist.hpp"

namespace discodns::registry {

FileSource::FileSource(std::filesystem::path file, std::chrono::milliseconds check_interval,
                       Sink sink)
    : file_(std::move(file)), interval_(check_interval), sink_(std::move(sink)) {}

FileSource::~FileSource() {
  stop();
}

common::Result<bool> FileSource::check_now() {
  struct stat st {};
  if (::stat(file_.c_str(), &st) != 0) {
    std::string why = file_.string() + ": " + std::strerror(errno);
    if (why != last_error_) spdlog::warn("registry file {}; keeping the last good data", why);
    last_error_ = why;
    seen_ = {};
    return common::Error{why};
  }
  Stamp now{static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
            static_cast<std::uintmax_t>(st.st_size), static_cast<std::uint64_t>(st.st_ino)};
  if (now == seen_)
    return last_error_.empty() ? common::Result<bool>(false)
                               : common::Result<bool>(common::Error{last_error_});
  seen_ = now;
  auto data = load_registry(file_);
  if (!data) {
    last_error_ = data.error().text;
    spdlog::warn("registry file rejected, keeping the last good data: {}", last_error_);
    return common::Error{last_error_};
  }
  last_error_.clear();
  spdlog::info("registry file {}: {} instances ({} skipped, {} bad addrs)", file_.string(),
               data->instances.size(), data->skipped_instances, data->skipped_addrs);
  sink_(std::make_shared<const RegistryData>(std::move(data.value())));
  return true;
}

void FileSource::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      check_now();
      lock.lock();
    }
  });
}

void FileSource::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace discodns::registry
