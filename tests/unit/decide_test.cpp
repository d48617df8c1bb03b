// decide_approve: SPEC's approval rules as a pure function of values, tested
// without a store (issue: "handlers decide with pure functions").
#include <catch2/catch.hpp>

#include "bot/core/time.hpp"
#include "handlers/context.hpp"

#include "support/enum_output.hpp"

using namespace signoff;
using handlers::decide_approve;

namespace {

const conf::config& cfg() {
  static const auto loaded = conf::load_string(R"(
[storage]
path = "x.db"
[[people]]
id = "alice"
roles = ["drafter"]
[[people]]
id = "bob"
roles = ["approver"]
[[people]]
id = "lena"
roles = ["legal", "compliance"]
[[people]]
id = "erin"
roles = ["compliance"]
[[people]]
id = "dave"
roles = ["legal"]
[roles]
draft = ["drafter", "approver"]
approve = ["approver", "legal", "compliance"]
[approval.standard]
stages = [{ name = "comms", roles = ["approver"] }]
[approval.regulated]
stages = [{ name = "legal", roles = ["legal"] }, { name = "compliance", roles = ["compliance"] }]
[channels]
approvals = { slack = "C1" }
)");
  REQUIRE(loaded.ok());
  return *loaded.cfg;
}

const time_point t0 = *parse_rfc3339("2026-12-01T10:00:00Z");

draft regulated() {
  draft d;
  d.id = 7;
  d.cls = "regulated";
  d.rev = 2;
  d.authors = {"alice"};
  return d;
}

const conf::person& who(const char* id) { return *cfg().find_person(id); }
const conf::approval_class& cls(const char* name) { return *cfg().find_class(name); }

}  // namespace

TEST_CASE("decide_approve: the first unmet stage the approver holds, completing only with the last", "[drafts][decide]") {
  auto d = regulated();
  auto first = decide_approve(d, cls("regulated"), who("lena"), std::nullopt, std::nullopt);
  CHECK(first.outcome == outcome::ok);
  CHECK(first.stage == "legal");  // config order
  CHECK_FALSE(first.completes);
  d.approvals.push_back({2, "legal", "dave", "", t0});
  auto last = decide_approve(d, cls("regulated"), who("erin"), 2, std::nullopt);
  CHECK(last.outcome == outcome::ok);
  CHECK(last.stage == "compliance");
  CHECK(last.completes);
}

TEST_CASE("decide_approve: refusals in SPEC's order, with the revision and crisis they name", "[drafts][decide]") {
  auto d = regulated();
  CHECK(decide_approve(d, cls("regulated"), who("alice"), std::nullopt, std::nullopt).outcome == outcome::denied);
  d.approvals.push_back({2, "legal", "lena", "", t0});
  auto twice = decide_approve(d, cls("regulated"), who("lena"), std::nullopt, std::nullopt);
  CHECK(twice.outcome == outcome::denied);  // one person never satisfies two stages
  CHECK(twice.error.find("two stages") != std::string::npos);
  auto met = decide_approve(d, cls("regulated"), who("dave"), std::nullopt, std::nullopt);
  CHECK(met.outcome == outcome::denied);  // legal is met already and dave holds nothing else
  auto stale = decide_approve(d, cls("regulated"), who("erin"), 1, std::nullopt);
  CHECK(stale.outcome == outcome::invalid);
  CHECK(stale.revision == 1);
  crisis c;
  c.id = 3;
  c.title = "Outage\r#9 forged";
  auto frozen = decide_approve(d, cls("regulated"), who("erin"), 2, c);
  CHECK(frozen.outcome == outcome::invalid);
  CHECK(frozen.crisis == 3);
  CHECK(frozen.revision == 2);
  CHECK(frozen.error.find('\r') == std::string::npos);
  d.status = draft_status::rejected;
  auto rejected = decide_approve(d, cls("regulated"), who("erin"), std::nullopt, std::nullopt);
  CHECK(rejected.outcome == outcome::invalid);
  CHECK(rejected.error.find("a revision (/draft edit) reopens it") != std::string::npos);
}

TEST_CASE("decide_reminder: per unmet stage, who holds its role, is no author and has not signed this revision",
          "[drafts][decide][reminders]") {
  using handlers::decide_reminder;
  auto d = regulated();
  auto all = decide_reminder(d, cls("regulated"), cfg().people);
  REQUIRE(all.stages.size() == 2);
  CHECK(all.stages[0].stage == "legal");
  CHECK(all.stages[0].missing == 1);
  CHECK(all.stages[0].people == std::vector<std::string>{"lena", "dave"});  // config order
  CHECK(all.stages[1].stage == "compliance");
  CHECK(all.stages[1].people == std::vector<std::string>{"lena", "erin"});
  CHECK(all.reminded == std::vector<std::string>{"lena", "erin", "dave"});  // each once

  // lena signed legal: the met stage is not reminded, and lena may not sign
  // compliance of the same revision.
  d.approvals.push_back({2, "legal", "lena", "", t0});
  auto after = decide_reminder(d, cls("regulated"), cfg().people);
  REQUIRE(after.stages.size() == 1);
  CHECK(after.stages[0].stage == "compliance");
  CHECK(after.stages[0].people == std::vector<std::string>{"erin"});
  CHECK(after.reminded == std::vector<std::string>{"erin"});

  // An author is never reminded, even holding a stage's role; a stage nobody
  // can sign is still named, with nobody to remind.
  auto own = regulated();
  own.authors = {"alice", "erin", "lena"};
  auto stuck = decide_reminder(own, cls("regulated"), cfg().people);
  REQUIRE(stuck.stages.size() == 2);
  CHECK(stuck.stages[0].people == std::vector<std::string>{"dave"});
  CHECK(stuck.stages[1].people.empty());
  CHECK(stuck.stages[1].missing == 1);
  CHECK(stuck.reminded == std::vector<std::string>{"dave"});
}

TEST_CASE("next_remind_at: remind_after from the clock's start, never without it", "[drafts][decide][reminders]") {
  conf::approval_class c = cls("standard");
  CHECK_FALSE(handlers::next_remind_at(c, t0).has_value());
  c.remind_after = std::chrono::hours{4};
  CHECK(handlers::next_remind_at(c, t0) == t0 + std::chrono::hours{4});
  // Past 9999-12-31 it never falls due.
  c.remind_after = std::chrono::hours{24 * 36500};
  CHECK_FALSE(handlers::next_remind_at(c, *parse_rfc3339("9990-01-01T00:00:00Z")).has_value());
}
