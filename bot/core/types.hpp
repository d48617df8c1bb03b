#pragma once
// Platform-neutral types shared by adapters, handlers and storage.
#include <chrono>
#include <cstdint>
#include <string>

#include "bot/core/enums.hpp"

namespace signoff {

// All times in signoff are UTC with millisecond resolution.
using time_point = std::chrono::sys_time<std::chrono::milliseconds>;

// Who sent a command and from where, as an adapter saw it. `person` is the
// config's person id, or empty when the platform user is not in the config.
struct actor {
  // The adapter it came through. Qualified: a member may not change what
  // `platform` names inside the class.
  signoff::platform platform = signoff::platform::shell;
  std::string workspace;      // team / guild / server ('' where none)
  std::string channel;        // platform channel ID ('' where none)
  std::string platform_user;  // the platform's own user ID
  std::string person;         // config person id, '' when unknown
  std::string os_user;        // shell only
  std::string envelope;       // platform delivery ID ('' where none)

  // The audit `actor` column: person id, or `unknown:<platform_user>`.
  std::string audit_name() const { return person.empty() ? "unknown:" + platform_user : person; }
};

}  // namespace signoff
