#pragma once
// `signoff run` under test, for the platform integration tests (Slack,
// Discord): start it on an installation, learn its health port, wait on its
// log, crash or stop it, and check what it recorded. Each platform's test
// environment derives from this and adds its fake.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "support/fixture.hpp"
#include "support/process.hpp"

namespace signoff::test {

struct running_bot {
  std::unique_ptr<child> bot;
  std::uint16_t http_port = 0;

  running_bot() = default;
  running_bot(const running_bot&) = delete;
  running_bot& operator=(const running_bot&) = delete;
  ~running_bot() { terminate(); }
  // SIGTERM, then waits: a test that failed half-way leaves no process.
  // Environments call it in their own destructor, before their fake and
  // installation go.
  void terminate();

  // Starts `signoff run` on `inst` and waits for the health port it logs
  // (REQUIREs that it does within 10 s).
  void launch(const installation& inst);
  // SIGKILL: a crash.
  void crash();
  // SIGTERM; its exit status (REQUIREs that it exits within 15 s).
  int stop();
  // Polls `cond` (draining the bot's stderr meanwhile) until true or
  // `timeout`; on a timeout the bot's log goes into the test's report.
  bool wait(const std::function<bool()>& cond, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits until the bot's log contains `needle`.
  bool log_has(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Audit records of `inst` matching the SQL condition `where`.
  static std::int64_t count(const installation& inst, const std::string& where);
  // The chain recomputed independently, and `audit verify` passes.
  static void chain_holds(const installation& inst);
  // A loopback TCP port nothing listens on right now (for a config that
  // must name the bot's own port before it starts, as actions_url does).
  static std::uint16_t free_port();
};

}  // namespace signoff::test
