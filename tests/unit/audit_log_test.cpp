// The audit chain (SPEC "Audit store"): append, the append-only triggers,
// verify against tampering, query filters, the `signoff audit` CLI, and
// storage faults injected through the faulty VFS.
#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <stdlib.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "bot/app/audit_cli.hpp"
#include "bot/app/audit_open.hpp"
#include "bot/core/time.hpp"
#include "storage/audit_log.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite.hpp"
#include "support/faulty_vfs.hpp"
#include "support/fixture.hpp"
#include "support/process.hpp"

namespace {

using namespace signoff;
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::minutes;

using test::temp_dir;  // tests/support: one temp-dir helper for every test
using test::parse_csv;

// A store as the bot opens it: WAL, synchronous=FULL, migrated.
std::unique_ptr<sql::db> open_store(const std::string& path, const char* vfs = nullptr,
                                    int busy_ms = 1000) {
  auto d = std::make_unique<sql::db>(path, sql::db::options{.vfs = vfs});
  sql::configure_rw(*d, busy_ms);
  sql::migrate(*d);
  return d;
}

time_point at(std::string_view rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  if (!t) throw std::runtime_error("bad test time");
  return *t;
}

const time_point t0 = at("2026-11-22T10:00:00.000Z");

audit::entry make_entry(std::string actor, std::string action, std::string subject,
                        std::optional<std::int64_t> revision,
                        std::string detail = R"({"raw":"/test"})") {
  audit::entry e;
  e.platform = platform::slack;
  e.workspace = "T01";
  e.channel = "C01";
  e.actor = std::move(actor);
  e.action = std::move(action);
  e.subject = std::move(subject);
  e.revision = revision;
  e.outcome = outcome::ok;
  e.detail = std::move(detail);
  return e;
}

// SHA-256 of `data` as 32 raw bytes, through OpenSSL's EVP.
std::string sha256_raw(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  REQUIRE(ctx != nullptr);
  const bool ok = EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, data.data(), data.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, md, &len) == 1;
  EVP_MD_CTX_free(ctx);
  REQUIRE(ok);
  REQUIRE(len == 32);
  return std::string(reinterpret_cast<const char*>(md), len);
}

// SPEC's hash, computed here on its own (not through chain_hash): the 12
// fields joined by 0x1F, SHA-256 through OpenSSL's EVP, lowercase hex.
std::string spec_hash(const std::vector<std::string>& fields) {
  REQUIRE(fields.size() == 12);
  std::string pre;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) pre.push_back('\x1f');
    pre += fields[i];
  }
  std::string hex;
  char byte[3];
  for (unsigned char c : sha256_raw(pre)) {
    std::snprintf(byte, sizeof byte, "%02x", c);
    hex += byte;
  }
  return hex;
}

// RFC 6962 section 2.1 straight from its definition (not through
// bot/core/merkle): the Merkle Tree Hash of leaf data [begin, end).
std::string rfc6962_root(const std::vector<std::string>& leaves, std::size_t begin, std::size_t end) {
  const std::size_t n = end - begin;
  if (n == 0) return sha256_raw("");
  std::string in(1, n == 1 ? '\x00' : '\x01');
  if (n == 1) return sha256_raw(in + leaves[begin]);
  std::size_t k = 1;
  while (k * 2 < n) k *= 2;  // the largest power of two below n
  in += rfc6962_root(leaves, begin, begin + k);
  in += rfc6962_root(leaves, begin + k, end);
  return sha256_raw(in);
}

// 64 hex digits -> their 32 bytes.
std::string unhex(const std::string& hex) {
  REQUIRE(hex.size() == 64);
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// All 13 columns of every row as SQLite's text (NULL revision -> '').
std::vector<std::vector<std::string>> raw_rows(sql::db& d) {
  auto s = d.prepare(
      "SELECT seq, ts, platform, workspace, channel, actor, action, subject, revision, outcome, "
      "detail, prev_hash, hash FROM audit_log ORDER BY seq");
  std::vector<std::vector<std::string>> rows;
  while (s.step()) {
    auto& r = rows.emplace_back();
    for (int i = 0; i < 13; ++i) r.push_back(s.text(i));
  }
  return rows;
}

std::vector<std::string> hashed_fields(const std::vector<std::string>& row) {
  return {row.begin(), row.begin() + 12};
}

// Inserts a row as a forger would (INSERT is allowed; only UPDATE/DELETE are
// refused). `fields` are the 12 hashed fields; the hash is SPEC's unless given.
void insert_raw(sql::db& d, const std::vector<std::string>& fields,
                std::optional<std::string> hash = std::nullopt) {
  auto s = d.prepare(
      "INSERT INTO audit_log (seq, ts, platform, workspace, channel, actor, action, subject, "
      "revision, outcome, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
  s.bind(1, static_cast<std::int64_t>(std::stoll(fields[0])));
  for (int i = 1; i <= 7; ++i) s.bind(i + 1, fields[static_cast<std::size_t>(i)]);
  if (fields[8].empty())
    s.bind(9, std::nullopt);
  else
    s.bind(9, static_cast<std::int64_t>(std::stoll(fields[8])));
  s.bind(10, fields[9]).bind(11, fields[10]).bind(12, fields[11]);
  s.bind(13, hash ? *hash : spec_hash(fields));
  s.run();
}

// n records, one a minute from t0, cycling through a few subjects.
void fill(sql::db& d, int n) {
  sql::transaction tx(d);
  for (int i = 1; i <= n; ++i) {
    audit::append(d,
                  make_entry(i % 2 ? "alice" : "bob", i % 3 ? "draft.approve" : "draft.new",
                             "D-" + std::to_string(i % 7), i % 4 ? std::optional<std::int64_t>(i % 5)
                                                                 : std::nullopt),
                  t0 + minutes{i});
  }
  tx.commit();
}

int error_code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const sql::store_error& e) {
    return e.code;
  }
  return 0;
}

std::int64_t count(sql::db& d, const char* table) {
  auto s = d.prepare(std::string("SELECT count(*) FROM ") + table);
  s.step();
  return s.i64(0);
}

struct cli_result {
  int code;
  std::string out, err;
};

cli_result run_cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int code = app::run_audit_cli(args, out, err);
  return {code, out.str(), err.str()};
}


std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::int64_t> seqs(const std::vector<audit::record>& rs) {
  std::vector<std::int64_t> out;
  for (const auto& r : rs) out.push_back(r.seq);
  return out;
}

// Clears injected faults however a test ends: they are process-wide.
struct fault_guard {
  fault_guard() { test::faults().clear(); }
  ~fault_guard() { test::faults().clear(); }
};

}  // namespace

// ---------------------------------------------------------------- append ---

TEST_CASE("append builds a hash chain that SPEC's definition recomputes", "[audit][chain]") {
  temp_dir t;
  auto d = open_store(t.file("a.db"));
  // JSON-escaped control characters in detail (SPEC: only detail may carry
  // them, escaped), non-ASCII text, a NULL revision.
  const std::string tricky_detail =
      R"({"raw":"/approve D-1 line1\nline2\ttab \u001f unit sep \u0000","note":"Zoë \"q\""})";
  std::vector<audit::record> appended;
  {
    sql::transaction tx(*d);
    appended.push_back(audit::append(*d, make_entry("alice", "draft.new", "D-1", 1), t0));
    appended.push_back(
        audit::append(*d, make_entry("bob", "draft.approve", "D-1", 1, tricky_detail), t0 + milliseconds{1}));
    appended.push_back(
        audit::append(*d, make_entry("system", "escalation.level", "E-1", std::nullopt), t0 + minutes{1}));
    tx.commit();
  }

  const auto rows = raw_rows(*d);
  REQUIRE(rows.size() == 3);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CAPTURE(i);
    CHECK(rows[i][0] == std::to_string(i + 1));
    CHECK(rows[i][11] == (i == 0 ? std::string(64, '0') : rows[i - 1][12]));
    CHECK(rows[i][12] == spec_hash(hashed_fields(rows[i])));
    CHECK(rows[i][12] == appended[i].hash);
    CHECK(appended[i].seq == static_cast<std::int64_t>(i + 1));
  }
  CHECK(rows[1][10] == tricky_detail);
  CHECK(rows[2][8].empty());  // NULL revision hashes as the empty string
  CHECK(rows[0][1] == "2026-11-22T10:00:00.000Z");
  CHECK(rows[1][1] == "2026-11-22T10:00:00.001Z");
  CHECK(audit::verify(*d).ok);
}

TEST_CASE("append keeps ts strictly formatted and never decreasing", "[audit][chain]") {
  temp_dir t;
  auto d = open_store(t.file("a.db"));
  const std::regex strict(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)");
  // The clock steps back 10 s (NTP), then moves on.
  const time_point nows[] = {t0 + milliseconds{123}, t0 - std::chrono::seconds{10},
                             t0 + milliseconds{124}, at("2027-01-01T00:00:00Z")};
  for (auto now : nows) audit::append(*d, make_entry("alice", "help", "", std::nullopt), now);
  const auto rows = raw_rows(*d);
  REQUIRE(rows.size() == 4);
  for (const auto& r : rows) CHECK(std::regex_match(r[1], strict));
  CHECK(rows[0][1] == "2026-11-22T10:00:00.123Z");
  CHECK(rows[1][1] == "2026-11-22T10:00:00.123Z");  // held, not moved back
  CHECK(rows[2][1] == "2026-11-22T10:00:00.124Z");
  CHECK(rows[3][1] == "2027-01-01T00:00:00.000Z");
  for (std::size_t i = 1; i < rows.size(); ++i) CHECK(rows[i - 1][1] <= rows[i][1]);
  CHECK(audit::verify(*d).ok);
}

TEST_CASE("append replaces control bytes outside detail", "[audit][chain]") {
  temp_dir t;
  auto d = open_store(t.file("a.db"));
  auto e = make_entry("unknown:U1\x1f" "evil", "command.invalid", "D-1\n", std::nullopt,
                      R"({"raw":"x"})");
  e.channel = "C\x1b[31m";
  auto r = audit::append(*d, e, t0);
  CHECK(r.actor == "unknown:U1?evil");
  CHECK(r.subject == "D-1?");
  CHECK(r.channel == "C?[31m");
  const auto rows = raw_rows(*d);
  CHECK(rows[0][12] == spec_hash(hashed_fields(rows[0])));
  CHECK(audit::verify(*d).ok);
}

TEST_CASE("audit_log refuses UPDATE and DELETE", "[audit]") {
  temp_dir t;
  auto d = open_store(t.file("a.db"));
  fill(*d, 3);
  CHECK_THROWS_WITH(d->exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"),
                    Catch::Contains("append-only"));
  CHECK_THROWS_WITH(d->exec("DELETE FROM audit_log WHERE seq = 3"), Catch::Contains("append-only"));
  CHECK_THROWS_WITH(d->exec("DELETE FROM audit_log"), Catch::Contains("append-only"));
  CHECK(count(*d, "audit_log") == 3);
  CHECK(raw_rows(*d)[1][5] == "bob");
}

// ---------------------------------------------------------------- verify ---

TEST_CASE("verify passes on a good chain and on an empty log", "[audit][chain]") {
  temp_dir t;
  auto d = open_store(t.file("a.db"));
  auto empty = audit::verify(*d);
  CHECK(empty.ok);
  CHECK(empty.records == 0);
  CHECK(empty.first_bad_seq == 0);
  CHECK(empty.last_hash.empty());

  fill(*d, 1200);  // more than one hashing batch
  auto res = audit::verify(*d);
  CHECK(res.ok);
  CHECK(res.records == 1200);
  CHECK(res.first_bad_seq == 0);
  CHECK(res.problem.empty());
  CHECK(res.last_hash == raw_rows(*d).back()[12]);
}

TEST_CASE("verify reports the RFC 6962 root of each requested tree size", "[audit][chain]") {
  temp_dir t;
  auto d = open_store(t.file("a.db"));
  fill(*d, 1100);  // more than two hashing batches
  std::vector<std::string> leaves;  // SPEC: leaf data is the 32 bytes of the record's hash
  for (const auto& row : raw_rows(*d)) leaves.push_back(unhex(row[12]));
  const std::vector<std::int64_t> sizes = {0, 1, 2, 3, 7, 8, 9, 511, 512, 513, 1024, 1025, 1100};
  audit::verify_options opt;
  opt.roots_at = sizes;
  opt.roots_at.push_back(1101);  // past the log's end: no root
  const auto res = audit::verify(*d, opt);
  REQUIRE(res.ok);
  CHECK(res.roots.size() == sizes.size());
  for (const auto n : sizes) {
    INFO("tree size " << n);
    const auto it = res.roots.find(n);
    REQUIRE(it != res.roots.end());
    CHECK(std::string(it->second.begin(), it->second.end()) ==
          rfc6962_root(leaves, 0, static_cast<std::size_t>(n)));
  }
  CHECK_FALSE(res.roots.contains(1101));
}

TEST_CASE("verify names the record whose field was altered", "[audit][chain]") {
  struct tamper {
    const char* set;      // SQL assignment applied to seq 3
    const char* problem;  // expected in verify's problem
  };
  // Seq 3 of fill(): actor alice, action draft.new, subject D-3, revision 3.
  const tamper cases[] = {
      {"ts = '2026-11-22T10:03:00.500Z'", "hash does not match"},
      {"ts = '2026-11-22 10:03:00'", "ts is not of the form"},
      {"platform = 'discord'", "hash does not match"},
      {"workspace = 'T99'", "hash does not match"},
      {"channel = 'C99'", "hash does not match"},
      {"actor = 'mallory'", "hash does not match"},
      {"action = 'draft.reject'", "hash does not match"},
      {"subject = 'D-99'", "hash does not match"},
      {"revision = 4", "hash does not match"},
      {"revision = NULL", "hash does not match"},
      {"revision = 3.5", "revision is neither NULL nor an integer"},
      {"outcome = 'denied'", "hash does not match"},
      {"detail = '{\"raw\":\"forged\"}'", "hash does not match"},
      {"prev_hash = '" "0000000000000000000000000000000000000000000000000000000000000000" "'",
       "prev_hash does not match the hash of seq 2"},
      {"hash = '" "1111111111111111111111111111111111111111111111111111111111111111" "'",
       "hash does not match"},
      {"actor = 'ali' || char(31) || 'ce'", "control byte in actor"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.set);
    temp_dir t;
    auto d = open_store(t.file("a.db"));
    fill(*d, 5);
    d->exec("DROP TRIGGER audit_log_no_update");
    d->exec((std::string("UPDATE audit_log SET ") + c.set + " WHERE seq = 3").c_str());
    auto res = audit::verify(*d);
    CHECK_FALSE(res.ok);
    CHECK(res.first_bad_seq == 3);
    CHECK(res.records == 3);
    CHECK_THAT(res.problem, Catch::Contains(c.problem));
  }
}

TEST_CASE("verify catches a removed middle row", "[audit][chain]") {
  temp_dir t;
  auto d = open_store(t.file("a.db"));
  fill(*d, 5);
  d->exec("DROP TRIGGER audit_log_no_delete");
  d->exec("DELETE FROM audit_log WHERE seq = 3");
  auto res = audit::verify(*d);
  CHECK_FALSE(res.ok);
  CHECK(res.first_bad_seq == 4);
  CHECK_THAT(res.problem, Catch::Contains("seq gap: expected 3"));
}

TEST_CASE("verify catches a reordered pair", "[audit][chain]") {
  temp_dir t;
  auto d = open_store(t.file("a.db"));
  fill(*d, 5);
  d->exec("DROP TRIGGER audit_log_no_update");
  SECTION("seq values swapped") {
    d->exec("UPDATE audit_log SET seq = -1 WHERE seq = 2");
    d->exec("UPDATE audit_log SET seq = 2 WHERE seq = 3");
    d->exec("UPDATE audit_log SET seq = 3 WHERE seq = -1");
  }
  SECTION("contents swapped under fixed seq") {
    const char* cols = "ts, platform, workspace, channel, actor, action, subject, revision, "
                       "outcome, detail, prev_hash, hash";
    d->exec((std::string("CREATE TEMP TABLE saved AS SELECT seq, ") + cols +
             " FROM audit_log WHERE seq IN (2, 3)")
                .c_str());
    for (auto [to, from] : {std::pair{2, 3}, std::pair{3, 2}}) {
      std::string sql = "UPDATE audit_log SET (";
      sql += cols;
      sql += ") = (SELECT ";
      sql += cols;
      sql += " FROM saved WHERE seq = " + std::to_string(from) + ") WHERE seq = " + std::to_string(to);
      d->exec(sql.c_str());
    }
  }
  auto res = audit::verify(*d);
  CHECK_FALSE(res.ok);
  CHECK(res.first_bad_seq == 2);
}

TEST_CASE("verify catches forged records appended at the end", "[audit][chain]") {
  temp_dir t;
  auto d = open_store(t.file("a.db"));
  fill(*d, 5);
  const auto last = raw_rows(*d).back();
  // A self-consistent record (its own hash is right) after seq 5.
  std::vector<std::string> forged = {"6",  "2026-11-22T11:00:00.000Z", "slack", "T01", "C01",
                                     "mallory", "draft.approve", "D-1", "1", "ok",
                                     R"({"raw":"/approve D-1"})", last[12]};
  std::string problem;
  SECTION("wrong prev_hash") {
    forged[11] = std::string(64, 'a');
    problem = "prev_hash does not match the hash of seq 5";
  }
  SECTION("prev_hash of an older record") {
    forged[11] = raw_rows(*d)[2][12];
    problem = "prev_hash does not match the hash of seq 5";
  }
  SECTION("decreasing ts") {
    forged[1] = "2026-11-22T10:04:59.999Z";  // seq 5 is at 10:05:00.000
    problem = "ts decreases";
  }
  SECTION("wrong hash") {
    insert_raw(*d, forged, std::string(64, 'b'));
    problem = "hash does not match";
  }
  SECTION("control byte in a plain column, hash recomputed to match") {
    forged[7] = "D-1\x1f" "x";
    problem = "control byte in subject";
  }
  if (count(*d, "audit_log") == 5) insert_raw(*d, forged);
  auto res = audit::verify(*d);
  CHECK_FALSE(res.ok);
  CHECK(res.first_bad_seq == 6);
  CHECK_THAT(res.problem, Catch::Contains(problem));
}

TEST_CASE("verify reports the earliest problem in a long chain", "[audit][chain]") {
  temp_dir t;
  auto d = open_store(t.file("a.db"));
  fill(*d, 3000);
  d->exec("DROP TRIGGER audit_log_no_update");
  d->exec("DROP TRIGGER audit_log_no_delete");
  std::int64_t expected = 0;
  SECTION("one altered field late in the chain") {
    d->exec("UPDATE audit_log SET outcome = 'denied' WHERE seq = 2500");
    expected = 2500;
  }
  SECTION("an altered field before a gap") {
    d->exec("UPDATE audit_log SET detail = '{}' WHERE seq = 700");
    d->exec("DELETE FROM audit_log WHERE seq = 2000");
    expected = 700;
  }
  SECTION("a gap before an altered field") {
    d->exec("DELETE FROM audit_log WHERE seq = 600");
    d->exec("UPDATE audit_log SET detail = '{}' WHERE seq = 1500");
    expected = 601;
  }
  SECTION("at the edges of the verifier's 512-record batches") {
    expected = GENERATE(as<std::int64_t>{}, 512, 513, 1024, 2999, 3000);
    d->exec(("UPDATE audit_log SET channel = 'C99' WHERE seq = " + std::to_string(expected)).c_str());
  }
  SECTION("the first record") {
    d->exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1");
    expected = 1;
  }
  auto res = audit::verify(*d);
  CHECK_FALSE(res.ok);
  CHECK(res.first_bad_seq == expected);
}

TEST_CASE("verify cannot see records cut off the end (documented limit)", "[audit][chain]") {
  temp_dir t;
  auto d = open_store(t.file("a.db"));
  fill(*d, 10);
  const auto before = audit::verify(*d);
  d->exec("DROP TRIGGER audit_log_no_delete");
  d->exec("DELETE FROM audit_log WHERE seq > 7");
  // Whoever can drop the trigger can put it back: verify's trigger check
  // shows the schema as it is now, not its history.
  d->exec("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log\n"
          "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END");
  const auto after = audit::verify(*d);
  // The shorter chain is valid: only a head kept elsewhere reveals the cut.
  CHECK(after.ok);
  CHECK(after.records == 7);
  CHECK(after.last_hash != before.last_hash);
}

// A record a forger (or a buggy writer) appends with SPEC's hash, so that
// only the vocabulary checks can catch it: seq 6 after fill(5).
std::vector<std::string> forged_after_five(sql::db& d) {
  const auto last = raw_rows(d).back();
  return {"6", "2026-11-22T11:00:00.000Z", "slack", "T01", "C01", "mallory", "draft.approve", "D-1",
          "1", "ok", R"({"raw":"/approve D-1"})", last[12]};
}

TEST_CASE("verify refuses an action, outcome or platform that SPEC does not list", "[audit][chain]") {
  struct bad_value {
    std::size_t field;  // index in the hashed fields
    const char* value;
    const char* problem;
  };
  const bad_value cases[] = {
      {6, "draft.aprove", "action 'draft.aprove' is not one of SPEC's actions"},
      {6, "Draft.approve", "action 'Draft.approve'"},
      {6, "draft.approve ", "action 'draft.approve '"},
      {6, "", "action ''"},
      {9, "okay", "outcome 'okay' is not one of ok, denied, invalid, error"},
      {9, "OK", "outcome 'OK'"},
      {2, "irc", "platform 'irc' is not one of slack, discord, mattermost, shell, console, system"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    temp_dir t;
    const auto path = t.file("a.db");
    auto d = open_store(path);
    fill(*d, 5);
    auto forged = forged_after_five(*d);
    forged[c.field] = c.value;
    insert_raw(*d, forged);  // a correct hash: the chain itself holds
    auto res = audit::verify(*d);
    CHECK_FALSE(res.ok);
    CHECK(res.first_bad_seq == 6);
    CHECK_THAT(res.problem, Catch::Contains(c.problem));

    d.reset();
    auto cli = run_cli({"verify", "--db", path});
    CHECK(cli.code == 1);
    CHECK_THAT(cli.err, Catch::Contains("audit verify: FAILED at seq 6: "));
    CHECK_THAT(cli.err, Catch::Contains(c.problem));
    CHECK_FALSE(cli.out.find("OK") != std::string::npos);
  }
}

TEST_CASE("verify accepts every action, outcome and platform SPEC lists", "[audit][chain]") {
  temp_dir t;
  auto d = open_store(t.file("a.db"));
  const char* actions[] = {
      "draft.new", "draft.edit", "draft.show", "draft.list", "draft.withdraw", "draft.approve",
      "draft.reject", "draft.cleared", "crisis.start", "crisis.end", "crisis.status", "hold.list",
      "hold.show", "hold.issue", "escalation.open", "escalation.ack", "escalation.resolve",
      "escalation.list", "escalation.level", "audit.query", "audit.console", "help", "handover",
      "command.invalid", "config.load", "config.reload", "post.sent", "post.failed", "draft.remind",
      "audit.checkpoint", "console.login", "console.export"};
  int i = 0;
  for (const char* a : actions) {
    auto e = make_entry("alice", a, "", std::nullopt);
    e.outcome = all_outcomes[i % 4];
    e.platform = all_platforms[i % 6];
    audit::append(*d, e, t0 + minutes{i++});
  }
  auto res = audit::verify(*d);
  CHECK(res.ok);
  CHECK(res.records == 32);
  CHECK(res.problem.empty());
}

TEST_CASE("verify fails when an append-only trigger is gone or altered", "[audit][chain]") {
  temp_dir t;
  const auto path = t.file("a.db");
  auto d = open_store(path);
  fill(*d, 5);
  std::string trigger, problem;
  SECTION("audit_log_no_update dropped") {
    d->exec("DROP TRIGGER audit_log_no_update");
    trigger = "audit_log_no_update";
    problem = "trigger audit_log_no_update is missing: audit_log no longer refuses UPDATE";
  }
  SECTION("audit_log_no_delete dropped") {
    d->exec("DROP TRIGGER audit_log_no_delete");
    trigger = "audit_log_no_delete";
    problem = "trigger audit_log_no_delete is missing: audit_log no longer refuses DELETE";
  }
  SECTION("audit_log_no_update re-created so that it never fires") {
    d->exec("DROP TRIGGER audit_log_no_update");
    d->exec("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log WHEN 0\n"
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END");
    trigger = "audit_log_no_update";
    problem = "trigger audit_log_no_update is not the schema's";
  }
  SECTION("audit_log_no_delete re-created to ignore instead of refuse") {
    d->exec("DROP TRIGGER audit_log_no_delete");
    d->exec("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log\n"
            "BEGIN SELECT RAISE(IGNORE); END");
    trigger = "audit_log_no_delete";
    problem = "trigger audit_log_no_delete is not the schema's";
  }
  SECTION("audit_log_no_update moved to another table") {
    d->exec("DROP TRIGGER audit_log_no_update");
    d->exec("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON drafts\n"
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END");
    trigger = "audit_log_no_update";
    problem = "trigger audit_log_no_update is on table 'drafts', not audit_log";
  }
  // The chain itself holds: only the trigger check can fail it.
  auto res = audit::verify(*d);
  CHECK_FALSE(res.ok);
  CHECK(res.first_bad_seq == 0);
  CHECK(res.records == 5);

  d.reset();
  auto cli = run_cli({"verify", "--db", path});
  CHECK(cli.code == 1);
  CHECK_THAT(cli.err, Catch::Contains("audit verify: FAILED: " + problem));
  CHECK_THAT(cli.err, Catch::Contains(trigger));
  CHECK_THAT(cli.out, Catch::Contains("the hash chain holds through seq 5"));
  CHECK_FALSE(cli.out.find("OK") != std::string::npos);
}

TEST_CASE("verify accepts the triggers written with other layout and letter case", "[audit][chain]") {
  temp_dir t;
  auto d = open_store(t.file("a.db"));
  fill(*d, 3);
  d->exec("DROP TRIGGER audit_log_no_update");
  d->exec("create trigger AUDIT_LOG_NO_UPDATE before update on Audit_Log begin\n"
          "  select raise ( abort ,\t'audit_log is append-only: UPDATE refused' ) ;\nend");
  CHECK(audit::verify(*d).ok);
  // The message is a literal: its case counts.
  d->exec("DROP TRIGGER audit_log_no_update");
  d->exec("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log\n"
          "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: update refused'); END");
  CHECK_FALSE(audit::verify(*d).ok);
}

// ----------------------------------------------------------------- query ---

TEST_CASE("query filters by subject, actor, action, since, until and limit", "[audit]") {
  temp_dir t;
  auto d = open_store(t.file("a.db"));
  std::vector<audit::record> all;
  all.push_back(audit::append(*d, make_entry("alice", "draft.new", "D-1", 1), t0));
  all.push_back(audit::append(*d, make_entry("bob", "draft.approve", "D-1", 1), t0 + minutes{1}));
  all.push_back(audit::append(*d, make_entry("alice", "draft.new", "D-2", 1), t0 + minutes{2}));
  all.push_back(audit::append(*d, make_entry("carol", "draft.reject", "D-2", 1), t0 + minutes{3}));
  all.push_back(audit::append(*d, make_entry("bob", "draft.approve", "D-1", 2), t0 + minutes{4}));
  all.push_back(
      audit::append(*d, make_entry("system", "escalation.level", "E-1", std::nullopt), t0 + minutes{5}));

  auto q = [&](auto set) {
    audit::filter f;
    set(f);
    return seqs(audit::query(*d, f));
  };
  using v = std::vector<std::int64_t>;
  CHECK(q([](auto&) {}) == v{6, 5, 4, 3, 2, 1});
  CHECK(q([](auto& f) { f.subject = "D-1"; }) == v{5, 2, 1});
  CHECK(q([](auto& f) { f.actor = "bob"; }) == v{5, 2});
  CHECK(q([](auto& f) { f.action = "draft.new"; }) == v{3, 1});
  CHECK(q([](auto& f) { f.subject = "D-1"; f.actor = "bob"; }) == v{5, 2});
  CHECK(q([](auto& f) { f.subject = "D-404"; }).empty());
  CHECK(q([](auto& f) { f.since = t0 + minutes{2}; }) == v{6, 5, 4, 3});  // inclusive
  CHECK(q([](auto& f) { f.since = t0 + minutes{2} + milliseconds{1}; }) == v{6, 5, 4});
  CHECK(q([](auto& f) { f.until = t0 + minutes{2}; }) == v{3, 2, 1});  // inclusive
  CHECK(q([](auto& f) { f.since = t0 + minutes{1}; f.until = t0 + minutes{3}; }) == v{4, 3, 2});
  CHECK(q([](auto& f) { f.limit = 2; }) == v{6, 5});
  CHECK(q([](auto& f) { f.subject = "D-1"; f.limit = 1; }) == v{5});
  CHECK(q([](auto& f) { f.limit = 0; }).empty());
  CHECK(q([](auto& f) { f.subject = "D-2"; f.newest_first = false; }) == v{3, 4});
  CHECK(q([](auto& f) { f.newest_first = false; f.limit = 2; }) == v{1, 2});

  // Records come back whole, as append returned them.
  audit::filter oldest_first;
  oldest_first.newest_first = false;
  auto got = audit::query(*d, oldest_first);
  REQUIRE(got.size() == all.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i].seq == all[i].seq);
    CHECK(got[i].ts == all[i].ts);
    CHECK(got[i].platform == all[i].platform);
    CHECK(got[i].workspace == all[i].workspace);
    CHECK(got[i].channel == all[i].channel);
    CHECK(got[i].actor == all[i].actor);
    CHECK(got[i].action == all[i].action);
    CHECK(got[i].subject == all[i].subject);
    CHECK(got[i].revision == all[i].revision);
    CHECK(got[i].outcome == all[i].outcome);
    CHECK(got[i].detail == all[i].detail);
    CHECK(got[i].prev_hash == all[i].prev_hash);
    CHECK(got[i].hash == all[i].hash);
  }
  std::vector<std::int64_t> streamed;
  audit::for_each(*d, audit::filter{}, [&](const audit::record& r) { streamed.push_back(r.seq); });
  CHECK(streamed == v{6, 5, 4, 3, 2, 1});

  // Time filters stay exact where ts is not monotonic (a tampered log):
  // they are not mere seq ranges.
  d->exec("DROP TRIGGER audit_log_no_update");
  d->exec("UPDATE audit_log SET ts = '2026-11-22T10:30:00.000Z' WHERE seq = 2");
  CHECK(q([](auto& f) { f.since = t0 + minutes{20}; }) == v{2});
  CHECK(q([](auto& f) { f.since = t0 + minutes{3}; }) == v{6, 5, 4, 2});
  CHECK(q([](auto& f) { f.until = t0 + minutes{2}; }) == v{3, 1});
  CHECK(q([](auto& f) { f.since = t0 + minutes{1}; f.until = t0 + minutes{4}; }) == v{5, 4, 3});
}

// ------------------------------------------------------------- audit CLI ---

namespace {

// The six records of the query test, written by a closed writer.
std::string sample_db(const temp_dir& t) {
  const std::string path = t.file("audit.db");
  auto d = open_store(path);
  audit::append(*d, make_entry("alice", "draft.new", "D-1", 1), t0);
  audit::append(*d, make_entry("bob", "draft.approve", "D-1", 1, R"({"raw":"/approve D-1","note":"ok, \"ship it\""})"),
                t0 + minutes{1});
  audit::append(*d, make_entry("alice", "draft.new", "D-2", 1), t0 + minutes{2});
  audit::append(*d, make_entry("carol", "draft.reject", "D-2", 1), t0 + minutes{3});
  audit::append(*d, make_entry("bob", "draft.approve", "D-1", 2), t0 + minutes{4});
  audit::append(*d, make_entry("system", "escalation.level", "E-1", std::nullopt, "not json, \"quoted\""),
                t0 + minutes{5});
  return path;
}

}  // namespace

TEST_CASE("audit CLI verify: exit status and messages", "[audit]") {
  temp_dir t;
  const auto path = sample_db(t);

  auto ok = run_cli({"verify", "--db", path});
  CHECK(ok.code == 0);
  CHECK_THAT(ok.out, Catch::Contains("audit verify: OK, 6 records checked"));
  CHECK_THAT(ok.out, Catch::Contains("records/s"));
  CHECK_THAT(ok.out, Catch::Contains("last record: seq 6, hash "));
  CHECK_THAT(ok.out, Catch::Contains("removed from the end"));
  // A closed database: read as immutable, said in one note line.
  CHECK_THAT(ok.err, Catch::StartsWith("signoff audit: note: no -wal, -shm or -journal file beside"));
  CHECK_THAT(ok.err, Catch::Contains("immutable"));
  CHECK(std::count(ok.err.begin(), ok.err.end(), '\n') == 1);

  {
    sql::db w(path);
    w.exec("DROP TRIGGER audit_log_no_update");
    w.exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3");
  }
  auto bad = run_cli({"verify", "--db", path});
  CHECK(bad.code == 1);
  CHECK_THAT(bad.err, Catch::Contains("\naudit verify: FAILED at seq 3: hash does not match"));
  CHECK_THAT(bad.err, Catch::Contains("\naudit verify: FAILED: trigger audit_log_no_update is missing"));
  CHECK_THAT(bad.out, Catch::Contains("3 records read"));
}

TEST_CASE("audit CLI verify runs while the bot holds the database open", "[audit]") {
  temp_dir t;
  const auto path = t.file("live.db");
  auto writer = open_store(path);
  fill(*writer, 20);
  auto res = run_cli({"verify", "--db", path});
  CHECK(res.code == 0);
  CHECK_THAT(res.out, Catch::Contains("OK, 20 records"));
  fill(*writer, 1);  // the writer is not blocked by the reader either
  CHECK(count(*writer, "audit_log") == 21);
}

TEST_CASE("audit CLI query: table, csv and json, newest first", "[audit]") {
  temp_dir t;
  const auto path = sample_db(t);

  SECTION("table") {
    auto r = run_cli({"query", "--db", path, "--subject", "D-1"});
    REQUIRE(r.code == 0);
    auto lines = lines_of(r.out);
    REQUIRE(lines.size() == 4);
    CHECK_THAT(lines[0], Catch::StartsWith("seq"));
    CHECK_THAT(lines[0], Catch::Contains("detail"));
    CHECK_THAT(lines[1], Catch::StartsWith("5 "));
    CHECK_THAT(lines[2], Catch::StartsWith("2 "));
    CHECK_THAT(lines[3], Catch::StartsWith("1 "));
    CHECK_THAT(lines[2], Catch::Contains("2026-11-22T10:01:00.000Z"));
    CHECK_THAT(lines[2], Catch::Contains("draft.approve"));
    CHECK_THAT(r.out, Catch::Contains(R"("note":"ok, \"ship it\"")"));
    // Columns line up: `ts` starts at the same offset on every line.
    const auto col = lines[1].find("2026-");
    for (std::size_t i = 2; i < lines.size(); ++i) CHECK(lines[i].find("2026-") == col);
    CHECK(lines[0].find("ts") == col);
  }
  SECTION("table, nothing found") {
    auto r = run_cli({"query", "--db", path, "--actor", "nobody"});
    CHECK(r.code == 0);
    CHECK(r.out == "no matching records\n");
  }
  SECTION("csv") {
    auto r = run_cli({"query", "--db", path, "--format", "csv", "--actor", "bob"});
    REQUIRE(r.code == 0);
    auto rows = parse_csv(r.out);
    REQUIRE(rows.size() == 3);
    CHECK(rows[0] == std::vector<std::string>{"seq", "ts", "platform", "workspace", "channel",
                                              "actor", "action", "subject", "revision", "outcome",
                                              "detail", "prev_hash", "hash"});
    CHECK(rows[1][0] == "5");
    CHECK(rows[2][0] == "2");
    CHECK(rows[2][10] == R"({"raw":"/approve D-1","note":"ok, \"ship it\""})");
  }
  SECTION("json") {
    auto r = run_cli({"query", "--db", path, "--format", "json", "--since", "2026-11-22T10:04:00Z"});
    REQUIRE(r.code == 0);
    auto v = boost::json::parse(r.out);
    REQUIRE(v.is_array());
    const auto& a = v.as_array();
    REQUIRE(a.size() == 2);
    CHECK(a[0].at("seq").as_int64() == 6);
    CHECK(a[0].at("revision").is_null());
    CHECK(a[0].at("detail").as_string() == "not json, \"quoted\"");  // not an object: a string
    CHECK(a[1].at("seq").as_int64() == 5);
    CHECK(a[1].at("revision").as_int64() == 2);
    CHECK(a[1].at("detail").at("raw").as_string() == "/test");  // parsed object
    CHECK(a[1].as_object().size() == 13);
  }
  SECTION("json, nothing found, and --limit") {
    auto none = run_cli({"query", "--db", path, "--format", "json", "--until", "2020-01-01T00:00:00Z"});
    CHECK(none.code == 0);
    CHECK(boost::json::parse(none.out).as_array().empty());
    auto two = run_cli({"query", "--db", path, "--format=json", "--limit", "2"});
    CHECK(two.code == 0);
    CHECK(boost::json::parse(two.out).as_array().size() == 2);
  }
}

TEST_CASE("audit CLI query: --since and --until accept durations back from now", "[audit]") {
  temp_dir t;
  const auto path = t.file("rel.db");
  const auto now = std::chrono::floor<milliseconds>(std::chrono::system_clock::now());
  {
    auto d = open_store(path);
    audit::append(*d, make_entry("alice", "help", "", std::nullopt), now - std::chrono::days{10});
    audit::append(*d, make_entry("alice", "help", "", std::nullopt), now - std::chrono::days{3});
    audit::append(*d, make_entry("alice", "help", "", std::nullopt), now - std::chrono::hours{1});
  }
  auto since = run_cli({"query", "--db", path, "--since", "7d", "--format", "csv"});
  CHECK(since.code == 0);
  CHECK(parse_csv(since.out).size() == 3);  // header + 2
  auto until = run_cli({"query", "--db", path, "--until", "2d", "--format", "csv"});
  CHECK(until.code == 0);
  CHECK(parse_csv(until.out).size() == 3);
}

TEST_CASE("audit CLI export round-trips every column", "[audit]") {
  temp_dir t;
  const auto path = t.file("export.db");
  {
    auto d = open_store(path);
    auto e = make_entry("zoë", "draft.new", "D-1", 7,
                        "{\n  \"note\": \"say \\\"hi\\\", then go\",\n  \"ctl\": \"\\u0001\\n\"\n}");
    e.channel = "C,1\"q";
    e.workspace = "";
    audit::append(*d, e, t0);
    audit::append(*d, make_entry("system", "config.load", "", std::nullopt, "not json"), t0 + minutes{1});
    fill(*d, 3);
  }
  std::vector<audit::record> records;
  {
    sql::db ro(path, sql::db::options{.read_only = true});
    audit::filter f;
    f.newest_first = false;
    records = audit::query(ro, f);
  }
  REQUIRE(records.size() == 5);

  SECTION("jsonl") {
    auto r = run_cli({"export", "--db", path, "--format", "jsonl"});
    REQUIRE(r.code == 0);
    auto lines = lines_of(r.out);
    REQUIRE(lines.size() == records.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
      CAPTURE(i);
      const auto& rec = records[i];  // oldest first
      auto o = boost::json::parse(lines[i]).as_object();
      CHECK(o.size() == 13);
      CHECK(o.at("seq").as_int64() == rec.seq);
      CHECK(o.at("ts").as_string() == rec.ts);
      CHECK(o.at("platform").as_string() == rec.platform);
      CHECK(o.at("workspace").as_string() == rec.workspace);
      CHECK(o.at("channel").as_string() == rec.channel);
      CHECK(o.at("actor").as_string() == rec.actor);
      CHECK(o.at("action").as_string() == rec.action);
      CHECK(o.at("subject").as_string() == rec.subject);
      if (rec.revision)
        CHECK(o.at("revision").as_int64() == *rec.revision);
      else
        CHECK(o.at("revision").is_null());
      CHECK(o.at("outcome").as_string() == rec.outcome);
      if (rec.detail == "not json")
        CHECK(o.at("detail").as_string() == "not json");
      else
        CHECK(o.at("detail") == boost::json::parse(rec.detail));
      CHECK(o.at("prev_hash").as_string() == rec.prev_hash);
      CHECK(o.at("hash").as_string() == rec.hash);
    }
  }
  SECTION("csv keeps exact bytes: hashes recompute from the export") {
    auto r = run_cli({"export", "--db", path, "--format", "csv"});
    REQUIRE(r.code == 0);
    auto rows = parse_csv(r.out);
    REQUIRE(rows.size() == records.size() + 1);
    CHECK(rows[0].size() == 13);
    for (std::size_t i = 1; i < rows.size(); ++i) {
      CAPTURE(i);
      const auto& rec = records[i - 1];
      const std::vector<std::string> want = {std::to_string(rec.seq), rec.ts, rec.platform,
                                             rec.workspace, rec.channel, rec.actor, rec.action,
                                             rec.subject,
                                             rec.revision ? std::to_string(*rec.revision) : "",
                                             rec.outcome, rec.detail, rec.prev_hash, rec.hash};
      CHECK(rows[i] == want);
      CHECK(spec_hash(hashed_fields(rows[i])) == rows[i][12]);
    }
  }
  SECTION("--since") {
    auto r = run_cli({"export", "--db", path, "--format", "csv", "--since", "2026-11-22T10:01:00Z"});
    REQUIRE(r.code == 0);
    auto rows = parse_csv(r.out);
    REQUIRE(rows.size() == 5);  // header + seq 2..5
    CHECK(rows[1][0] == "2");
    CHECK(rows[4][0] == "5");
  }
}

TEST_CASE("audit CLI --csv-safe defuses formula-like fields, default CSV stays byte-exact", "[audit]") {
  temp_dir t;
  const auto path = t.file("csv.db");
  {
    auto d = open_store(path);
    // Fields a spreadsheet would run as formulas. Columns other than detail
    // cannot hold TAB or CR (append replaces control bytes), detail can.
    auto e = make_entry("@attacker", "draft.new", "-2+3", -1, "=HYPERLINK(\"http://x\",\"y\")");
    e.workspace = "=cmd|' /C calc'!A0";
    e.channel = "+SUM(1,2)";
    audit::append(*d, e, t0);
    audit::append(*d, make_entry("alice", "draft.new", "D-1", 1, "\t=1+2"), t0 + minutes{1});
    audit::append(*d, make_entry("alice", "draft.new", "D-2", 1, "\r\n@x"), t0 + minutes{2});
    audit::append(*d, make_entry("alice", "draft.new", "D-3", 1, R"({"raw":"/draft new =1+2"})"),
                  t0 + minutes{3});
  }
  std::vector<audit::record> records;
  {
    sql::db ro(path, sql::db::options{.read_only = true});
    audit::filter f;
    f.newest_first = false;
    records = audit::query(ro, f);
  }
  REQUIRE(records.size() == 4);
  auto exact = [](const audit::record& r) {
    return std::vector<std::string>{std::to_string(r.seq), r.ts, r.platform, r.workspace, r.channel,
                                    r.actor, r.action, r.subject,
                                    r.revision ? std::to_string(*r.revision) : "", r.outcome, r.detail,
                                    r.prev_hash, r.hash};
  };
  auto defused = [](std::vector<std::string> row) {
    for (auto& f : row)
      if (!f.empty() && std::string_view("=+-@\t\r").find(f.front()) != std::string_view::npos) f.insert(0, 1, '\'');
    return row;
  };

  for (const auto& args :
       {std::vector<std::string>{"export", "--db", path, "--format", "csv"},
        std::vector<std::string>{"query", "--db", path, "--format", "csv"}}) {
    CAPTURE(args[0]);
    const bool newest_first = args[0] == "query";
    auto plain = run_cli(args);
    REQUIRE(plain.code == 0);
    auto with_safe = args;
    with_safe.push_back("--csv-safe");
    auto safe = run_cli(with_safe);
    REQUIRE(safe.code == 0);
    const auto plain_rows = parse_csv(plain.out), safe_rows = parse_csv(safe.out);
    REQUIRE(plain_rows.size() == 5);
    REQUIRE(safe_rows.size() == 5);
    CHECK(safe_rows[0] == plain_rows[0]);  // the header
    for (std::size_t i = 1; i < 5; ++i) {
      CAPTURE(i);
      const auto& rec = records[newest_first ? 4 - i : i - 1];
      // Default: every byte as stored, so the hash recomputes from the export.
      CHECK(plain_rows[i] == exact(rec));
      CHECK(spec_hash(hashed_fields(plain_rows[i])) == plain_rows[i][12]);
      // --csv-safe: formula-like fields start with ', the rest as stored.
      CHECK(safe_rows[i] == defused(exact(rec)));
    }
    const auto& first = safe_rows[newest_first ? 4 : 1];
    CHECK(first[3] == "'=cmd|' /C calc'!A0");
    CHECK(first[4] == "'+SUM(1,2)");
    CHECK(first[5] == "'@attacker");
    CHECK(first[7] == "'-2+3");
    CHECK(first[8] == "'-1");
    CHECK(first[10] == "'=HYPERLINK(\"http://x\",\"y\")");
    CHECK(safe_rows[newest_first ? 3 : 2][10] == "'\t=1+2");
    CHECK(safe_rows[newest_first ? 2 : 3][10] == "'\r\n@x");
    CHECK(safe_rows[newest_first ? 1 : 4][10] == R"({"raw":"/draft new =1+2"})");  // not leading
  }

  // Only with CSV, once, and without a value.
  for (const auto& args :
       {std::vector<std::string>{"query", "--db", path, "--csv-safe"},
        std::vector<std::string>{"query", "--db", path, "--format", "json", "--csv-safe"},
        std::vector<std::string>{"export", "--db", path, "--format", "jsonl", "--csv-safe"},
        std::vector<std::string>{"export", "--db", path, "--format", "csv", "--csv-safe", "--csv-safe"},
        std::vector<std::string>{"export", "--db", path, "--format", "csv", "--csv-safe=yes"},
        std::vector<std::string>{"verify", "--db", path, "--csv-safe"}}) {
    CAPTURE(args.back());
    auto r = run_cli(args);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("usage: signoff audit"));
    CHECK(r.out.empty());
  }
  CHECK_THAT(run_cli({"--help"}).out, Catch::Contains("--csv-safe"));
}

TEST_CASE("audit CLI reads a database whose path needs escaping in a URI", "[audit]") {
  temp_dir t;
  fs::create_directory(t.path() / "odd ?#%&=;dir é");
  const auto path = (t.path() / "odd ?#%&=;dir é" / "a%20b?c#d.db").string();
  {
    auto d = open_store(path);
    fill(*d, 4);
  }
  auto r = run_cli({"verify", "--db", path});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("OK, 4 records"));
  CHECK_THAT(r.err, Catch::Contains("immutable"));
  // Nothing created anywhere: not beside it, not under a decoded name.
  CHECK(std::distance(fs::directory_iterator(t.path()), fs::directory_iterator{}) == 1);
  CHECK(std::distance(fs::directory_iterator(t.path() / "odd ?#%&=;dir é"), fs::directory_iterator{}) == 1);
}

TEST_CASE("an immutable read refuses a file that a writer changed meanwhile", "[audit]") {
  temp_dir t;
  const auto path = sample_db(t);
  std::ostringstream notes;
  auto ev = app::evidence_db::open(path, notes);
  REQUIRE(ev->mode() == app::evidence_db::how::immutable);
  CHECK_THAT(notes.str(), Catch::Contains("immutable"));
  CHECK(audit::verify(ev->db()).ok);
  CHECK_FALSE(ev->changed());
  {
    // A writer opens it after the check, appends, and checkpoints at close.
    auto w = open_store(path);
    fill(*w, 2);
  }
  const auto why = ev->changed();
  REQUIRE(why);
  CHECK_THAT(*why, Catch::Contains("changed while it was read"));
}

TEST_CASE("audit CLI reads a -wal left without its -shm through a private copy", "[audit]") {
  temp_dir t, tmp;
  const auto live = t.file("live.db");
  auto writer = open_store(live);
  fill(*writer, 12);
  // An evidence copy taken with the files as they were (main file, then -wal).
  temp_dir evidence;
  const auto db = evidence.file("evidence.db");
  fs::copy_file(live, db);
  fs::copy_file(live + "-wal", db + "-wal");
  writer.reset();
  const char* old_tmpdir = std::getenv("TMPDIR");
  const std::string saved = old_tmpdir ? old_tmpdir : "";
  ::setenv("TMPDIR", tmp.path().c_str(), 1);
  auto r = run_cli({"verify", "--db", db});
  if (old_tmpdir)
    ::setenv("TMPDIR", saved.c_str(), 1);
  else
    ::unsetenv("TMPDIR");
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("OK, 12 records"));  // the records in the -wal count
  CHECK_THAT(r.err, Catch::Contains("-wal file but no -shm"));
  CHECK_THAT(r.err, Catch::Contains("private copy"));
  CHECK_FALSE(fs::exists(db + "-shm"));
  CHECK(fs::is_empty(tmp.path()));  // the private copy is gone
}

TEST_CASE("audit CLI: usage errors exit 2 with a usage message", "[audit]") {
  temp_dir t;
  const auto path = sample_db(t);
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"frobnicate"},
      {"verify"},
      {"verify", "--db"},
      {"verify", "--db", path, "--subject", "D-1"},
      {"verify", "--db", path, "stray"},
      {"query", "--db", path, "--format", "xml"},
      {"query", "--db", path, "--limit", "0"},
      {"query", "--db", path, "--limit", "ten"},
      {"query", "--db", path, "--since", "yesterday"},
      {"query", "--db", path, "--until", "2026-11-22T10:00:00"},  // no zone
      {"query", "--db", path, "--db", path},
      {"query", "--subject", "D-1"},
      {"export", "--db", path},
      {"export", "--db", path, "--format", "json"},
      {"export", "--db", path, "--format", "csv", "--subject", "D-1"},
  };
  for (const auto& args : bad) {
    std::string joined;
    for (const auto& a : args) joined += a + ' ';
    CAPTURE(joined);
    auto r = run_cli(args);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("usage: signoff audit"));
    CHECK(r.out.empty());
  }
  auto help = run_cli({"--help"});
  CHECK(help.code == 0);
  CHECK_THAT(help.out, Catch::Contains("usage: signoff audit"));
}

TEST_CASE("audit CLI never creates a database", "[audit]") {
  temp_dir t;
  const auto missing = t.file("missing.db");
  for (const char* sub : {"verify", "query", "export"}) {
    CAPTURE(sub);
    std::vector<std::string> args = {sub, "--db", missing};
    if (std::string_view(sub) == "export") args.insert(args.end(), {"--format", "csv"});
    auto r = run_cli(args);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("no database file at"));
    CHECK_FALSE(fs::exists(missing));
  }
  // A URI asking SQLite to create is refused by the read-only flag.
  auto uri = run_cli({"verify", "--db", "file:" + missing + "?mode=rwc"});
  CHECK(uri.code == 2);
  CHECK_FALSE(fs::exists(missing));
  CHECK(fs::is_empty(t.path()));

  // Files that are not signoff databases: a clear error, not a crash.
  const auto text = t.file("notes.txt");
  std::ofstream(text) << "not a database\n";
  CHECK(run_cli({"verify", "--db", text}).code == 2);
  const auto other = t.file("other.db");
  { sql::db o(other); o.exec("CREATE TABLE x (y)"); }
  auto r = run_cli({"verify", "--db", other});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("audit_log"));
}

TEST_CASE("a read-only connection cannot write", "[audit]") {
  temp_dir t;
  const auto path = sample_db(t);
  sql::db ro(path, sql::db::options{.read_only = true});
  CHECK((error_code_of([&] { ro.exec("INSERT INTO audit_log (seq) VALUES (99)"); }) & 0xff) ==
        SQLITE_READONLY);
  CHECK((error_code_of([&] {
           audit::append(ro, make_entry("mallory", "draft.approve", "D-1", 1), t0 + minutes{9});
         }) & 0xff) == SQLITE_READONLY);
  CHECK((error_code_of([&] { ro.exec("DROP TRIGGER audit_log_no_update"); }) & 0xff) == SQLITE_READONLY);
  CHECK(count(ro, "audit_log") == 6);
  CHECK(audit::verify(ro).ok);
}

// ------------------------------------------------------------ faulty VFS ---

namespace {

// A decision as a handler commits it: a state row and its audit record.
void decide(sql::db& d, int n) {
  // Not `"p" + std::to_string(n)`: g++ 12 -O3 raises a false -Wrestrict on it.
  std::string person = std::to_string(n);
  person.insert(0, 1, 'p');
  d.prepare(
       "INSERT INTO approvals (draft_id, rev, stage, person, note, created_at) "
       "VALUES (1, 1, 'legal', ?, '', '2026-11-22T10:00:00.000Z')")
      .bind(1, person)
      .run();
  audit::append(d, make_entry("alice", "draft.approve", "D-1", 1), t0 + minutes{n});
}

std::unique_ptr<sql::db> faulty_store(const std::string& path, int busy_ms = 1000) {
  auto d = open_store(path, test::faulty_vfs_name(), busy_ms);
  d->exec(
      "INSERT INTO drafts (id, class, status, current_rev, created_by, created_at, status_by, "
      "status_at) VALUES (1, 'standard', 'pending', 1, 'carol', '2026-11-22T10:00:00.000Z', "
      "'carol', '2026-11-22T10:00:00.000Z')");
  sql::transaction tx(*d);
  decide(*d, 1);
  tx.commit();
  return d;
}

}  // namespace

TEST_CASE("faulty VFS: disk full fails COMMIT and leaves nothing behind", "[vfs]") {
  fault_guard guard;
  temp_dir t;
  const auto path = t.file("full.db");
  {
    auto d = faulty_store(path);
    {
      sql::transaction tx(*d);
      decide(*d, 2);  // fits in the page cache: the disk is first touched at COMMIT
      test::faults().fail_writes = true;
      const int code = error_code_of([&] { tx.commit(); });
      test::faults().clear();
      CHECK((code & 0xff) == SQLITE_FULL);
    }  // rolled back
    // The same connection works again once the disk has room.
    sql::transaction tx(*d);
    decide(*d, 3);
    tx.commit();
  }
  sql::db d(path);
  CHECK(count(d, "approvals") == 2);
  CHECK(count(d, "audit_log") == 2);
  auto s = d.prepare("SELECT count(*) FROM approvals WHERE person = 'p2'");
  s.step();
  CHECK(s.i64(0) == 0);
  CHECK(audit::verify(d).ok);
}

TEST_CASE("faulty VFS: a failed fsync fails COMMIT and never half-applies", "[vfs]") {
  fault_guard guard;
  temp_dir t;
  const auto path = t.file("sync.db");
  {
    auto d = faulty_store(path);
    sql::transaction tx(*d);
    decide(*d, 2);
    test::faults().fail_syncs = true;
    const int code = error_code_of([&] { tx.commit(); });
    test::faults().clear();
    CHECK(code == SQLITE_IOERR_FSYNC);
  }
  // Whether written-but-unsynced data survives is up to the OS; what must
  // hold is atomicity: the state row and its audit record together or not.
  sql::db d(path);
  const auto approvals = count(d, "approvals"), records = count(d, "audit_log");
  CHECK(((approvals == 1 && records == 1) || (approvals == 2 && records == 2)));
  CHECK(audit::verify(d).ok);
}

TEST_CASE("faulty VFS: a locked database refuses BEGIN IMMEDIATE", "[vfs]") {
  fault_guard guard;
  temp_dir t;
  const auto path = t.file("locked.db");
  SECTION("WAL (the store's mode)") {
    auto d = faulty_store(path, /*busy_ms=*/20);
    test::faults().fail_locks = true;
    CHECK((error_code_of([&] { sql::transaction tx(*d); }) & 0xff) == SQLITE_BUSY);
    test::faults().clear();
    sql::transaction tx(*d);
    decide(*d, 2);
    tx.commit();
    CHECK(count(*d, "audit_log") == 2);
  }
  SECTION("rollback journal") {
    auto d = std::make_unique<sql::db>(path, sql::db::options{.vfs = test::faulty_vfs_name()});
    d->exec("PRAGMA journal_mode=DELETE");
    sqlite3_busy_timeout(d->handle(), 20);
    sql::migrate(*d);
    test::faults().fail_locks = true;
    CHECK((error_code_of([&] { sql::transaction tx(*d); }) & 0xff) == SQLITE_BUSY);
    test::faults().clear();
    sql::transaction tx(*d);
    audit::append(*d, make_entry("alice", "help", "", std::nullopt), t0);
    tx.commit();
    CHECK(count(*d, "audit_log") == 1);
  }
}
