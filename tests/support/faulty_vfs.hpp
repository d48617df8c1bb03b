#pragma once
// A SQLite VFS shim for tests: wraps the default VFS and, on demand, fails
// writes, syncs or locks. CI runs as root, where a chmod'ed "read-only"
// database is no fault at all, so this is how tests prove "disk full / I/O
// error / locked -> command refused, nothing half-done" (the idea of
// SQLite's own test6.c crash tests).
//
// Usage: open with sql::db::options{.vfs = signoff::test::faulty_vfs_name()},
// then set a flag in faults(); clear it before reopening to inspect the
// result. The flags are process-wide and affect every file opened through
// the shim (database, journal, WAL).
#include <atomic>

namespace signoff::test {

struct vfs_faults {
  // xWrite returns SQLITE_FULL (disk full).
  std::atomic<bool> fail_writes{false};
  // xSync returns SQLITE_IOERR_FSYNC.
  std::atomic<bool> fail_syncs{false};
  // xLock returns SQLITE_BUSY (rollback-journal locking), and so does taking
  // the WAL write lock through xShmLock: in WAL mode a connection already
  // holds its SHARED file lock and BEGIN IMMEDIATE never calls xLock.
  std::atomic<bool> fail_locks{false};
  // Successful xSync calls (fsync/fdatasync) so far: tests count them.
  std::atomic<long> syncs{0};

  void clear() noexcept {
    fail_writes = false;
    fail_syncs = false;
    fail_locks = false;
  }
};

// The process-wide fault switches.
vfs_faults& faults();

// Registers the shim once (not as the default VFS) and returns its name, for
// sql::db::options::vfs. Thread-safe.
const char* faulty_vfs_name();

}  // namespace signoff::test
