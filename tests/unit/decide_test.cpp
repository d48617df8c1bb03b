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
