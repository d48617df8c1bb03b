#include "bot/app/audit_open.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <system_error>
#include <utility>

#include "bot/core/text.hpp"

namespace signoff::app {
namespace fs = std::filesystem;
namespace {

// Absent only when stat() says so: a side file we may not inspect counts as
// present, which leads to the careful paths (in place or a copy), never to
// immutable.
evidence_db::file_state state_of(const std::string& path) {
  evidence_db::file_state s;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    s.exists = errno != ENOENT && errno != ENOTDIR;
    return s;
  }
  s.exists = true;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime = st.st_mtim;
  s.ctime = st.st_ctim;
  if (int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    std::size_t got = 0;
    while (got < s.header.size()) {
      const ssize_t n = ::read(fd, s.header.data() + got, s.header.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    ::close(fd);
  }
  return s;
}

bool same_time(const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

// The -wal across a copy: the same file with the same 32-byte header (magic,
// checkpoint sequence, salts). Appends (size, mtime) do not matter; a restart
// after a checkpoint rewrites the header.
bool same_wal(const evidence_db::file_state& a, const evidence_db::file_state& b) {
  return a.exists == b.exists && a.dev == b.dev && a.ino == b.ino &&
         std::memcmp(a.header.data(), b.header.data(), 32) == 0;
}

// `file:` URI for an absolute path: every byte but unreserved characters and
// '/' percent-encoded, so '?', '#', '%' and non-ASCII names survive.
std::string immutable_uri(const std::string& abs_path) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string u = "file:";
  for (const char ch : abs_path) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || c == '/') {
      u += ch;
    } else {
      u += '%';
      u += hex[c >> 4];
      u += hex[c & 0xf];
    }
  }
  u += "?immutable=1";
  return u;
}

// SQLite opens lazily: the first statement is what finds out whether the
// file is a database and whether the -shm can be used.
void probe(sql::db& d) { d.prepare("SELECT count(*) FROM sqlite_master").run(); }

// Failures that come from not being allowed to write beside the file (or to
// the -shm), which a private copy avoids; anything else (not a database,
// corrupt) would fail on the copy too.
bool cannot_write_here(int code) {
  switch (code & 0xff) {
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_IOERR:
      return true;
    default:
      return false;
  }
}

[[noreturn]] void fail(const std::string& what, int code = SQLITE_CANTOPEN) {
  throw sql::store_error(code, what);
}

fs::path make_private_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/signoff-audit-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr)
    fail("cannot create a private directory for a copy of the database (" + without_controls(templ) +
         "): " + std::strerror(errno));
  return templ;
}

void copy_file(const std::string& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  // copy_file keeps the source's mode: 0444 evidence would make a read-only copy.
  if (!ec) fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace, ec);
  if (ec) fail("cannot copy " + without_controls(from) + " to " + without_controls(to.string()) + ": " + ec.message());
}

// Copies db, then -wal and -journal where present, into `dir`, until a copy
// was taken while the main file and the -wal's header stayed the same.
fs::path copy_consistently(const std::string& file, const fs::path& dir) {
  const fs::path db_copy = dir / "audit.db";
  const std::string wal = file + "-wal", journal = file + "-journal";
  constexpr int tries = 3;
  for (int attempt = 1;; ++attempt) {
    const auto db0 = state_of(file);
    const auto wal0 = state_of(wal);
    copy_file(file, db_copy);
    std::error_code ec;
    for (const auto& [side, suffix] : {std::pair{&wal, "-wal"}, std::pair{&journal, "-journal"}}) {
      const fs::path to = dir / (std::string("audit.db") + suffix);
      if (state_of(*side).exists)
        copy_file(*side, to);
      else
        fs::remove(to, ec);
    }
    if (db0 == state_of(file) && same_wal(wal0, state_of(wal))) return db_copy;
    if (attempt == tries)
      fail("the database kept changing while it was copied (" + std::to_string(tries) +
               " tries): take a consistent copy with `sqlite3 DB \".backup copy.db\"` and audit that",
           SQLITE_BUSY);
  }
}

}  // namespace

bool operator==(const evidence_db::file_state& a, const evidence_db::file_state& b) {
  return a.exists == b.exists && a.dev == b.dev && a.ino == b.ino && a.size == b.size &&
         same_time(a.mtime, b.mtime) && same_time(a.ctime, b.ctime) && a.header == b.header;
}

std::unique_ptr<evidence_db> evidence_db::open(const std::string& path, std::ostream& notes) {
  std::unique_ptr<evidence_db> e(new evidence_db());
  const sql::db::options read_only{.read_only = true, .create = false};
  if (path.starts_with("file:")) {
    e->db_ = std::make_unique<sql::db>(path, read_only);
    sqlite3_busy_timeout(e->db_->handle(), 5000);
    return e;
  }
  // SQLite would create a missing file (or open an empty temporary database
  // for ""), and an auditor's typo must not leave a stray database behind.
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail("no database file at " + without_controls(path));
  // Side files sit beside the file SQLite opens, which is behind any symlink.
  const std::string file = fs::canonical(path, ec).string();
  if (ec) fail("cannot resolve " + without_controls(path) + ": " + ec.message());
  const std::string shown = without_controls(path);

  const file_state before = state_of(file);
  const bool wal = state_of(file + "-wal").exists;
  const bool shm = state_of(file + "-shm").exists;
  const bool journal = state_of(file + "-journal").exists;

  if (!wal && !shm && !journal) {
    e->db_ = std::make_unique<sql::db>(immutable_uri(file), read_only);
    probe(*e->db_);
    e->how_ = how::immutable;
    e->path_ = file;
    e->before_ = before;
    notes << "signoff audit: note: no -wal, -shm or -journal file beside " << shown
          << ", so no writer has it open: reading it as immutable (no locks, no files created)\n";
    return e;
  }

  std::string why;
  if (wal == shm) {
    try {
      e->db_ = std::make_unique<sql::db>(file, read_only);
      // The bot may be checkpointing; wait for it rather than fail at once.
      sqlite3_busy_timeout(e->db_->handle(), 5000);
      probe(*e->db_);
      e->how_ = how::in_place;
      return e;
    } catch (const sql::store_error& err) {
      if (!cannot_write_here(err.code)) throw;
      e->db_.reset();
      why = std::string("it cannot be read in place (") + err.what() + ")";
    }
  } else if (wal) {
    why = "it has a -wal file but no -shm (reading it in place would create the -shm beside it)";
  } else {
    why = "it has a -shm file but no -wal (reading it in place would create the -wal beside it)";
  }

  e->copy_dir_ = make_private_dir();
  e->how_ = how::private_copy;
  const fs::path copy = copy_consistently(file, e->copy_dir_);
  notes << "signoff audit: note: " << shown << ": " << why << "; reading a private copy of it"
        << (wal ? " and its -wal" : "") << (journal ? " and its -journal" : "") << " in "
        << without_controls(e->copy_dir_.string()) << " instead (removed afterwards)\n";
  // Read-write, so that SQLite recovers the -wal or rolls back a hot journal
  // in the copy exactly as a writer beside the original would; query_only
  // keeps this connection from changing anything else.
  e->db_ = std::make_unique<sql::db>(copy.string(), sql::db::options{.read_only = false, .create = false});
  e->db_->exec("PRAGMA query_only = ON");
  probe(*e->db_);
  return e;
}

evidence_db::~evidence_db() {
  db_.reset();  // close before removing the files it has open
  if (!copy_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(copy_dir_, ec);
  }
}

std::optional<std::string> evidence_db::changed() const {
  if (how_ != how::immutable || state_of(path_) == before_) return std::nullopt;
  return "the database file changed while it was read (a writer opened it after this command "
         "found no -wal, -shm or -journal beside it), so what was read cannot be trusted: run the "
         "command again";
}

}  // namespace signoff::app
