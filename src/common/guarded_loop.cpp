#include "common/guarded_loop.hpp"

#include <atomic>

#include "common/log.hpp"

namespace discodns::common {
namespace {

std::array<std::atomic<std::uint64_t>, kBackgroundThreads> g_errors{};

}  // namespace

void note_background_error(BackgroundThread thread, const char* what) noexcept {
  auto index = static_cast<std::size_t>(thread);
  g_errors[index].fetch_add(1, std::memory_order_relaxed);
  try {
    spdlog::error("{} thread: uncaught exception, continuing after a pause: {}",
                  kBackgroundThreadNames[index], what);
  } catch (...) {  // logging itself failed (out of memory): the count above still says it
  }
}

std::uint64_t background_errors(BackgroundThread thread) noexcept {
  return g_errors[static_cast<std::size_t>(thread)].load(std::memory_order_relaxed);
}

}  // namespace discodns::common
