// systemd's notify protocol (sd_notify(3)) without libsystemd: one datagram to
// $NOTIFY_SOCKET. Does nothing when not started by systemd with Type=notify.
#pragma once

#include <chrono>
#include <string_view>

namespace discodns::daemon {

// "READY=1", "RELOADING=1", "STOPPING=1", "WATCHDOG=1", "STATUS=…". False if not sent.
bool notify_systemd(std::string_view state);

// The watchdog period systemd asked for ($WATCHDOG_USEC), or zero.
std::chrono::microseconds watchdog_interval();

}  // namespace discodns::daemon
