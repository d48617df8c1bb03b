// `signoff shell` reloads its config on SIGHUP (SPEC "Command-line
// interface", "Configuration"): the real binary on a pipe, the config file
// rewritten under it.
#include <signal.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "support/fixture.hpp"
#include "support/process.hpp"
#include "support/sqlite_db.hpp"

namespace {

using namespace signoff::test;
using namespace std::chrono_literals;

void rewrite(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::trunc);
  f << text;
  REQUIRE(f.good());
}

}  // namespace

TEST_CASE("shell: SIGHUP puts a rewritten config in force for the next command, and a broken one changes nothing",
          "[integration][shell][reload]") {
  installation inst(SIGNOFF_BINARY);
  auto sh = inst.start_shell();
  REQUIRE(sh.write("@bob /crisis start sev2 Checkout is down\n"));
  REQUIRE(sh.wait_for_stdout("only crisis leads may start a crisis", 5s));

  // bob becomes a crisis lead too.
  const std::string original = test_config(inst.db_path());
  const std::string promoted =
      replaced(original, "id = \"bob\"\nroles = [\"approver\"]", "id = \"bob\"\nroles = [\"approver\", \"crisis-lead\"]");
  rewrite(inst.config_path(), promoted);
  REQUIRE(::kill(sh.pid(), SIGHUP) == 0);
  INFO("stderr:\n" << sh.err());
  REQUIRE(sh.wait_until([&] { return contains(sh.err(), "config reloaded"); }, 5s));
  CHECK(contains(sh.err(), "signoff shell: config reloaded from " + inst.config_path() + " (sha256 " +
                               sha256_hex(promoted) + "): people ~bob\n"));
  auto mark = sh.out().size();
  REQUIRE(sh.write("@bob /crisis start sev2 Checkout is down\n"));
  REQUIRE(sh.wait_for_stdout("C-1 [sev2] started", 5s, mark));

  // A broken file (an unknown section) that would also take bob's role away.
  rewrite(inst.config_path(), original + "\n[bogus]\nkey = 1\n");
  REQUIRE(::kill(sh.pid(), SIGHUP) == 0);
  REQUIRE(sh.wait_until([&] { return contains(sh.err(), "config reload refused"); }, 5s));
  CHECK(contains(sh.err(), "signoff shell: config reload refused, the running config stays in force: bogus: unknown key"));
  mark = sh.out().size();
  REQUIRE(sh.write("@bob /crisis end All clear\n"));
  REQUIRE(sh.wait_for_stdout("C-1 ended after", 5s, mark));
  sh.close_stdin();
  CHECK(sh.wait_exit(5s) == 0);

  auto db = inst.db();
  auto reloads = audit_rows(db, "action = 'config.reload'");
  REQUIRE(reloads.size() == 2);
  CHECK(reloads[0].actor == "system");
  CHECK(reloads[0].platform == "system");
  CHECK(reloads[0].outcome == "ok");
  CHECK(detail_of(db, reloads[0].seq, "config_sha256") == sha256_hex(promoted));
  CHECK(detail_of(db, reloads[0].seq, "previous_config_sha256") == sha256_hex(original));
  CHECK(detail_of(db, reloads[0].seq, "changes") ==
        R"({"people":{"changed":[{"id":"bob","roles_added":["crisis-lead"]}]}})");
  CHECK(reloads[1].outcome == "invalid");
  CHECK(detail_of(db, reloads[1].seq, "error") == "bogus: unknown key");
  CHECK_FALSE(detail_of(db, reloads[1].seq, "config_sha256"));
  // The records in order: the denied start, the reload, the start, the refused reload, the end.
  std::vector<std::string> seen;
  for (const auto& r : audit_rows(db, "action != 'config.load' AND action NOT LIKE 'post.%'"))
    seen.push_back(r.action + ":" + r.outcome);
  CHECK(seen == std::vector<std::string>{"crisis.start:denied", "config.reload:ok", "crisis.start:ok",
                                         "config.reload:invalid", "crisis.end:ok"});
  CHECK(first_bad_seq(db) == 0);
}
