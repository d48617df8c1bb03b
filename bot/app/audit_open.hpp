#pragma once
// Opening the database for `signoff audit` so that it reads an auditor's
// evidence copy it cannot write, and leaves no file beside it (SPEC
// "Command-line interface"). Plain SQLite cannot do either on a WAL database:
// a read-only connection needs the -shm (and -wal) files, creates them where
// the directory is writable, and fails with "attempt to write a readonly
// database" where it is not.
//
// The choice, by what lies beside the file (side files: -wal, -shm, -journal):
//
// 1. No side file: no WAL writer has the database open (a WAL writer keeps
//    -wal and -shm while it is open and removes them at its last close), so
//    everything is in the main file. It is opened as `file:PATH?immutable=1`
//    (PATH percent-encoded) read-only, which takes no locks and creates
//    nothing. Immutable also means SQLite does not notice a writer that
//    starts meanwhile (or a rollback-journal writer that was open but idle,
//    which leaves no side file between transactions), so the file is
//    stat()ed (device, inode, size, mtime, ctime) and its 100-byte header
//    read before opening, and changed() compares them again after the work:
//    a WAL writer that opened it since writes only its -wal until it
//    checkpoints, a rollback writer writes the file itself; a change refuses
//    the result rather than trusting it.
//
// 2. -wal and -shm both (a running writer, or a copy taken with both), or a
//    -journal alone (a rollback-mode writer mid-transaction, or a hot journal
//    left by a crash): SQLite's ordinary read-only open in place, waiting up
//    to 5 s for locks. It creates nothing (the side files it needs exist);
//    where the -shm is writable SQLite may rebuild the index it holds (a
//    cache of the -wal, not evidence); the main file, -wal and -journal are
//    never written. If the open fails because files or the directory cannot
//    be written (SQLITE_READONLY, CANTOPEN, PERM or IOERR: a -shm no writer
//    initialised, a hot journal a reader may not roll back), go on to 3.
//
// 3. Otherwise (-wal without -shm, as in a copy taken with a crash-leftover
//    WAL; -shm without -wal; or 2 failed): opening in place would create the
//    missing side file beside the evidence, or cannot work, and immutable
//    would ignore the records in the -wal (or the rollback in the -journal).
//    So the database and whichever of -wal and -journal exist are copied
//    into a fresh private directory (mkdtemp under $TMPDIR or /tmp, mode
//    0700); the copy is opened read-write (so SQLite recovers the -wal or
//    rolls back the journal there, as any reader beside a writable original
//    would) with `PRAGMA query_only`, and the directory is removed when this
//    object goes. The copy is taken main file first, then -wal: appends to
//    the -wal meanwhile are harmless (SQLite ignores frames after the last
//    complete commit), a checkpoint is not, so the copy is taken again (3
//    tries in all) unless the main file's stat and the -wal's 32-byte header
//    (its salts change when a checkpoint restarts it) were the same before
//    and after.
//
// 1 and 3 are announced in one line each on `notes` (stderr); 2 is SQLite's
// ordinary read-only open and says nothing. A `file:` URI is passed to SQLite
// as given (with the read-only flag and none of the above): whoever writes
// one chooses its parameters, `immutable=1` included.
//
// Limits: 3 needs free space in $TMPDIR for a copy of the database; a run
// killed by a signal leaves that private copy behind (in $TMPDIR, never
// beside the evidence). A side file this process may not even stat counts
// as present.
#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "storage/sqlite.hpp"

namespace signoff::app {

class evidence_db {
 public:
  enum class how { uri, immutable, in_place, private_copy };

  // Opens `path` (a plain path, which must name an existing regular file, or a
  // `file:` URI) as described above. Throws sql::store_error when it cannot
  // be opened or is not a database.
  static std::unique_ptr<evidence_db> open(const std::string& path, std::ostream& notes);

  ~evidence_db();
  evidence_db(const evidence_db&) = delete;
  evidence_db& operator=(const evidence_db&) = delete;

  sql::db& db() { return *db_; }
  how mode() const { return how_; }
  // The private copy's directory (empty unless mode() is private_copy).
  const std::filesystem::path& copy_dir() const { return copy_dir_; }

  // For an immutable open: why the file cannot have been read consistently
  // (it changed since it was opened), or nullopt. Always nullopt otherwise,
  // where SQLite's locks give a consistent snapshot.
  std::optional<std::string> changed() const;

  struct file_state {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{}, ctime{};
    std::array<char, 100> header{};  // the first bytes (SQLite header, WAL header)
    friend bool operator==(const file_state& a, const file_state& b);
  };

 private:
  evidence_db() = default;

  how how_ = how::uri;
  std::string path_;  // the file read (canonical), for changed()
  file_state before_;
  std::filesystem::path copy_dir_;
  // Declared last: closed before the copy's directory is removed.
  std::unique_ptr<sql::db> db_;
};

}  // namespace signoff::app
