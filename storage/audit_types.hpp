#pragma once
// Audit record types, free of SQLite so that handlers can use them.
#include <cstdint>
#include <optional>
#include <string>

#include "bot/core/types.hpp"

namespace signoff::audit {

// What a command or timer contributes; seq, ts and hashes are assigned on append.
struct entry {
  signoff::platform platform = signoff::platform::system;
  std::string workspace, channel, actor, action, subject;
  std::optional<std::int64_t> revision;
  signoff::outcome outcome = signoff::outcome::ok;
  std::string detail;   // a JSON object
};

// A record as stored: every column as the text the database holds, so that
// queries, exports and verify show (and hash) a hand-edited row as it is,
// a platform or outcome SPEC does not list included (verify names those).
struct record {
  std::int64_t seq = 0;
  std::string ts;
  std::string platform, workspace, channel, actor, action, subject;
  std::optional<std::int64_t> revision;
  std::string outcome, detail, prev_hash, hash;
};

// The last record of the chain as a writer last saw it, so consecutive
// appends in one transaction do not read it back each time. Valid only while
// the writer holds its write transaction (another process may append
// between transactions): the store clears it at every BEGIN and restores it
// when a savepoint is rolled back.
struct chain_tail {
  bool known = false;
  std::int64_t seq = 0;
  std::string ts, hash;
};

struct filter {
  std::optional<std::int64_t> seq;         // one record (audit prove)
  std::string subject, actor, action;      // '' = any
  std::optional<time_point> since, until;  // inclusive bounds on ts
  std::optional<std::int64_t> limit;       // nullopt = no limit
  bool newest_first = true;
  std::string outcome, platform;           // '' = any (the console's filters)
  // Keyset paging (the console's log): only records with seq < before /
  // seq > after, so a deep page costs what the first does.
  std::optional<std::int64_t> before, after;
};

}  // namespace signoff::audit
