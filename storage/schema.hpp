#pragma once
#include <cstdint>
#include <string>

#include "storage/sqlite.hpp"

namespace signoff::sql {

// Brings the database to the newest schema, one numbered migration at a time
// (PRAGMA user_version), each in its own transaction. Refuses a database
// whose version is newer than this build knows.
void migrate(db& d);

// The schema version this build writes.
int schema_version();

// signoff's `PRAGMA application_id` ('SIGN'), set by migration 3.
inline constexpr std::int64_t application_id = 1397311310;

// Refuses (store_error) a non-empty database that is not signoff's: one with
// another application_id, or tables but no signoff schema. Call before
// anything writes (WAL mode would already convert the file). `path` is for
// the message.
void check_ours(db& d, const std::string& path);

// Connection settings for a read-write store: WAL, synchronous=FULL,
// foreign keys, busy timeout.
void configure_rw(db& d, int busy_timeout_ms);

}  // namespace signoff::sql
