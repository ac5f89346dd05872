#include "common/thread_priority.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

namespace discodns::common {

bool make_current_thread_background() {
  // On Linux, PRIO_PROCESS with a thread id sets that thread's nice value only.
  return ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kBackgroundNice) == 0;
}

void name_current_thread(const char* name) {
  ::pthread_setname_np(::pthread_self(), name);
}

}  // namespace discodns::common
