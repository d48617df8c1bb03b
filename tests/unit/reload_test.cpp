// Config reload (SPEC "Configuration", SIGHUP): executor::reload swaps the
// config between two commands and records config.reload; a bad file or a
// restart-only key changes nothing of what it names; open escalations keep
// their level and due time; runtime::config_reloader does it as a job on
// the pipeline's database thread and then hands the new config to the
// adapters' side.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <thread>

#include "bot/core/time.hpp"
#include "bot/runtime/pipeline.hpp"
#include "bot/runtime/reload.hpp"
#include "handlers/executor.hpp"
#include "storage/sqlite_store.hpp"
#include "support/commands.hpp"
#include "support/enum_output.hpp"
#include "support/process.hpp"
#include "support/run_io.hpp"
#include "support/sqlite_db.hpp"

using namespace signoff;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// bob approves; frank leads crises; route `page` pages bob, then carol after 1h.
const std::string team = R"(
[storage]
path = "first.db"
[[people]]
id = "alice"
roles = ["drafter"]
[[people]]
id = "bob"
roles = ["approver"]
[[people]]
id = "carol"
roles = ["approver"]
[[people]]
id = "frank"
roles = ["lead"]
[roles]
draft = ["drafter"]
approve = ["approver"]
crisis = ["lead"]
[approval.standard]
stages = [{ name = "comms", roles = ["approver"] }]
[escalation.page]
channel = "approvals"
levels = [{ notify = ["bob"], after = "1h" }, { notify = ["carol"] }]
[channels]
approvals = { slack = "C1" }
)";

// bob also leads crises.
// Route `page`'s levels as `team` writes them.
const std::string page_levels = "levels = [{ notify = [\"bob\"], after = \"1h\" }, { notify = [\"carol\"] }]";

std::string bob_leads() { return test::replaced(team, "id = \"bob\"\nroles = [\"approver\"]", "id = \"bob\"\nroles = [\"approver\", \"lead\"]"); }

conf::load_result loaded(const std::string& text) { return conf::load_string(text, "signoff.toml"); }

time_point at(const char* s) { return *parse_rfc3339(s); }

struct world {
  test::temp_dir dir;
  std::string db_path = dir.file("signoff.db");
  sqlite_store db{db_path};
  executor exec;
  explicit world(const std::string& text = team)
      : exec(std::make_shared<const conf::config>(*loaded(text).cfg), db, {platform::slack}) {}
  execution run(const std::string& who, const std::string& line, time_point now) {
    return exec.execute(test::as(who, line, platform::slack), now);
  }
  // The last config.reload record: outcome and detail.
  std::pair<std::string, boost::json::object> last_reload() {
    test::sqlite_db raw(db_path);
    auto rows = raw.rows("SELECT outcome, detail, actor, platform FROM audit_log WHERE action = 'config.reload' "
                         "ORDER BY seq DESC LIMIT 1");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0][2] == "system");
    CHECK(rows[0][3] == "system");
    return {*rows[0][0], boost::json::parse(*rows[0][1]).as_object()};
  }
};

}  // namespace

TEST_CASE("reload: the next command runs under the new config, and the record names its sha256 and changes",
          "[runtime][reload]") {
  world w;
  const auto t = at("2026-12-01T10:00:00Z");
  const auto old_sha = w.exec.config()->sha256;
  CHECK(w.run("bob", "/crisis start sev2 Outage", t).outcome == outcome::denied);
  auto next = loaded(bob_leads());
  auto r = w.exec.reload(next, "/etc/signoff.toml", t);
  CHECK(r.applied);
  CHECK(r.recorded);
  CHECK(r.error.empty());
  CHECK(w.exec.config()->sha256 == next.cfg->sha256);
  CHECK(w.exec.config()->sha256 == test::sha256_hex(bob_leads()));
  CHECK(w.run("bob", "/crisis start sev2 Outage", t).outcome == outcome::ok);

  auto [oc, d] = w.last_reload();
  CHECK(oc == "ok");
  CHECK(d.at("config_sha256").as_string() == test::sha256_hex(bob_leads()));
  CHECK(d.at("previous_config_sha256").as_string() == old_sha);
  CHECK(d.at("source").as_string() == "/etc/signoff.toml");
  CHECK(boost::json::serialize(d.at("changes")) ==
        R"({"people":{"changed":[{"id":"bob","roles_added":["lead"]}]}})");
  CHECK_FALSE(d.contains("ignored"));
}

TEST_CASE("reload: a bad file changes nothing and is recorded invalid with its errors", "[runtime][reload]") {
  world w;
  const auto t = at("2026-12-01T10:00:00Z");
  const auto before = w.exec.config();
  // Gives bob the lead role, but names a channel that does not exist.
  auto bad = loaded(test::replaced(bob_leads(), "channel = \"approvals\"\nlevels", "channel = \"nowhere\"\nlevels"));
  REQUIRE_FALSE(bad.ok());
  auto r = w.exec.reload(bad, "signoff.toml", t);
  CHECK_FALSE(r.applied);
  CHECK(r.recorded);
  CHECK(r.error.find("escalation.page.channel") != std::string::npos);
  CHECK(w.exec.config() == before);
  CHECK(r.cfg == before);
  CHECK(w.run("bob", "/crisis start sev2 Outage", t).outcome == outcome::denied);
  auto [oc, d] = w.last_reload();
  CHECK(oc == "invalid");
  CHECK(std::string(d.at("error").as_string()) == r.error);
  CHECK_FALSE(d.contains("config_sha256"));

  // An unreadable file is refused the same way, naming the path.
  auto gone = conf::load_file(w.dir.file("missing.toml"));
  auto r2 = w.exec.reload(gone, w.dir.file("missing.toml"), t);
  CHECK_FALSE(r2.applied);
  CHECK(r2.error.find("missing.toml") != std::string::npos);
  CHECK(w.last_reload().first == "invalid");
  CHECK(w.exec.config() == before);
}

TEST_CASE("reload: keys that take a restart are named in detail.ignored and stay as running", "[runtime][reload]") {
  world w;
  const auto t = at("2026-12-01T10:00:00Z");
  auto text = test::replaced(bob_leads(), "path = \"first.db\"", "path = \"second.db\"");
  text += "[http]\nlisten = \"127.0.0.1:9999\"\n";
  auto r = w.exec.reload(loaded(text), "signoff.toml", t);
  REQUIRE(r.applied);
  CHECK(r.changes.ignored == std::vector<std::string>{"storage.path", "http.listen"});
  CHECK(w.exec.config()->storage.path == "first.db");
  CHECK(w.exec.config()->http_listen == "127.0.0.1:9470");
  CHECK(w.exec.config()->find_person("bob")->roles == std::vector<std::string>{"approver", "lead"});
  auto [oc, d] = w.last_reload();
  CHECK(oc == "ok");
  CHECK(boost::json::serialize(d.at("ignored")) == R"(["storage.path","http.listen"])");
  CHECK(d.at("config_sha256").as_string() == test::sha256_hex(text));
}

TEST_CASE("reload: an open escalation keeps its level and due time, and the next level comes from the new config",
          "[runtime][reload][escalations]") {
  world w;
  const auto t = at("2026-12-01T10:00:00Z");
  REQUIRE(w.run("alice", "/escalate page Site down", t).outcome == outcome::ok);
  // Level 1 now waits 5 minutes, and level 2 pages frank instead of carol.
  auto text = test::replaced(team, page_levels,
                       "levels = [{ notify = [\"bob\"], after = \"5m\" }, { notify = [\"frank\"] }]");
  REQUIRE(w.exec.reload(loaded(text), "signoff.toml", t).applied);
  CHECK(w.exec.run_due(t + 10min).fired.empty());  // still due at 11:00, as paged
  auto e = w.db.get_escalation(1);
  REQUIRE(e);
  CHECK(e->level == 1);
  CHECK(e->due_at == t + 1h);
  auto fired = w.exec.run_due(t + 1h);
  REQUIRE(fired.fired.size() == 1);
  CHECK(fired.fired[0].find("paging frank") != std::string::npos);
  e = w.db.get_escalation(1);
  CHECK(e->level == 2);
  CHECK(e->notified == std::vector<std::string>{"bob", "frank"});
}

TEST_CASE("reload: when the next level is gone, the escalation stays at its level and the firing says why",
          "[runtime][reload][escalations]") {
  world w;
  const auto t = at("2026-12-01T10:00:00Z");
  REQUIRE(w.run("alice", "/escalate page Site down", t).outcome == outcome::ok);
  auto text = test::replaced(team, page_levels,
                       "levels = [{ notify = [\"bob\"] }]");
  REQUIRE(w.exec.reload(loaded(text), "signoff.toml", t).applied);
  auto fired = w.exec.run_due(t + 1h);
  CHECK(fired.error.empty());
  REQUIRE(fired.fired.size() == 1);
  auto e = w.db.get_escalation(1);
  REQUIRE(e);
  CHECK(e->level == 1);
  CHECK(e->status == escalation_status::open);
  CHECK_FALSE(e->due_at);  // it does not fire again and again
  test::sqlite_db raw(w.db_path);
  auto rows = raw.rows("SELECT outcome, json_extract(detail, '$.error') FROM audit_log "
                       "WHERE action = 'escalation.level'");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][0] == "error");
  CHECK(rows[0][1] == "route page has no level 2");
  CHECK(w.exec.run_due(t + 2h).fired.empty());
  // /ack still works for whoever was paged.
  CHECK(w.run("bob", "/ack E-1", t + 2h).outcome == outcome::ok);
}

TEST_CASE("reload: config_reloader swaps on the database thread between commands, then hands over the config",
          "[runtime][reload]") {
  test::temp_dir dir;
  const auto path = dir.write("signoff.toml", team);
  auto first = conf::load_file(path);
  REQUIRE(first.ok());
  sqlite_store db(dir.file("signoff.db"));
  executor exec(std::make_shared<const conf::config>(*first.cfg), db, {platform::slack});
  asio::io_context io(1);
  runtime::command_pipeline pipe(io.get_executor(), exec, db);
  std::ostringstream logged;
  auto log = std::make_shared<spdlog::logger>("reload-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(logged));
  log->set_pattern("%l %v");
  std::vector<std::shared_ptr<const conf::config>> handed;
  const auto io_thread = std::this_thread::get_id();
  std::thread::id handed_on;
  runtime::config_reloader reloader(io.get_executor(), pipe, exec, path, log,
                                    [&](std::shared_ptr<const conf::config> c) {
                                      handed_on = std::this_thread::get_id();
                                      handed.push_back(std::move(c));
                                    });
  std::vector<outcome> outcomes;
  bool good = false, bad = true;
  auto submit = [&](const char* line) -> asio::awaitable<void> {
    std::optional<execution> ex;
    runtime::event answered(io.get_executor());
    pipe.submit(test::as("bob", line, platform::slack), [&](execution r) {
      ex = std::move(r);
      answered.notify();
    });
    while (!ex) co_await answered.wait();
    outcomes.push_back(ex->outcome.value_or(outcome::error));
  };
  test::run_io(io, [&]() -> asio::awaitable<void> {
    co_await submit("/crisis start sev2 Outage");
    std::ofstream(path, std::ios::trunc) << bob_leads();
    good = co_await reloader.reload();
    co_await submit("/crisis start sev2 Outage");
    std::ofstream(path, std::ios::trunc) << "this is [not toml\n";
    bad = co_await reloader.reload();
    co_await submit("/crisis end");  // the config with bob as a lead is still in force
  });
  CHECK(good);
  CHECK_FALSE(bad);
  CHECK(outcomes == std::vector<outcome>{outcome::denied, outcome::ok, outcome::ok});
  REQUIRE(handed.size() == 1);  // only the applied reload reaches the adapters
  CHECK(handed_on == io_thread);
  CHECK(handed[0] == exec.config());
  CHECK(handed[0]->sha256 == test::sha256_hex(bob_leads()));
  const auto text = logged.str();
  CHECK(text.find("info config reloaded from " + path + " (sha256 " + test::sha256_hex(bob_leads()) +
                  "): people ~bob") != std::string::npos);
  CHECK(text.find("error config reload refused, the running config stays in force: " + path + ":1:") !=
        std::string::npos);
  test::sqlite_db raw(dir.file("signoff.db"));
  CHECK(raw.rows("SELECT outcome FROM audit_log WHERE action = 'config.reload' ORDER BY seq") ==
        std::vector<test::sqlite_db::row>{{"ok"}, {"invalid"}});
}

TEST_CASE("reload: a class that gains remind_after starts reminding the drafts already pending, from the reload",
          "[runtime][reload][reminders]") {
  world w;
  const auto t = at("2026-12-01T10:00:00Z");
  REQUIRE(w.run("alice", "/draft new waiting since before the reload", t).outcome == outcome::ok);
  CHECK_FALSE(w.exec.next_due());  // no reminder without remind_after
  const auto reload_at = t + 1h;
  auto r = w.exec.reload(loaded(test::replaced(team, "[approval.standard]\n", "[approval.standard]\nremind_after = \"4h\"\n")),
                         "signoff.toml", reload_at);
  REQUIRE(r.applied);
  CHECK(r.due_changed);  // the scheduler is told to look again
  CHECK(w.exec.next_due() == std::optional<time_point>(reload_at + 4h));
  auto [oc, d] = w.last_reload();
  CHECK(oc == "ok");
  CHECK(boost::json::serialize(d.at("reminders_started")) == R"(["D-1"])");
  // Due: the draft is reminded, naming who can still sign.
  auto tick = w.exec.run_due(reload_at + 4h);
  REQUIRE(tick.fired.size() == 1);
  test::sqlite_db raw(w.db_path);
  CHECK(raw.rows("SELECT subject FROM audit_log WHERE action = 'draft.remind'") ==
        std::vector<test::sqlite_db::row>{{"D-1"}});
}
