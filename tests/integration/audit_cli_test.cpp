// Integration tests of `signoff audit verify|query|export` on an auditor's
// evidence copy (SPEC "Command-line interface": the audit commands open the
// database read-only and must work on a copy its reader cannot write, leaving
// no file behind), and on a live database whose latest records are only in
// its -wal.
//
// A read-only directory is only read-only to someone chmod binds: CI runs as
// root, which writes anyway. So as root the CLI runs as `nobody` (setpriv,
// util-linux); as anyone else chmod alone is real. Both paths exercise the
// read-only case; nothing here is skipped.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/fixture.hpp"
#include "support/process.hpp"
#include "support/sqlite_db.hpp"

namespace {

using namespace signoff::test;
namespace fs = std::filesystem;

constexpr uid_t nobody = 65534;
const bool as_root = ::geteuid() == 0;

std::string setpriv_path() {
  for (const char* p : {"/usr/bin/setpriv", "/bin/setpriv"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

// An auditor who may read the evidence but not write it: the test's own user,
// or `nobody` when the test runs as root.
struct auditor {
  std::string tmpdir;  // TMPDIR for the CLI ('' = inherited)

  std::vector<std::string> prefix() const {
    std::vector<std::string> argv;
    if (!tmpdir.empty()) argv = {"/usr/bin/env", "TMPDIR=" + tmpdir};
    if (as_root) {
      const std::string setpriv = setpriv_path();
      REQUIRE_FALSE(setpriv.empty());  // util-linux: needed to drop root
      argv.insert(argv.end(), {setpriv, "--reuid=" + std::to_string(nobody),
                               "--regid=" + std::to_string(nobody), "--clear-groups", "--"});
    }
    return argv;
  }

  run_result run_argv(const std::vector<std::string>& args) const {
    auto argv = prefix();
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }

  // `signoff audit SUB --db DB ARGS...` as this auditor.
  run_result audit(const std::string& db, const std::string& sub, const std::vector<std::string>& args = {}) const {
    std::vector<std::string> argv{SIGNOFF_BINARY, "audit", sub, "--db", db};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_argv(argv);
  }

  // The auditor must be able to run the binary at all (as nobody: every
  // directory above it must be searchable by others).
  void require_can_run() const {
    auto r = run_argv({SIGNOFF_BINARY, "--version"});
    INFO("the auditor (" << (as_root ? "nobody, via setpriv" : "this user") << ") cannot run "
                         << SIGNOFF_BINARY << ": make it and its directories world-executable\n"
                         << transcript(r));
    REQUIRE(r.status == 0);
  }
};

void chmod_or_fail(const fs::path& p, mode_t mode) { REQUIRE(::chmod(p.c_str(), mode) == 0); }

// Gives `p` to the auditor where that is another user (root's tests).
void give_to_auditor(const fs::path& p) {
  if (as_root) REQUIRE(::chown(p.c_str(), nobody, nobody) == 0);
}

// Restores a directory's mode when the test ends, so temp_dir can remove it
// (a non-root test cannot delete files from a 0555 directory).
struct mode_restorer {
  fs::path dir;
  ~mode_restorer() { ::chmod(dir.c_str(), 0755); }
};

// name -> size and SHA-256 of the contents: "unchanged" covers the evidence's
// bytes, not only its names.
std::map<std::string, std::string> listing(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    out[e.path().filename().string()] = std::to_string(buf.str().size()) + " " + sha256_hex(buf.str());
  }
  return out;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// The number of records a reader of the main file alone sees (immutable:
// the -wal is ignored), 0 when the main file holds no audit_log yet.
std::int64_t records_in_main_file(const std::string& db) {
  sqlite3* h = nullptr;
  std::int64_t n = 0;
  const std::string uri = "file:" + db + "?immutable=1";  // test paths need no escaping
  if (sqlite3_open_v2(uri.c_str(), &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(h, "SELECT count(*) FROM audit_log", -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
      n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close(h);
  return n;
}

// A few decisions, written by a shell session that has ended.
void populate(const installation& inst) {
  auto r = inst.shell(
      "/draft new First post\n"
      "@bob /approve D-1 fine\n"
      "/draft new =HYPERLINK(\"http://x\") second\n"
      "@heidi /audit D-1\n");
  INFO(transcript(r));
  REQUIRE(r.status == 0);
}

// A consistent evidence copy as README advises (VACUUM INTO), in WAL mode
// like the bot's database, mode 0444, in `dir` (made searchable by others).
std::string evidence_copy(const installation& inst, const temp_dir& dir) {
  const std::string to = dir.file("evidence.db");
  {
    auto src = inst.db();
    src.rows("VACUUM INTO ?", {to});
  }
  {
    sqlite_db copy(to);
    REQUIRE(copy.text("PRAGMA journal_mode=WAL") == "wal");
  }  // closed: the copy's -wal and -shm are gone
  // Bytes 18 and 19 of the header are 2 in a WAL database: the case SQLite's
  // read-only opening cannot handle without writing.
  std::ifstream in(to, std::ios::binary);
  char header[20] = {};
  in.read(header, sizeof header);
  REQUIRE(header[18] == 2);
  REQUIRE(header[19] == 2);
  REQUIRE(names_in(dir.path()) == std::vector<std::string>{"evidence.db"});
  chmod_or_fail(to, 0444);
  chmod_or_fail(dir.path(), 0755);
  return to;
}

std::int64_t count_rows(const installation& inst, const std::string& sql) {
  auto db = inst.db();
  return db.integer(sql);
}

// verify, query and export all succeed on `db` and see `records` records.
void reads_everything(const auditor& who, const std::string& db, std::int64_t records) {
  const std::string ok = "audit verify: OK, " + std::to_string(records) + " records";
  auto v = who.audit(db, "verify");
  INFO(transcript(v));
  CHECK(v.status == 0);
  CHECK(contains(v.out, ok));
  CHECK_FALSE(contains(v.err, "readonly"));

  auto q = who.audit(db, "query", {"--format", "json"});
  INFO(transcript(q));
  REQUIRE(q.status == 0);
  CHECK(static_cast<std::int64_t>(boost::json::parse(q.out).as_array().size()) == records);

  auto e = who.audit(db, "export", {"--format", "csv"});
  INFO(transcript(e));
  REQUIRE(e.status == 0);
  CHECK(static_cast<std::int64_t>(parse_csv(e.out).size()) == records + 1);
  auto j = who.audit(db, "export", {"--format", "jsonl"});
  REQUIRE(j.status == 0);
  CHECK(static_cast<std::int64_t>(split_lines(j.out).size()) == records);
}

}  // namespace

TEST_CASE("audit CLI reads a WAL evidence copy in a read-only directory and leaves it unchanged",
          "[integration][audit]") {
  auditor who;
  who.require_can_run();
  installation inst(SIGNOFF_BINARY);
  populate(inst);
  const auto records = count_rows(inst, "SELECT count(*) FROM audit_log");
  REQUIRE(records >= 4);

  temp_dir evidence;
  const std::string db = evidence_copy(inst, evidence);
  mode_restorer restore{evidence.path()};
  chmod_or_fail(evidence.path(), 0555);
  const auto before = listing(evidence.path());

  // The directory is really read-only to the auditor: a write attempt fails.
  auto probe = who.run_argv({"/usr/bin/touch", evidence.file("probe")});
  REQUIRE(probe.status != 0);

  reads_everything(who, db, records);
  auto v = who.audit(db, "verify");
  CHECK(contains(v.err, "immutable"));  // the note says how it was read
  CHECK(listing(evidence.path()) == before);
}

TEST_CASE("audit CLI leaves no -wal or -shm beside a copy in a writable directory",
          "[integration][audit]") {
  auditor who;
  who.require_can_run();
  installation inst(SIGNOFF_BINARY);
  populate(inst);
  const auto records = count_rows(inst, "SELECT count(*) FROM audit_log");

  temp_dir evidence;
  const std::string db = evidence_copy(inst, evidence);
  give_to_auditor(evidence.path());  // the auditor may write the directory
  const auto before = listing(evidence.path());

  // The auditor can create files there: this is the case where SQLite would.
  auto probe = who.run_argv({"/usr/bin/touch", evidence.file("probe")});
  REQUIRE(probe.status == 0);
  fs::remove(evidence.file("probe"));

  reads_everything(who, db, records);
  CHECK_FALSE(fs::exists(db + "-wal"));
  CHECK_FALSE(fs::exists(db + "-shm"));
  CHECK(listing(evidence.path()) == before);
}

TEST_CASE("audit CLI on a live database sees the records that are only in its -wal",
          "[integration][audit]") {
  auditor who;
  who.require_can_run();
  installation inst(SIGNOFF_BINARY);
  populate(inst);  // these records are checkpointed into the main file
  auto sh = inst.start_shell();
  REQUIRE(sh.write("/draft new Only in the WAL\n"));
  REQUIRE(sh.wait_for_stdout("D-3 created", 10s));
  REQUIRE(sh.write("@bob /approve D-3 live\n"));
  // Wait for the approval and the posts it causes (post.sent records come
  // from the outbox, after the reply) until the log stands still for 1 s.
  auto db_conn = inst.db();
  const auto count_all = [&] { return db_conn.integer("SELECT count(*) FROM audit_log"); };
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  auto last = count_all();
  auto still_since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    const auto n = count_all();
    if (n != last) {
      last = n;
      still_since = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - still_since > 1s &&
               db_conn.integer("SELECT count(*) FROM audit_log WHERE subject = 'D-3' AND "
                               "action = 'draft.approve'") == 1) {
      break;
    }
  }
  const auto records = count_all();
  const auto d3 = db_conn.integer("SELECT count(*) FROM audit_log WHERE subject = 'D-3'");
  REQUIRE(d3 >= 2);
  const std::string& path = inst.db_path();
  REQUIRE(fs::exists(path + "-wal"));
  REQUIRE(fs::exists(path + "-shm"));
  // The precondition of the test: some records are in the -wal alone, so a
  // reader that ignored it (immutable) would miss them.
  REQUIRE(records_in_main_file(path) < records);

  SECTION("read in place, in a directory the auditor cannot write") {
    // Readable by the auditor (the bot may create its files 0600), the
    // directory not writable by it.
    for (const auto& f : {path, path + "-wal", path + "-shm"}) chmod_or_fail(f, 0644);
    chmod_or_fail(inst.dir().path(), 0755);
    const auto names = names_in(inst.dir().path());
    reads_everything(who, path, records);
    auto q = who.audit(path, "query", {"--subject", "D-3", "--format", "json"});
    INFO(transcript(q));
    REQUIRE(q.status == 0);
    const auto arr = boost::json::parse(q.out).as_array();
    REQUIRE(static_cast<std::int64_t>(arr.size()) == d3);
    // Newest first: the approval made while the shell runs is among them.
    CHECK(std::any_of(arr.begin(), arr.end(), [](const boost::json::value& v) {
      return v.at("action").as_string() == "draft.approve" && v.at("actor").as_string() == "bob";
    }));
    CHECK(names_in(inst.dir().path()) == names);
  }

  SECTION("a copy taken with its -wal (as a crash would leave it) reads through a private copy") {
    // Main file first, then the -wal: frames appended meanwhile are ignored
    // by SQLite up to the last complete commit.
    temp_dir evidence, tmp;
    const std::string db = evidence.file("evidence.db");
    fs::copy_file(path, db);
    fs::copy_file(path + "-wal", db + "-wal");
    for (const auto& f : {db, db + "-wal"}) chmod_or_fail(f, 0444);
    chmod_or_fail(evidence.path(), 0755);
    give_to_auditor(tmp.path());
    auditor with_tmp{tmp.path().string()};

    SECTION("in a read-only directory") {
      mode_restorer restore{evidence.path()};
      chmod_or_fail(evidence.path(), 0555);
      const auto before = listing(evidence.path());
      reads_everything(with_tmp, db, records);
      auto v = with_tmp.audit(db, "verify");
      CHECK(contains(v.err, "private copy"));
      CHECK(listing(evidence.path()) == before);
    }
    SECTION("in a writable directory: no -shm appears beside it") {
      give_to_auditor(evidence.path());
      const auto before = listing(evidence.path());
      reads_everything(with_tmp, db, records);
      CHECK_FALSE(fs::exists(db + "-shm"));
      CHECK(listing(evidence.path()) == before);
    }
    auto q = with_tmp.audit(db, "query", {"--subject", "D-3", "--format", "csv"});
    REQUIRE(q.status == 0);
    CHECK(static_cast<std::int64_t>(parse_csv(q.out).size()) == d3 + 1);
    CHECK(names_in(tmp.path()).empty());  // the private copy is removed
  }

  sh.close_stdin();
  CHECK(sh.wait_exit(10s) == 0);
}
