// Raises RLIMIT_NOFILE's soft limit to the hard one at start: each TCP client and admin
// connection holds a descriptor, and the soft default (often 1024) is far below what the
// hard limit (systemd's LimitNOFILE) allows.
#pragma once

namespace discodns::daemon {

// Call before any thread starts. Logs what it did (info) or why it could not (warn).
void raise_fd_limit();

}  // namespace discodns::daemon
