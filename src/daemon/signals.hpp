// Process signals for main: SIGTERM/SIGINT/SIGHUP blocked in every thread and taken
// synchronously (sigwait), SIGPIPE ignored.
#pragma once

#include <chrono>

namespace discodns::daemon {

// Stop signals (SIGTERM, SIGINT) are taken by wait_for_stop_signal only: call
// block_stop_signals in main before any thread starts, so every thread inherits the mask.
void block_stop_signals();
// Waits for SIGTERM, SIGINT or SIGHUP; returns the signal number.
int wait_for_signal();
// Waits up to `timeout` for SIGTERM or SIGINT (a second one cuts a shutdown grace short);
// true when one came.
bool wait_for_stop_signal(std::chrono::milliseconds timeout);

}  // namespace discodns::daemon
