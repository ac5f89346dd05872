#include "daemon/state_writer.hpp"

#include <spdlog/spdlog.h>

#include <fstream>

#include "common/guarded_loop.hpp"
#include "common/thread_priority.hpp"
#include "registry/persist.hpp"

namespace discodns::daemon {
namespace {

std::uint32_t read_serial(const std::filesystem::path& file) {
  std::ifstream in(file);
  unsigned long long value = 0;
  if (!(in >> value) || value > 0xffffffffULL) {
    if (std::filesystem::exists(file))
      spdlog::warn("zone serial file {} is unreadable; serials follow the clock", file.string());
    return 0;
  }
  return static_cast<std::uint32_t>(value);
}

}  // namespace

StateWriter::StateWriter(std::filesystem::path serial_file) : serial_file_(std::move(serial_file)) {
  if (!serial_file_.empty()) durable_ = read_serial(serial_file_);
  thread_ = std::thread([this] {
    common::name_current_thread("dd-state");
    common::make_current_thread_background();
    run();
  });
}

StateWriter::~StateWriter() {
  stop();
}

void StateWriter::reserve(std::uint32_t serial) {
  if (serial_file_.empty()) return;
  const std::uint32_t durable = durable_.load();
  if (serial_greater(serial, durable) || durable == 0) {
    write_serial(serial + kSerialsAhead);  // the writer lags: this serial must not go out first
    return;
  }
  if (!serial_greater(serial + kSerialsAhead / 2, durable)) return;
  {
    std::lock_guard lock(mutex_);
    serial_due_ = serial + kSerialsAhead;
  }
  wake_.notify_one();
}

void StateWriter::save(const std::filesystem::path& file,
                       std::shared_ptr<const registry::RegistryData> data) {
  {
    std::lock_guard lock(mutex_);
    saves_[file] = std::move(data);
  }
  wake_.notify_one();
}

void StateWriter::write_serial(std::uint32_t value) {
  std::lock_guard lock(write_mutex_);
  if (!serial_greater(value, durable_.load()) && durable_.load() != 0) return;
  auto result = registry::write_atomically(serial_file_, std::to_string(value) + "\n");
  if (!result) {
    spdlog::warn("cannot keep the zone serial: {}", result.error().text);
    return;
  }
  durable_.store(value);
}

void StateWriter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || serial_due_ || !saves_.empty(); });
    auto saves = std::move(saves_);
    saves_.clear();
    auto serial = std::exchange(serial_due_, std::nullopt);
    bool last = stopping_;
    lock.unlock();
    // An exception (out of memory, a filesystem error) loses this round of writes only; the
    // daemon hands over newer data soon.
    common::guarded_pass(common::BackgroundThread::kState, [&] {
      if (serial) write_serial(*serial);
      for (const auto& [file, data] : saves) {
        auto result = registry::save_registry(file, *data);
        if (!result)
          spdlog::warn("cannot save the warm-start file: {}", result.error().text);
        else
          spdlog::debug("saved {} instances to {}", data->instances(), file.string());
      }
    });
    lock.lock();
    if (last && saves_.empty() && !serial_due_) return;
  }
}

void StateWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

}  // namespace discodns::daemon
