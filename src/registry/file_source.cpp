#include "registry/file_source.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string_view>

#include "common/guarded_loop.hpp"
#include "common/thread_priority.hpp"
#include "registry/decode.hpp"

namespace discodns::registry {
namespace {

constexpr std::int64_t kNanos = 1'000'000'000;

// Reads up to `size` bytes of `fd` into `out`; 0, or the errno of a failed read.
int read_up_to(int fd, std::size_t size, std::string& out) {
  out.resize(size);
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return 0;
}
// Longer than the coarsest mtime granularity we expect (1 s on some file systems).
constexpr std::int64_t kSettleNs = 2 * kNanos;

std::int64_t realtime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * kNanos + ts.tv_nsec;
}

// Closes the descriptor on every path out of check_now.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

FileSource::FileSource(std::filesystem::path file, std::chrono::milliseconds check_interval,
                       Sink sink)
    : file_(std::move(file)),
      // A zero or negative interval would spin; 10 ms is already far more than needed.
      interval_(std::max(check_interval, std::chrono::milliseconds(10))),
      sink_(std::move(sink)) {}

FileSource::~FileSource() {
  stop();
}

common::Result<bool> FileSource::fail(const Stamp& state, std::string why) {
  // Once per distinct file state: a broken file checked every second must not flood the log.
  if (!(state == logged_state_ && why == logged_error_)) {
    spdlog::warn("registry file {}: {}; keeping the last good data", file_.string(), why);
    logged_state_ = state;
    logged_error_ = why;
  }
  last_error_ = why;
  return common::Error{file_.string() + ": " + why};
}

common::Result<bool> FileSource::check_now() {
  std::lock_guard check_lock(check_mutex_);
  Fd fd(::open(file_.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat before {};
  if (fd.get() < 0 || ::fstat(fd.get(), &before) != 0) {
    seen_ = Stamp{-2, 0, 0, 0};  // any later appearance of the file counts as a change
    unsettled_ = false;
    return fail(seen_, std::strerror(errno));
  }
  auto stamp_of = [](const struct stat& st) {
    return Stamp{static_cast<std::int64_t>(st.st_mtim.tv_sec) * kNanos + st.st_mtim.tv_nsec,
                 static_cast<std::int64_t>(st.st_size), static_cast<std::uint64_t>(st.st_ino),
                 static_cast<std::uint64_t>(st.st_dev)};
  };
  const Stamp stamp = stamp_of(before);
  auto unchanged = [this]() -> common::Result<bool> {
    if (last_error_.empty()) return false;
    return common::Error{file_.string() + ": " + last_error_};
  };
  if (stamp == seen_ && !unsettled_) return unchanged();

  if (!S_ISREG(before.st_mode)) return fail(stamp, "not a regular file");
  if (before.st_size > static_cast<off_t>(kMaxDocumentSize)) {
    seen_ = stamp;
    unsettled_ = false;
    return fail(stamp, "file of " + std::to_string(before.st_size) +
                           " bytes is larger than the limit of " +
                           std::to_string(kMaxDocumentSize) + " bytes");
  }
  std::string text;
  if (int error = read_up_to(fd.get(), static_cast<std::size_t>(before.st_size), text))
    return fail(stamp, std::string("read failed: ") + std::strerror(error));
  struct stat after {};
  if (::fstat(fd.get(), &after) != 0 || !(stamp_of(after) == stamp)) {
    // Written to while we read (a writer that does not rename into place): leave seen_ alone
    // so the next check reads the finished file. Not worth a warning.
    spdlog::debug("registry file {} changed while being read; retrying", file_.string());
    return common::Error{file_.string() + ": changed while being read; will retry"};
  }

  const std::size_t hash = std::hash<std::string_view>{}(text);
  const bool same_state = stamp == seen_;
  const bool same_content = same_state && hash == seen_hash_;
  seen_ = stamp;
  seen_hash_ = hash;
  unsettled_ = realtime_ns() - stamp.mtime_ns < kSettleNs;
  if (same_content) return unchanged();
  return deliver(text, stamp);
}

common::Result<bool> FileSource::deliver(std::string_view text, const Stamp& stamp) {
  auto decoded = decode_registry_document(text);
  if (!decoded) return fail(stamp, decoded.error().text);
  last_error_.clear();
  logged_state_ = {};
  logged_error_.clear();
  spdlog::info("registry file {}: {} instances ({} skipped instances, {} skipped addrs)",
               file_.string(), decoded->instances.size(), decoded->skipped_instances,
               decoded->skipped_addrs);
  // Apps that did not change keep the previous copy, so the snapshot rebuilds only the others.
  previous_ = std::make_shared<const RegistryData>(
      RegistryData::from(std::move(decoded.value()), previous_.get()));
  try {
    sink_(previous_);
  } catch (...) {
    seen_ = Stamp{};  // not delivered: the next check reads the file again
    throw;
  }
  return true;
}

void FileSource::start() {
  std::lock_guard lock(thread_mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    common::name_current_thread("dd-file");
    common::make_current_thread_background();
    std::unique_lock lock(thread_mutex_);
    do {
      lock.unlock();
      heartbeat_.beat();
      // Failures are logged inside, once per file state; an exception costs this check only.
      common::guarded_pass(common::BackgroundThread::kFile, [this] { check_now(); });
      lock.lock();
    } while (!wake_.wait_for(lock, interval_, [this] { return stopping_; }));
  });
}

void FileSource::stop() {
  std::thread thread;
  {
    std::lock_guard lock(thread_mutex_);
    stopping_ = true;
    thread.swap(thread_);
  }
  wake_.notify_all();
  if (thread.joinable()) thread.join();
}

}  // namespace discodns::registry
