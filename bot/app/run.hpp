#pragma once
// `signoff run`: serves every configured platform (SPEC "Command-line
// interface"): logs to stderr without secrets, /healthz and /metrics on
// [http] listen, READY to systemd once config, database and adapters are up,
// and a clean exit on SIGTERM after the commands in flight are answered.
#include <string>

namespace signoff {

// Returns the exit status: 0 after SIGTERM/SIGINT, 2 on a bad config or a
// missing secret, 1 when the database or the health listener cannot start.
int run_service(const std::string& config_path);

// Sends `state` (e.g. "READY=1") to systemd's $NOTIFY_SOCKET, when set.
void sd_notify(const std::string& state);

}  // namespace signoff
