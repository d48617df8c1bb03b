#pragma once
// Small helpers for unit tests that drive the executor or the pipeline
// directly (no binary, no platform).
#include <string>

#include "handlers/executor.hpp"

namespace signoff::test {

// A small team: alice (drafter), bob (approver), heidi (auditor); class
// standard with one comms stage; channel approvals on Slack (C1).
inline constexpr const char* small_team_toml = R"(
[storage]
path = "unused.db"
[[people]]
id = "alice"
roles = ["drafter"]
[[people]]
id = "bob"
roles = ["approver"]
[[people]]
id = "heidi"
roles = ["auditor"]
[roles]
draft = ["drafter", "approver"]
approve = ["approver"]
audit = ["auditor"]
[approval.standard]
stages = [{ name = "comms", roles = ["approver"], count = 1 }]
[channels]
approvals = { slack = "C1" }
)";

// A command line typed by config person `who` on `platform`, with an
// optional delivery ID.
inline incoming as(const std::string& who, const std::string& line, platform on = platform::shell,
                   const std::string& envelope = {}) {
  incoming in;
  in.who.platform = on;
  in.who.platform_user = who;
  in.who.person = who;
  in.who.envelope = envelope;
  in.line = line;
  return in;
}

}  // namespace signoff::test
