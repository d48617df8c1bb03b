// Signed audit checkpoints (SPEC "Signed checkpoints") end to end through
// the binary: the shell signs, stores, records and posts them; `audit key`,
// `audit verify` (with and without a kept checkpoint) and `audit prove`
// check them; the independent scripts/verify-inclusion.py agrees with
// `audit prove`; and each way of tampering the issue names is caught with a
// message naming the checkpoint.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <string>
#include <vector>

#include "support/fixture.hpp"
#include "support/process.hpp"
#include "support/sqlite_db.hpp"

namespace {

using namespace signoff::test;

constexpr const char* origin = "audit.test.example/log";

// An installation whose [audit] signs with a fresh key every `every` records.
struct signing_install {
  installation inst;
  std::string key_file;

  explicit signing_install(int every = 4, const std::string& extra_audit = "")
      : inst(SIGNOFF_BINARY, options(every, extra_audit)) {
    key_file = inst.dir().write("audit-key.pem", ed25519_pem());
    fix_key_path();
  }
  static config_options options(int every, const std::string& extra_audit) {
    config_options o;
    o.extra = "[audit]\nsigning_key_file = \"" + std::string(std::filesystem::temp_directory_path()) +
              "/__KEY__\"\norigin = \"" + origin + "\"\ncheckpoint_every = " + std::to_string(every) + "\n" +
              extra_audit;
    return o;
  }
  // The config names the key file by its final path.
  void fix_key_path() {
    std::ifstream in(inst.config_path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string placeholder = std::string(std::filesystem::temp_directory_path()) + "/__KEY__";
    text.replace(text.find(placeholder), placeholder.size(), key_file);
    std::ofstream(inst.config_path(), std::ios::trunc) << text;
  }
  run_result key() const { return run({inst.binary(), "audit", "key", "--config", inst.config_path()}); }
};

// Eight commands: with every = 4 the shell signs at least two checkpoints
// while it runs and one at the end of its input.
constexpr const char* session =
    "/draft new First post\n"
    "@bob /approve D-1 fine\n"
    "/draft new Second post\n"
    "/draft list\n"
    "/crisis status\n"
    "@carol /reject D-2 too vague\n"
    "/hold list\n"
    "/draft show D-1\n";

std::string verifier_key(const signing_install& s) {
  auto k = s.key();
  INFO(k.err);
  REQUIRE(k.status == 0);
  REQUIRE(k.out.back() == '\n');
  return k.out.substr(0, k.out.size() - 1);
}

// The newest stored checkpoint's note, as an auditor would have kept it.
std::string keep_latest(const signing_install& s, std::int64_t* size = nullptr) {
  auto db = s.inst.db();
  auto note = db.text("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1");
  REQUIRE(note);
  if (size) *size = db.integer("SELECT max(size) FROM checkpoints");
  return s.inst.dir().write("kept-checkpoint.txt", *note);
}

void drop_triggers(sqlite_db& db) {
  db.exec("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
          "DROP TRIGGER checkpoints_no_update; DROP TRIGGER checkpoints_no_delete;");
}

// The forger's tidy-up: the triggers back as signoff creates them, so the
// plain verify's schema check sees nothing.
void restore_triggers(sqlite_db& db) {
  db.exec(
      "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log\n"
      "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END;\n"
      "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log\n"
      "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END;\n");
}

run_result verify_with(const signing_install& s, const std::string& file, const std::string& vkey) {
  return s.inst.audit("verify", {"--checkpoint", file, "--key", vkey});
}

}  // namespace

TEST_CASE("checkpoints: the shell signs, stores, records and posts them, and verify checks each",
          "[integration][checkpoint]") {
  signing_install s;
  auto r = s.inst.shell(session);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const std::string vkey = verifier_key(s);
  CHECK(vkey.starts_with(std::string(origin) + "+"));

  auto db = s.inst.db();
  const auto cps = db.rows("SELECT size, root_hash, note, ts FROM checkpoints ORDER BY size");
  REQUIRE(cps.size() >= 3);
  // Every one recorded as audit.checkpoint by system, detail size and root_hash.
  const auto recs = audit_rows(db, "action = 'audit.checkpoint'");
  REQUIRE(recs.size() == cps.size());
  for (std::size_t i = 0; i < cps.size(); ++i) {
    CHECK(recs[i].actor == "system");
    CHECK(recs[i].platform == "system");
    CHECK(recs[i].outcome == "ok");
    auto d = boost::json::parse(recs[i].detail).as_object();
    CHECK(std::to_string(d.at("size").as_int64()) == *cps[i][0]);
    CHECK(std::string(d.at("root_hash").as_string()) == *cps[i][1]);
    // The note is the C2SP checkpoint: origin, size, root, then the signature.
    CHECK(cps[i][2]->starts_with(std::string(origin) + "\n" + *cps[i][0] + "\n" + *cps[i][1] + "\n\n\u2014 " +
                                 origin + " "));
    // ts as in audit_log: the record's own.
    CHECK(*cps[i][3] == recs[i].ts);
  }
  // A checkpoint's own record and post delivery never make the next one:
  // the last one was signed at the end of input, after the last command.
  const auto last_command =
      db.integer("SELECT max(seq) FROM audit_log WHERE platform = 'shell' AND action NOT LIKE 'post.%'");
  CHECK(std::stoll(*cps.back()[0]) >= last_command);
  // Posted to [audit] channel: the shell prints it with the note.
  CHECK(contains(r.out, "[#audit] Audit checkpoint of " + std::string(origin)));
  CHECK(contains(r.out, *cps.back()[1]));
  CHECK(db.integer("SELECT count(*) FROM audit_log WHERE action = 'post.sent' AND "
                   "json_extract(detail, '$.kind') = 'checkpoint'") == static_cast<std::int64_t>(cps.size()));

  auto v = s.inst.audit("verify");
  INFO(v.out << v.err);
  CHECK(v.status == 0);
  CHECK(contains(v.out, std::to_string(cps.size()) + " stored checkpoint(s) match the log"));
  auto vk = s.inst.audit("verify", {"--key", vkey});
  CHECK(vk.status == 0);
  CHECK(contains(vk.out, "are signed by the key"));

  // The shell's own output is a fine copy to keep: every post in it,
  // indented, among the other output, each checked.
  const std::string kept = s.inst.dir().write("shell-output.txt", r.out);
  auto vc = verify_with(s, kept, vkey);
  INFO(vc.out << vc.err);
  CHECK(vc.status == 0);
  for (const auto& cp : cps) CHECK(contains(vc.out, "the first " + *cp[0] + " records hash to its root"));
  CHECK(contains(vc.out, "records after seq " + *cps.back()[0] + " are not covered"));

  // An idle shell makes no new checkpoint: nothing happened but its own
  // config.load... which is new, so exactly one more, and then none.
  auto again = s.inst.shell("");
  REQUIRE(again.status == 0);
  const auto after_one = db.integer("SELECT count(*) FROM checkpoints");
  CHECK(after_one == static_cast<std::int64_t>(cps.size()) + 1);
}

TEST_CASE("checkpoints: audit prove agrees with the independent scripts/verify-inclusion.py",
          "[integration][checkpoint]") {
  signing_install s(3);
  std::string script;
  for (int i = 0; i < 12; ++i) script += "/draft new Post number " + std::to_string(i) + " with “quotes” & é\n";
  auto r = s.inst.shell(script);
  REQUIRE(r.status == 0);
  const std::string vkey = verifier_key(s);
  auto db = s.inst.db();
  const auto total = db.integer("SELECT max(seq) FROM audit_log");
  const auto newest = db.integer("SELECT max(size) FROM checkpoints");
  REQUIRE(newest >= 20);
  const std::string verifier = std::string(SIGNOFF_SOURCE_DIR) + "/scripts/verify-inclusion.py";

  std::mt19937 rng(12);
  std::vector<std::int64_t> seqs{1, newest};
  for (int i = 0; i < 8; ++i) seqs.push_back(std::uniform_int_distribution<std::int64_t>(1, newest)(rng));
  for (auto seq : seqs) {
    auto p = s.inst.audit("prove", {"--seq", std::to_string(seq)});
    INFO("seq " << seq << "\n" << p.out << p.err);
    REQUIRE(p.status == 0);
    auto j = boost::json::parse(p.out).as_object();
    CHECK(j.at("seq").as_int64() == seq);
    CHECK(j.at("leaf_index").as_int64() == seq - 1);
    CHECK(j.at("record").as_object().at("seq").as_int64() == seq);
    // The default tree: the newest stored checkpoint holding the record.
    CHECK(j.at("tree_size").as_int64() == newest);
    REQUIRE(j.at("checkpoint").is_string());
    const std::string file = s.inst.dir().write("prove-" + std::to_string(seq) + ".json", p.out);
    auto py = run({"/usr/bin/env", "python3", verifier, "--key", vkey, file});
    INFO(py.out << py.err);
    CHECK(py.status == 0);
    CHECK(contains(py.out, "checkpoint signed by"));

    // A proof altered by one byte is refused by the script.
    auto proof = j.at("proof").as_array();
    if (!proof.empty()) {
      std::string h(proof[0].as_string());
      h[0] = h[0] == 'A' ? 'B' : 'A';
      proof[0] = h;
      j["proof"] = proof;
      const std::string bad = s.inst.dir().write("bad-" + std::to_string(seq) + ".json", boost::json::serialize(j));
      CHECK(run({"/usr/bin/env", "python3", verifier, "--key", vkey, bad}).status == 1);
    }
  }

  SECTION("--size names any size up to the log's; no stored checkpoint of that size gives null") {
    const auto size = newest - 1;
    auto p = s.inst.audit("prove", {"--seq", "2", "--size", std::to_string(size)});
    INFO(p.out << p.err);
    REQUIRE(p.status == 0);
    auto j = boost::json::parse(p.out).as_object();
    CHECK(j.at("tree_size").as_int64() == size);
    CHECK(j.at("checkpoint").is_null());
    const std::string file = s.inst.dir().write("unsigned.json", p.out);
    CHECK(run({"/usr/bin/env", "python3", verifier, "--key", vkey, file}).status == 1);  // unwitnessed
    CHECK(run({"/usr/bin/env", "python3", verifier, "--key", vkey, "--allow-unsigned", file}).status == 0);
    CHECK(s.inst.audit("prove", {"--seq", "2", "--size", std::to_string(total + 1)}).status == 2);
    CHECK(s.inst.audit("prove", {"--seq", std::to_string(total + 1)}).status == 2);
    CHECK(s.inst.audit("prove", {"--seq", "0"}).status == 2);
  }
}

TEST_CASE("checkpoints: every tampering is caught, naming the checkpoint", "[integration][checkpoint]") {
  signing_install s;
  auto r = s.inst.shell(session);
  REQUIRE(r.status == 0);
  const std::string vkey = verifier_key(s);
  std::int64_t size = 0;
  const std::string kept = keep_latest(s, &size);
  REQUIRE(verify_with(s, kept, vkey).status == 0);
  const std::string name = "checkpoint " + kept + " (size " + std::to_string(size);

  SECTION("the tail truncated past the checkpoint, stored checkpoints removed and triggers restored") {
    {
      auto db = s.inst.db();
      drop_triggers(db);
      db.exec("DELETE FROM audit_log WHERE seq > " + std::to_string(size - 2) + "; DELETE FROM checkpoints;");
      restore_triggers(db);
    }
    // The chain alone holds: this is the gap the checkpoint closes.
    CHECK(s.inst.audit("verify").status == 0);
    auto v = verify_with(s, kept, vkey);
    INFO(v.out << v.err);
    CHECK(v.status == 1);
    CHECK(contains(v.err, "FAILED: " + name));
    CHECK(contains(v.err, "records were removed from its end"));
  }

  SECTION("the tail truncated with the stored checkpoints left in place: plain verify catches it") {
    {
      auto db = s.inst.db();
      drop_triggers(db);
      db.exec("DELETE FROM audit_log WHERE seq > " + std::to_string(size - 2));
      restore_triggers(db);
    }
    auto v = s.inst.audit("verify");
    INFO(v.out << v.err);
    CHECK(v.status == 1);
    CHECK(contains(v.err, "stored checkpoint of size " + std::to_string(size) + ": the log has only"));
  }

  SECTION("the whole chain rewritten consistently, triggers dropped and restored") {
    {
      auto db = s.inst.db();
      drop_triggers(db);
      // Every record's actor changed and every hash recomputed.
      db.exec("UPDATE audit_log SET actor = actor || '-x'; DELETE FROM merkle_range;");
      rewrite_chain(db, 1);
      REQUIRE(first_bad_seq(db) == 0);
    }
    // The stored checkpoints and the audit.checkpoint records in the chain
    // both still name the old tree: plain verify catches this much.
    auto plain = s.inst.audit("verify");
    CHECK(plain.status == 1);
    CHECK(contains(plain.err, "stored checkpoint of size"));
    CHECK(contains(plain.err, "the audit.checkpoint record at seq"));
    {
      // A thorough forger removes both witnesses too.
      auto db = s.inst.db();
      db.exec("DELETE FROM checkpoints; UPDATE audit_log SET action = 'help', detail = '{}' "
              "WHERE action = 'audit.checkpoint';");
      rewrite_chain(db, 1);
      restore_triggers(db);
      REQUIRE(first_bad_seq(db) == 0);
    }
    CHECK(s.inst.audit("verify").status == 0);  // the gap only a kept checkpoint closes
    auto v = verify_with(s, kept, vkey);
    INFO(v.out << v.err);
    CHECK(v.status == 1);
    CHECK(contains(v.err, "FAILED: " + name));
    CHECK(contains(v.err, "records do not hash to its root"));
    CHECK(contains(v.err, "the log was rewritten"));
  }

  SECTION("a rewrite below a checkpoint with the checkpoints table emptied: its record in the chain still tells") {
    {
      auto db = s.inst.db();
      drop_triggers(db);
      db.exec("UPDATE audit_log SET detail = replace(detail, 'fine', 'FINE') WHERE action = 'draft.approve';"
              "DELETE FROM checkpoints;");
      rewrite_chain(db, db.integer("SELECT seq FROM audit_log WHERE action = 'draft.approve'"));
      restore_triggers(db);
      REQUIRE(first_bad_seq(db) == 0);
    }
    auto plain = s.inst.audit("verify");
    INFO(plain.out << plain.err);
    CHECK(plain.status == 1);
    CHECK(contains(plain.err, "the audit.checkpoint record at seq"));
    CHECK(contains(plain.err, "the log was rewritten"));
  }

  SECTION("one record altered and everything after it recomputed") {
    {
      auto db = s.inst.db();
      drop_triggers(db);
      db.exec("UPDATE audit_log SET detail = replace(detail, 'fine', 'FINE') WHERE action = 'draft.approve'");
      const auto seq = db.integer("SELECT seq FROM audit_log WHERE action = 'draft.approve'");
      REQUIRE(seq > 0);
      REQUIRE(seq < size);
      rewrite_chain(db, seq);
      restore_triggers(db);
      REQUIRE(first_bad_seq(db) == 0);
    }
    // The stored checkpoints (left in place) no longer match either.
    auto plain = s.inst.audit("verify");
    CHECK(plain.status == 1);
    CHECK(contains(plain.err, "records do not hash to its root"));
    auto v = verify_with(s, kept, vkey);
    INFO(v.out << v.err);
    CHECK(v.status == 1);
    CHECK(contains(v.err, "FAILED: " + name));
  }

  SECTION("a checkpoint's signature swapped for another checkpoint's") {
    auto db = s.inst.db();
    const auto notes = db.rows("SELECT note FROM checkpoints ORDER BY size");
    REQUIRE(notes.size() >= 2);
    const std::string& a = *notes[0][0];
    const std::string& b = *notes.back()[0];
    const std::string forged = b.substr(0, b.rfind("\n\n") + 2) + a.substr(a.rfind("\n\n") + 2);
    const std::string file = s.inst.dir().write("swapped.txt", forged);
    auto v = verify_with(s, file, vkey);
    INFO(v.out << v.err);
    CHECK(v.status == 1);
    CHECK(contains(v.err, "FAILED: checkpoint " + file));
    CHECK(contains(v.err, "does not verify"));
  }

  SECTION("a checkpoint signed with another key of the same name") {
    signing_install other;
    REQUIRE(other.inst.shell(session).status == 0);
    const std::string foreign = keep_latest(other);
    auto v = verify_with(s, foreign, vkey);
    INFO(v.out << v.err);
    CHECK(v.status == 1);
    CHECK(contains(v.err, "FAILED: checkpoint " + foreign));
    CHECK(contains(v.err, "no signature by"));
    // And the other way round: our database against the other's key.
    CHECK(verify_with(s, kept, verifier_key(other)).status == 1);
    // The stored checkpoints, checked with the wrong key, fail too.
    CHECK(s.inst.audit("verify", {"--key", verifier_key(other)}).status == 1);
  }

  SECTION("a kept checkpoint whose root was edited") {
    std::ifstream in(kept);
    std::string note((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto line = note.find('\n', note.find('\n') + 1) + 1;  // the root line
    note[line] = note[line] == 'A' ? 'B' : 'A';
    const std::string file = s.inst.dir().write("edited.txt", note);
    auto v = verify_with(s, file, vkey);
    CHECK(v.status == 1);
    CHECK(contains(v.err, "does not verify"));
  }
}

TEST_CASE("checkpoints: config and key problems are refused clearly, never showing the key",
          "[integration][checkpoint]") {
  SECTION("an origin with a space is refused by check-config") {
    installation inst(SIGNOFF_BINARY, [] {
      config_options o;
      o.extra = "[audit]\nsigning_key_file = \"/nonexistent\"\norigin = \"my log\"\n";
      return o;
    }());
    auto c = run({inst.binary(), "check-config", "--config", inst.config_path()});
    CHECK(c.status == 1);
    CHECK(contains(c.err, "audit.origin"));
    CHECK(contains(c.err, "space"));
  }
  SECTION("a key that is not Ed25519: the shell refuses to start, and the PEM is not echoed") {
    signing_install s;
    // An RSA-looking PEM body: garbage for Ed25519.
    const std::string secret_line = "MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAsecretsecret";
    std::ofstream(s.key_file, std::ios::trunc) << "-----BEGIN PRIVATE KEY-----\n" << secret_line
                                               << "\n-----END PRIVATE KEY-----\n";
    auto r = s.inst.shell("/help\n");
    CHECK(r.status == 2);
    CHECK(contains(r.err, "audit.signing_key_file"));
    CHECK_FALSE(contains(r.err + r.out, "secretsecret"));
    auto k = s.key();
    CHECK(k.status == 2);
    CHECK_FALSE(contains(k.err + k.out, "secretsecret"));
    // Nothing was recorded: the database was not even opened.
    CHECK_FALSE(std::filesystem::exists(s.inst.db_path()));
  }
  SECTION("a verifier key that does not parse is a usage error") {
    signing_install s;
    REQUIRE(s.inst.shell("/help\n").status == 0);
    const std::string kept = keep_latest(s);
    auto v = verify_with(s, kept, "not-a-key");
    CHECK(v.status == 2);
    CHECK(contains(v.err, "--key"));
    CHECK(s.inst.audit("verify", {"--checkpoint", kept}).status == 2);  // needs --key
  }
}

TEST_CASE("checkpoints: checkpoint_interval signs one while the shell waits, and an idle log gets no more",
          "[integration][checkpoint]") {
  signing_install s(1000, "checkpoint_interval = \"1s\"\n");
  auto sh = s.inst.start_shell();
  REQUIRE(sh.write("/draft new Waiting for the interval\n"));
  REQUIRE(sh.wait_for_stdout("D-1 created", std::chrono::seconds(5)));
  // Far below checkpoint_every: the interval makes it.
  REQUIRE(sh.wait_for_stdout("[#audit] Audit checkpoint of", std::chrono::seconds(10)));
  auto db = s.inst.db();
  REQUIRE(sh.wait_until([&] { return db.integer("SELECT count(*) FROM checkpoints") == 1; }, std::chrono::seconds(5)));
  // Its own record and post delivery are all that is new: three more
  // intervals pass without another checkpoint.
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  CHECK(db.integer("SELECT count(*) FROM checkpoints") == 1);
  // A new command: the next interval witnesses it.
  REQUIRE(sh.write("/crisis status\n"));
  REQUIRE(sh.wait_until([&] { return db.integer("SELECT count(*) FROM checkpoints") == 2; }, std::chrono::seconds(10)));
  const auto status_seq = db.integer("SELECT seq FROM audit_log WHERE action = 'crisis.status'");
  CHECK(db.integer("SELECT max(size) FROM checkpoints") >= status_seq);
  sh.close_stdin();
  CHECK(sh.wait_exit(std::chrono::seconds(10)) == 0);
  // End of input: only the second checkpoint's own records were new, so none at the end.
  CHECK(db.integer("SELECT count(*) FROM checkpoints") == 2);
  CHECK(s.inst.audit("verify").status == 0);
}
