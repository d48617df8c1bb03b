#pragma once
#include "storage/sqlite.hpp"

namespace signoff::sql {

// Brings the database to the newest schema, one numbered migration at a time
// (PRAGMA user_version), each in its own transaction. Refuses a database
// whose version is newer than this build knows.
void migrate(db& d);

// The schema version this build writes.
int schema_version();

// Connection settings for a read-write store: WAL, synchronous=FULL,
// foreign keys, busy timeout.
void configure_rw(db& d, int busy_timeout_ms);

}  // namespace signoff::sql
