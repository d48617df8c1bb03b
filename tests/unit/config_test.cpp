// signoff.toml loading and validation (SPEC "Configuration"), holding
// statement templates and rate limits.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "bot/core/text.hpp"
#include "config/config.hpp"
#include "config/confusables.hpp"

#ifndef SIGNOFF_SOURCE_DIR
#define SIGNOFF_SOURCE_DIR "."
#endif

using namespace signoff::conf;
using namespace std::chrono_literals;

namespace {

// The smallest valid config: every role held and used, the default channel
// and the `standard` class present. Tests derive broken variants from it.
const std::string base = R"(
[storage]
path = "/tmp/signoff-test.db"

[[people]]
id = "alice"
roles = ["drafter"]
slack = "U01ALICE"

[[people]]
id = "bob"
name = "Bob Martins"
roles = ["approver"]
slack = "U01BOB"
discord = "1002"

[roles]
draft = ["drafter"]
approve = ["approver"]

[approval.standard]
stages = [{ name = "comms", roles = ["approver"] }]

[channels]
approvals = { slack = "C01APPROVALS" }
)";

// `base` with the first occurrence of `from` replaced by `to`.
std::string with(const std::string& from, const std::string& to, std::string text = base) {
  auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  return text.replace(pos, from.size(), to);
}

std::vector<std::string> lines(const load_result& r) {
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics) out.push_back(format(d));
  return out;
}

std::size_t error_count(const load_result& r) {
  return static_cast<std::size_t>(
      std::count_if(r.diagnostics.begin(), r.diagnostics.end(), [](const diagnostic& d) { return !d.warning; }));
}

// The one error at `key`, whose message must contain `part`.
void require_error(const load_result& r, const std::string& key, const std::string& part = "") {
  INFO("diagnostics:\n" << [&] {
    std::string all;
    for (const auto& l : lines(r)) all += "  " + l + "\n";
    return all;
  }());
  CHECK_FALSE(r.ok());
  auto hits = std::count_if(r.diagnostics.begin(), r.diagnostics.end(), [&](const diagnostic& d) {
    return !d.warning && d.key == key && d.message.find(part) != std::string::npos;
  });
  CHECK(hits == 1);
}

// CMake defines SIGNOFF_SOURCE_DIR for the integration tests only, and ctest
// runs unit tests from the build directory: fall back on this file's own
// (absolute, under CMake) path to find the source tree.
std::string find_example() {
  const std::string rel = "/config/signoff.example.toml";
  std::string here = __FILE__;
  const std::string self = "tests/unit/config_test.cpp";
  std::string candidates[] = {SIGNOFF_SOURCE_DIR + rel,
                              here.ends_with(self) ? here.substr(0, here.size() - self.size()) + "." + rel : ""};
  for (const auto& c : candidates)
    if (!c.empty() && std::ifstream(c)) return c;
  return candidates[0];
}

const std::string example_path = find_example();

}  // namespace

TEST_CASE("the example config loads with no errors and no warnings", "[config]") {
  auto r = load_file(example_path);
  INFO(example_path);
  for (const auto& l : lines(r)) UNSCOPED_INFO(l);
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.ok());
  const config& c = *r.cfg;

  CHECK(c.storage.path == "/var/lib/signoff/signoff.db");
  REQUIRE(c.people.size() >= 10);
  CHECK(c.people[0].id == "alice");  // the shell's default actor is a drafter
  CHECK(c.has_permission(c.people[0], "draft"));
  for (const char* id : {"bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"})
    CHECK(c.find_person(id) != nullptr);

  REQUIRE(c.approval.size() == 3);
  CHECK(c.approval[0].name == "standard");  // file order, not alphabetical
  CHECK(c.approval[1].name == "regulated");
  CHECK(c.approval[2].name == "crisis");
  REQUIRE(c.approval[1].stages.size() == 2);
  CHECK(c.approval[1].stages[0].name == "legal");
  CHECK(c.approval[1].stages[1].name == "compliance");
  CHECK(c.approval[0].remind_after == std::chrono::seconds{4h});  // optional: only standard sets it
  CHECK_FALSE(c.approval[1].remind_after.has_value());

  const route* legal = c.find_route("legal");
  REQUIRE(legal != nullptr);
  REQUIRE(legal->levels.size() == 3);
  CHECK(legal->levels[0].notify == std::vector<std::string>{"dave"});
  CHECK(legal->levels[0].after == std::chrono::seconds{15min});
  CHECK(legal->levels[1].after == std::chrono::seconds{30min});
  CHECK_FALSE(legal->levels[2].after.has_value());
  const route* pr = c.find_route("pr");
  REQUIRE(pr != nullptr);
  CHECK(pr->levels[0].notify == std::vector<std::string>{"bob", "carol"});

  for (const char* name : {"approvals", "statements", "escalations", "audit"}) CHECK(c.find_channel(name));

  const holding_statement* breach = c.find_statement("data-breach");
  REQUIRE(breach != nullptr);
  CHECK(breach->severity == "sev1");
  CHECK(breach->placeholders == std::vector<std::string>{"system", "next_update"});
  const holding_statement* departure = c.find_statement("executive-departure");
  REQUIRE(departure != nullptr);
  CHECK(departure->severity == "sev2");
  CHECK(departure->placeholders == std::vector<std::string>{"name", "role", "effective_date"});
  const holding_statement* recall = c.find_statement("product-recall");
  REQUIRE(recall != nullptr);
  CHECK(recall->placeholders == std::vector<std::string>{"product", "batch", "contact"});

  // Platform sections ship commented out, so the shell runs without secrets.
  CHECK_FALSE(c.slack.has_value());
  CHECK_FALSE(c.discord.has_value());
  CHECK_FALSE(c.mattermost.has_value());
  CHECK(c.http_listen == "127.0.0.1:9470");
  REQUIRE(c.limits.commands_per_person.has_value());
  CHECK(c.limits.commands_per_person->count == 60);
  CHECK(c.limits.max_text == 4000);
}

TEST_CASE("a minimal config loads and gets the SPEC defaults", "[config]") {
  auto r = load_string(base);
  for (const auto& l : lines(r)) UNSCOPED_INFO(l);
  REQUIRE(r.diagnostics.empty());
  const config& c = *r.cfg;
  CHECK(c.people[0].name == "alice");  // name defaults to id
  CHECK(c.people[1].name == "Bob Martins");
  CHECK(c.approval[0].channel == "approvals");
  CHECK(c.approval[0].stages[0].count == 1);
  CHECK(c.http_listen == "127.0.0.1:9470");
  REQUIRE(c.limits.commands_per_person.has_value());
  CHECK(c.limits.commands_per_person->count == 60);
  CHECK(c.limits.commands_per_person->window == 60s);
  CHECK(c.limits.max_text == 4000);
  CHECK(c.storage.busy_timeout == 5000ms);
  // Every permission is in the map, granted or not.
  for (const char* perm : {"draft", "approve", "crisis", "audit", "admin"}) CHECK(c.roles.count(perm) == 1);
}

TEST_CASE("approval classes and routes keep file order", "[config]") {
  auto r = load_string(with("[approval.standard]", R"([approval.zeta]
stages = [{ name = "z", roles = ["approver"] }]
[escalation.zulu]
channel = "approvals"
levels = [{ notify = ["bob"] }]
[escalation.alpha]
channel = "approvals"
levels = [{ notify = ["bob"] }]
[approval.standard])"));
  REQUIRE(r.ok());
  REQUIRE(r.cfg->approval.size() == 2);
  CHECK(r.cfg->approval[0].name == "zeta");
  CHECK(r.cfg->approval[1].name == "standard");
  REQUIRE(r.cfg->escalation.size() == 2);
  CHECK(r.cfg->escalation[0].name == "zulu");
  CHECK(r.cfg->escalation[1].name == "alpha");
}

TEST_CASE("unknown keys are named with their path", "[config]") {
  SECTION("in a person") {
    require_error(load_string(with("slack = \"U01ALICE\"", "slack = \"U01ALICE\"\nrolez = [\"x\"]")),
                  "people[0].rolez", "unknown key");
  }
  SECTION("at the top level") { require_error(load_string("bogus = 1\n" + base), "bogus", "unknown key"); }
  SECTION("a permission other than the five in [roles]") {
    require_error(load_string(with("draft = [\"drafter\"]", "draft = [\"drafter\"]\nsuperuser = [\"approver\"]")),
                  "roles.superuser", "unknown key");
  }
  SECTION("in a stage") {
    require_error(load_string(with("roles = [\"approver\"] }", "roles = [\"approver\"], quorum = 2 }")),
                  "approval.standard.stages[0].quorum", "unknown key");
  }
  SECTION("in a channel") {
    require_error(load_string(with("{ slack = \"C01APPROVALS\" }", "{ slack = \"C01APPROVALS\", teams = \"T\" }")),
                  "channels.approvals.teams", "unknown key");
  }
}

TEST_CASE("wrong types are named with their path", "[config]") {
  require_error(load_string(base + "[limits]\nmax_text = \"4000\"\n"), "limits.max_text", "expected an integer");
  require_error(load_string(with("path = \"/tmp/signoff-test.db\"", "path = 5")), "storage.path",
                "expected a string");
  require_error(load_string(with("roles = [\"drafter\"]", "roles = [\"drafter\", 3]")), "people[0].roles[1]",
                "expected a string");
  require_error(load_string(with("approve = [\"approver\"]", "approve = \"approver\"")), "roles.approve",
                "expected an array");
  require_error(load_string(with("\"approver\"] }", "\"approver\"], count = 1.5 }")),
                "approval.standard.stages[0].count", "expected an integer");
}

TEST_CASE("missing required keys are named with their path", "[config]") {
  require_error(load_string(with("id = \"bob\"", "")), "people[1].id", "missing");
  require_error(load_string(with("path = \"/tmp/signoff-test.db\"", "")), "storage.path", "missing");
  require_error(load_string(with("[storage]\npath = \"/tmp/signoff-test.db\"", "")), "storage", "missing");
  require_error(load_string(base + R"(
[[holding_statement]]
key = "k"
title = "T"
severity = "sev1"
channel = "approvals"
)"),
                "holding_statement[0].text", "missing");
  require_error(load_string(with("stages = [{ name = \"comms\", roles = [\"approver\"] }]", "")),
                "approval.standard.stages", "missing");
}

TEST_CASE("a role in the roles table that no person holds is an error", "[config]") {
  require_error(load_string(with("approve = [\"approver\"]", "approve = [\"approver\", \"legal\"]")),
                "roles.approve[1]", "role \"legal\" is held by no person");
}

TEST_CASE("a stage role that no person holds is an error", "[config]") {
  auto r = load_string(with("approve = [\"approver\"]", "approve = [\"approver\", \"legal\", \"compliance\"]\n" +
                                                            std::string("[approval.regulated]\n") +
                                                            "stages = [{ name = \"legal\", roles = [\"approver\"] },\n"
                                                            "          { name = \"compliance\", roles = [\"compliance\"] }]"));
  require_error(r, "approval.regulated.stages[1].roles[0]", "could never be met");
}

TEST_CASE("a stage role missing from roles.approve is an error", "[config]") {
  auto r = load_string(with("stages = [{ name = \"comms\", roles = [\"approver\"] }]",
                            "stages = [{ name = \"comms\", roles = [\"drafter\"] }]"));
  require_error(r, "approval.standard.stages[0].roles[0]", "not in [roles] approve");
}

TEST_CASE("a stage needing more approvers than exist is an error", "[config]") {
  require_error(load_string(with("roles = [\"approver\"] }", "roles = [\"approver\"], count = 2 }")),
                "approval.standard.stages[0].count", "could never be met");
  require_error(load_string(with("roles = [\"approver\"] }", "roles = [\"approver\"], count = 0 }")),
                "approval.standard.stages[0].count", "at least 1");
}

// `base` plus people and an approval class over roles `legal` and `compliance`
// (both granted `approve`).
std::string with_class(const std::string& people, const std::string& klass) {
  return with("approve = [\"approver\"]", "approve = [\"approver\", \"legal\", \"compliance\"]") + people + klass;
}

const std::string regulated = "[approval.regulated]\n"
                              "stages = [{ name = \"legal\", roles = [\"legal\"] },\n"
                              "          { name = \"compliance\", roles = [\"compliance\"] }]\n";

TEST_CASE("a class whose stages one person alone could fill is an error naming the class", "[config]") {
  auto r = load_string(with_class("[[people]]\nid = \"erin\"\nroles = [\"legal\", \"compliance\"]\n", regulated));
  require_error(r, "approval.regulated",
                "stages \"legal\" and \"compliance\" need 2 distinct approvers but only \"erin\" holds their roles");
  require_error(r, "approval.regulated", "one person never signs two stages");
  CHECK(error_count(r) == 1);  // each stage alone is fine: no per-stage error on top
}

TEST_CASE("an unapprovable class names only the stages that compete for too few people", "[config]") {
  // comms can be met by bob; legal and compliance compete for dave and erin
  // and need three people between them.
  auto r = load_string(with_class("[[people]]\nid = \"dave\"\nroles = [\"legal\", \"compliance\", \"approver\"]\n"
                                  "[[people]]\nid = \"erin\"\nroles = [\"legal\", \"compliance\"]\n",
                                  "[approval.regulated]\n"
                                  "stages = [{ name = \"comms\", roles = [\"approver\"] },\n"
                                  "          { name = \"legal\", roles = [\"legal\"], count = 2 },\n"
                                  "          { name = \"compliance\", roles = [\"compliance\"] }]\n"));
  require_error(r, "approval.regulated",
                "stages \"legal\" (count 2) and \"compliance\" need 3 distinct approvers but only \"dave\" and "
                "\"erin\" hold their roles");
  CHECK(error_count(r) == 1);
  for (const auto& d : r.diagnostics) CHECK(d.message.find("comms") == std::string::npos);
}

TEST_CASE("overlapping stages are accepted when some assignment of distinct people meets them all", "[config]") {
  SECTION("three people holding both roles, a count 2 stage and a count 1 stage") {
    std::string people;
    for (const char* id : {"dave", "erin", "lena"})
      people += std::string("[[people]]\nid = \"") + id + "\"\nroles = [\"legal\", \"compliance\"]\n";
    auto r = load_string(with_class(people, "[approval.regulated]\n"
                                            "stages = [{ name = \"legal\", roles = [\"legal\"], count = 2 },\n"
                                            "          { name = \"compliance\", roles = [\"compliance\"] }]\n"));
    for (const auto& l : lines(r)) UNSCOPED_INFO(l);
    CHECK(r.ok());
    CHECK(r.diagnostics.empty());
  }
  SECTION("only a reassignment finds it: the first person who fits the first stage must take the second") {
    // Filling legal with lena first leaves compliance (count 2) one short;
    // dave on legal, lena and erin on compliance meets all.
    auto r = load_string(with_class("[[people]]\nid = \"lena\"\nroles = [\"legal\", \"compliance\"]\n"
                                    "[[people]]\nid = \"dave\"\nroles = [\"legal\"]\n"
                                    "[[people]]\nid = \"erin\"\nroles = [\"compliance\"]\n",
                                    "[approval.regulated]\n"
                                    "stages = [{ name = \"legal\", roles = [\"legal\"] },\n"
                                    "          { name = \"compliance\", roles = [\"compliance\"], count = 2 }]\n"));
    for (const auto& l : lines(r)) UNSCOPED_INFO(l);
    CHECK(r.ok());
    CHECK(r.diagnostics.empty());
  }
  SECTION("a stage open to two roles") {
    auto r = load_string(with_class("[[people]]\nid = \"dave\"\nroles = [\"legal\"]\n"
                                    "[[people]]\nid = \"erin\"\nroles = [\"legal\", \"compliance\"]\n",
                                    "[approval.regulated]\n"
                                    "stages = [{ name = \"legal\", roles = [\"legal\"] },\n"
                                    "          { name = \"review\", roles = [\"compliance\", \"legal\"] }]\n"));
    for (const auto& l : lines(r)) UNSCOPED_INFO(l);
    CHECK(r.ok());
  }
}

TEST_CASE("a stage already reported as never met is not reported again for its class", "[config]") {
  SECTION("a stage role held by no one") {
    auto r = load_string(with_class("[[people]]\nid = \"erin\"\nroles = [\"legal\"]\n", regulated));
    require_error(r, "approval.regulated.stages[1].roles[0]", "could never be met");
    require_error(r, "roles.approve[2]", "held by no person");
    CHECK(error_count(r) == 2);
  }
  SECTION("a count above the people holding the stage's roles") {
    auto r = load_string(with_class("[[people]]\nid = \"erin\"\nroles = [\"legal\", \"compliance\"]\n",
                                    "[approval.regulated]\n"
                                    "stages = [{ name = \"legal\", roles = [\"legal\"], count = 2 },\n"
                                    "          { name = \"compliance\", roles = [\"compliance\"] }]\n"));
    require_error(r, "approval.regulated.stages[0].count", "could never be met");
    CHECK(error_count(r) == 1);
  }
}

TEST_CASE("person ids that differ only in case or by look-alike letters are warnings", "[config]") {
  // people[1] is "bob"; the second o of the last one is CYRILLIC SMALL LETTER O.
  auto r = load_string(base + "[[people]]\nid = \"Bob\"\nroles = [\"approver\"]\n"
                              "[[people]]\nid = \"b\xD0\xBE" "b\"\nroles = [\"approver\"]\n"
                              "[[people]]\nid = \"carol\"\nroles = [\"approver\"]\n");
  for (const auto& l : lines(r)) UNSCOPED_INFO(l);
  REQUIRE(r.ok());
  REQUIRE(r.diagnostics.size() == 2);
  CHECK(r.diagnostics[0].warning);
  CHECK(format(r.diagnostics[0]) ==
        "warning: people[2].id: person id \"Bob\" differs from \"bob\" of people[1] only in case; "
        "easy to mistake for one another");
  CHECK(r.diagnostics[1].warning);
  CHECK(format(r.diagnostics[1]) ==
        "warning: people[3].id: person id \"b\xD0\xBE" "b\" looks like \"bob\" of people[1] (non-ASCII U+043E); "
        "easy to mistake for one another");
}

TEST_CASE("look-alike ids: digits, fullwidth letters, Greek, capital I against l", "[config]") {
  auto warned = [](const std::string& id) {
    auto r = load_string(base + "[[people]]\nid = \"" + id + "\"\nroles = [\"drafter\"]\n");
    INFO(id);
    for (const auto& l : lines(r)) UNSCOPED_INFO(l);
    CHECK(r.ok());
    return r.diagnostics.size() == 1 && r.diagnostics[0].warning && r.diagnostics[0].key == "people[2].id";
  };
  CHECK(warned("a1ice"));                        // 1 -> l
  CHECK(warned("aIice"));                        // capital I -> l
  CHECK(warned("ALICE"));                        // case only
  CHECK(warned("b0b"));                          // 0 -> o
  CHECK(warned("\xEF\xBD\x82\xEF\xBD\x8F\xEF\xBD\x82"));  // fullwidth bob
  CHECK(warned("\xCE\xB1lice"));                 // Greek alpha
  CHECK(warned("\xD0\x90lice"));                 // Cyrillic capital A
  // Not alike: other letters, and i against l (a capital I looks like l, a small i does not).
  auto quiet = [](const std::string& id) {
    auto r = load_string(base + "[[people]]\nid = \"" + id + "\"\nroles = [\"drafter\"]\n");
    INFO(id);
    for (const auto& l : lines(r)) UNSCOPED_INFO(l);
    return r.ok() && r.diagnostics.empty();
  };
  CHECK(quiet("rob"));
  CHECK(quiet("aiice"));
  CHECK(quiet("bobby"));
  CHECK(quiet("b\xC3\xB6" "b"));  // b, o with diaeresis, b: a different letter
}

TEST_CASE("skeleton maps look-alikes to ASCII and keeps everything else", "[config]") {
  using signoff::conf::detail::capital_i;
  using signoff::conf::detail::look_alike;
  using signoff::conf::detail::non_ascii;
  using signoff::conf::detail::skeleton;
  CHECK(skeleton("Bob") == "bob");
  CHECK(skeleton("b\xD0\xBE" "b") == "bob");                           // Cyrillic small o
  CHECK(skeleton("\xD0\x92\xD0\x9E\xD0\x92") == "bob");                // Cyrillic capital ВОВ
  CHECK(skeleton("\xCE\x92\xCE\x9F\xCE\x92") == "bob");                // Greek capital ΒΟΒ
  CHECK(skeleton("\xCF\x87\xCE\xB5\xCE\xBD\xCE\xB1") == "xeva");       // Greek χενα
  CHECK(skeleton("\xD4\x81\xD0\xB0\xD1\x95\xD1\x96\xD1\x98") == "dasij");  // Cyrillic ԁаѕіј
  CHECK(skeleton("\xEF\xBC\xA1\xEF\xBD\x8C\xEF\xBC\x91\xEF\xBC\x8D") == "all-");  // fullwidth Ａｌ１－
  CHECK(skeleton("d0r1s") == "dorls");
  CHECK(skeleton("\xD3\x8F" "ena") == "lena");                         // Cyrillic palochka
  // Capital I (Latin, Greek, Cyrillic) reads as i or as l.
  for (const char* big_i : {"I", "\xCE\x99", "\xD0\x86"}) {
    INFO(big_i);
    CHECK(skeleton(std::string(big_i) + "van", capital_i::as_i) == "ivan");
    CHECK(skeleton(std::string(big_i) + "van", capital_i::as_l) == "lvan");
  }
  CHECK(skeleton("ivan", capital_i::as_l) == "ivan");  // small i never becomes l
  // Other characters pass through; invalid UTF-8 stays raw and matches nothing.
  CHECK(skeleton("j\xC3\xB6rg") == "j\xC3\xB6rg");
  CHECK(skeleton("\xE4\xBA\xAC") == "\xE4\xBA\xAC");
  CHECK(skeleton("b\xFF" "b") == "b\xFF" "b");
  CHECK(skeleton("b\xC0\xAF" "b") == "b\xC0\xAF" "b");           // overlong "/"
  CHECK(skeleton("b\xED\xA0\x80") == "b\xED\xA0\x80");            // a surrogate
  CHECK(skeleton("b\xD0") == "b\xD0");                            // truncated
  CHECK(skeleton("").empty());

  CHECK(look_alike("bob", "Bob"));
  CHECK(look_alike("Ivan", "ivan"));
  CHECK(look_alike("Ivan", "lvan"));
  CHECK_FALSE(look_alike("ivan", "lvan"));
  CHECK_FALSE(look_alike("bob", "bob"));
  CHECK_FALSE(look_alike("bob", "rob"));
  CHECK_FALSE(look_alike("b\xFF" "b", "b\xEF\xBF\xBD" "b"));  // a raw byte is not U+FFFD

  CHECK(non_ascii("b\xD0\xBE\xD0\xBE" "b\xCE\xB1") == std::vector<char32_t>{0x043E, 0x03B1});
  CHECK(non_ascii("plain").empty());
  CHECK(non_ascii("x\xFF") == std::vector<char32_t>{0xFFFD});
}

TEST_CASE("an exact duplicate person id stays an error, with no look-alike warning on top", "[config]") {
  auto r = load_string(base + "[[people]]\nid = \"bob\"\nroles = [\"approver\"]\n");
  require_error(r, "people[2].id", "duplicate person id \"bob\"");
  CHECK(r.diagnostics.size() == 1);
}

TEST_CASE("escalation levels: people, durations and the last level", "[config]") {
  auto route = [](const std::string& levels) {
    return load_string(base + "[escalation.legal]\nchannel = \"approvals\"\nlevels = " + levels + "\n");
  };
  SECTION("a well-formed route loads") {
    auto r = route(R"([{ notify = ["bob"], after = "15m" }, { notify = ["alice"] }])");
    REQUIRE(r.ok());
    CHECK(r.cfg->escalation[0].levels[0].after == std::chrono::seconds{900});
  }
  SECTION("a person not in [[people]]") {
    require_error(route(R"([{ notify = ["bob", "zed"], after = "15m" }, { notify = ["alice"] }])"),
                  "escalation.legal.levels[0].notify[1]", "\"zed\"");
  }
  SECTION("a malformed duration") {
    require_error(route(R"([{ notify = ["bob"], after = "15 min" }, { notify = ["alice"] }])"),
                  "escalation.legal.levels[0].after", "malformed duration \"15 min\"");
    // `ms` is for internal settings only.
    require_error(route(R"([{ notify = ["bob"], after = "500ms" }, { notify = ["alice"] }])"),
                  "escalation.legal.levels[0].after", "malformed duration");
  }
  SECTION("every level but the last needs after") {
    require_error(route(R"([{ notify = ["bob"] }, { notify = ["alice"] }])"), "escalation.legal.levels[0].after",
                  "missing");
  }
  SECTION("the last level has no after") {
    require_error(route(R"([{ notify = ["bob"], after = "15m" }, { notify = ["alice"], after = "1h" }])"),
                  "escalation.legal.levels[1].after", "last level");
  }
  SECTION("a route needs levels") {
    require_error(route("[]"), "escalation.legal.levels", "must not be empty");
  }
}

TEST_CASE("approval remind_after: an optional SPEC duration, named by its key path", "[config]") {
  auto cls = [](const std::string& line) {
    return load_string(base + "[approval.quick]\nstages = [{ name = \"comms\", roles = [\"approver\"] }]\n" +
                       line + "\n");
  };
  auto ok = cls("remind_after = \"90m\"");
  REQUIRE(ok.ok());
  const auto* quick = ok.cfg->find_class("quick");
  REQUIRE(quick != nullptr);
  CHECK(quick->remind_after == std::chrono::seconds{5400});
  auto none = cls("");
  REQUIRE(none.ok());
  CHECK_FALSE(none.cfg->find_class("quick")->remind_after.has_value());
  require_error(cls("remind_after = \"4 hours\""), "approval.quick.remind_after", "malformed duration \"4 hours\"");
  require_error(cls("remind_after = \"0s\""), "approval.quick.remind_after", "malformed duration");
  require_error(cls("remind_after = \"500ms\""), "approval.quick.remind_after", "malformed duration");
  require_error(cls("remind_after = \"36501d\""), "approval.quick.remind_after", "longer than the maximum");
  require_error(cls("remind_after = 4"), "approval.quick.remind_after", "expected a string");
  require_error(cls("remind_afer = \"4h\""), "approval.quick.remind_afer", "unknown key");
}

TEST_CASE("storage.busy_timeout admits ms, other durations do not", "[config]") {
  auto ok = load_string(with("path = \"/tmp/signoff-test.db\"", "path = \"x.db\"\nbusy_timeout = \"250ms\""));
  REQUIRE(ok.ok());
  CHECK(ok.cfg->storage.busy_timeout == 250ms);
  require_error(load_string(with("path = \"/tmp/signoff-test.db\"", "path = \"x.db\"\nbusy_timeout = \"soon\"")),
                "storage.busy_timeout", "\"soon\"");
}

TEST_CASE("channel names must exist in the channels table", "[config]") {
  SECTION("an approval class channel") {
    require_error(load_string(with("[approval.standard]", "[approval.standard]\nchannel = \"nowhere\"")),
                  "approval.standard.channel", "\"nowhere\"");
  }
  SECTION("the default approval channel when a class relies on it") {
    require_error(load_string(with("approvals = { slack = \"C01APPROVALS\" }", "other = { slack = \"C01\" }")),
                  "approval.standard.channel", "\"approvals\"");
  }
  SECTION("an escalation channel") {
    require_error(load_string(base + "[escalation.pr]\nchannel = \"pr-room\"\nlevels = [{ notify = [\"bob\"] }]\n"),
                  "escalation.pr.channel", "\"pr-room\"");
  }
  SECTION("a holding statement channel") {
    require_error(load_string(base + R"(
[[holding_statement]]
key = "k"
title = "T"
severity = "sev1"
channel = "statements"
text = "x"
)"),
                  "holding_statement[0].channel", "\"statements\"");
  }
}

TEST_CASE("duplicates: person ids, platform IDs, statement keys", "[config]") {
  SECTION("person id") {
    require_error(load_string(base + "[[people]]\nid = \"alice\"\nroles = [\"drafter\"]\n"), "people[2].id",
                  "duplicate person id \"alice\"");
  }
  SECTION("slack id") {
    require_error(load_string(base + "[[people]]\nid = \"carol\"\nroles = [\"approver\"]\nslack = \"U01BOB\"\n"),
                  "people[2].slack", "\"U01BOB\"");
  }
  SECTION("discord id") {
    require_error(load_string(base + "[[people]]\nid = \"carol\"\nroles = [\"approver\"]\ndiscord = \"1002\"\n"),
                  "people[2].discord", "\"1002\"");
  }
  SECTION("holding statement key") {
    std::string hs = "\n[[holding_statement]]\nkey = \"k\"\ntitle = \"T\"\nseverity = \"sev2\"\n"
                     "channel = \"approvals\"\ntext = \"x\"\n";
    require_error(load_string(base + hs + hs), "holding_statement[1].key", "duplicate key \"k\"");
  }
  SECTION("channel platform IDs may repeat") {
    auto r = load_string(base + "also = { slack = \"C01APPROVALS\" }\n");
    CHECK(r.ok());
    CHECK(r.diagnostics.empty());
  }
}

TEST_CASE("holding statements: severity, template, version, date", "[config]") {
  auto statement = [](const std::string& body) {
    return load_string(base + "\n[[holding_statement]]\nkey = \"ok\"\ntitle = \"T\"\nseverity = \"sev1\"\n"
                              "channel = \"approvals\"\ntext = \"fine\"\n"
                              "\n[[holding_statement]]\nkey = \"k\"\ntitle = \"T\"\nchannel = \"approvals\"\n" +
                       body);
  };
  require_error(statement("severity = \"sev4\"\ntext = \"x\"\n"), "holding_statement[1].severity", "\"sev4\"");
  require_error(statement("severity = \"sev1\"\ntext = \"Affecting {system.\"\n"), "holding_statement[1].text",
                "unmatched \"{\"");
  require_error(statement("severity = \"sev1\"\ntext = \"Affecting {sys tem}\"\n"), "holding_statement[1].text",
                "\"sys tem\"");
  require_error(statement("severity = \"sev1\"\ntext = \"x\"\nversion = 0\n"), "holding_statement[1].version",
                "at least 1");
  require_error(statement("severity = \"sev1\"\ntext = \"x\"\napproved_on = \"yesterday\"\n"),
                "holding_statement[1].approved_on", "\"yesterday\"");

  SECTION("a valid statement keeps its text verbatim") {
    auto r = statement("severity = \"sev3\"\nversion = 4\napproved_by = [\"legal:dave\"]\n"
                       "approved_on = 2026-10-01\ntext = \"\"\"\n  Line {a}\n\n{b} and {a}.\n\"\"\"\n");
    REQUIRE(r.ok());
    const holding_statement& s = r.cfg->statements[1];
    CHECK(s.text == "  Line {a}\n\n{b} and {a}.\n");  // toml++ trims only the newline after """
    CHECK(s.placeholders == std::vector<std::string>{"a", "b"});
    CHECK(s.version == 4);
    CHECK(s.approved_on == "2026-10-01");
    CHECK(s.approved_by == std::vector<std::string>{"legal:dave"});
  }
}

TEST_CASE("platform secrets come from *_file or *_env only", "[config]") {
  SECTION("slack needs one of each pair") {
    require_error(load_string(base + "[slack]\nbot_token_env = \"SLACK_BOT\"\n"), "slack.app_token_file",
                  "missing (or app_token_env)");
    require_error(load_string(base + "[slack]\napp_token_env = \"SLACK_APP\"\n"), "slack.bot_token_file",
                  "missing (or bot_token_env)");
    require_error(load_string(base + "[slack]\napp_token_env = \"A\"\napp_token_file = \"/f\"\nbot_token_env = \"B\"\n"),
                  "slack.app_token_file", "not both");
  }
  SECTION("a complete slack section loads") {
    auto r = load_string(base + "[slack]\napp_token_file = \"/run/a\"\nbot_token_env = \"SLACK_BOT\"\n");
    REQUIRE(r.ok());
    CHECK(r.cfg->slack->app_token.file == "/run/a");
    CHECK(r.cfg->slack->bot_token.env == "SLACK_BOT");
    CHECK(r.cfg->slack->api_base == "https://slack.com/api/");
  }
  SECTION("a literal token is refused without echoing it") {
    for (const char* key : {"token", "bot_token", "app_token"}) {
      auto r = load_string(base + "[slack]\napp_token_env = \"A\"\nbot_token_env = \"B\"\n" + key +
                           " = \"xoxb-TOPSECRET\"\n");
      require_error(r, std::string("slack.") + key, "secrets never live in the config file: use");
      for (const auto& l : lines(r)) CHECK(l.find("TOPSECRET") == std::string::npos);
    }
    require_error(load_string(base + "[discord]\ntoken = \"abc\"\napplication_id = \"1\"\n"), "discord.token",
                  "use token_file or token_env");
    require_error(load_string(base + "[mattermost]\nurl = \"https://chat.example.com\"\ntoken = \"abc\"\n"),
                  "mattermost.token", "use token_file or token_env");
  }
  SECTION("discord and mattermost need a token reference") {
    require_error(load_string(base + "[discord]\napplication_id = \"1\"\n"), "discord.token_file",
                  "missing (or token_env)");
    require_error(load_string(base + "[mattermost]\nurl = \"https://chat.example.com\"\n"), "mattermost.token_file",
                  "missing (or token_env)");
    require_error(load_string(base + "[discord]\ntoken_env = \"MY TOKEN\"\napplication_id = \"1\"\n"),
                  "discord.token_env", "environment variable");
  }
  SECTION("Discord IDs are snowflakes: numbers") {
    require_error(load_string(base + "[discord]\ntoken_env = \"T\"\napplication_id = \"my-app\"\n"),
                  "discord.application_id", "is not a Discord ID");
    require_error(load_string(base + "[discord]\ntoken_env = \"T\"\napplication_id = \"1\"\nguild_id = \"12a\"\n"),
                  "discord.guild_id", "is not a Discord ID");
    require_error(load_string(base + "[discord]\ntoken_env = \"T\"\napplication_id = \"18446744073709551616\"\n"),
                  "discord.application_id", "is not a Discord ID");
    require_error(load_string(base + "[[people]]\nid = \"zed\"\nroles = [\"approver\"]\ndiscord = \"@zed\"\n"),
                  "people[2].discord", "is not a Discord ID");
    auto r = load_string(base + "[discord]\ntoken_env = \"T\"\napplication_id = \"18446744073709551615\"\n"
                                "guild_id = \"1200000000000000001\"\n");
    REQUIRE(r.ok());
    CHECK(r.cfg->discord->guild_id == "1200000000000000001");
    CHECK(r.cfg->discord->api_base == "https://discord.com/api/v10/");
  }
  SECTION("URLs are https, or http on loopback only") {
    require_error(load_string(base + "[mattermost]\nurl = \"http://chat.example.com\"\ntoken_env = \"T\"\n"),
                  "mattermost.url", "loopback");
    require_error(load_string(base + "[discord]\ntoken_env = \"T\"\napplication_id = \"1\"\napi_base = \"ftp://x\"\n"),
                  "discord.api_base", "https://");
    require_error(load_string(base + "[slack]\napp_token_env = \"A\"\nbot_token_env = \"B\"\n"
                                     "api_base = \"http://127.0.0.1.evil.com/api/\"\n"),
                  "slack.api_base", "loopback");
    for (const char* url : {"http://127.0.0.1:8065", "http://localhost", "http://[::1]:8065/", "https://chat.example.com"}) {
      auto r = load_string(base + "[mattermost]\nurl = \"" + url + "\"\ntoken_env = \"T\"\n");
      INFO(url);
      CHECK(r.ok());
    }
    auto r = load_string(base + "[mattermost]\nurl = \"https://chat.example.com\"\ntoken_env = \"T\"\n");
    REQUIRE(r.ok());
    CHECK(r.cfg->mattermost->trigger == "!signoff");
  }  SECTION("Mattermost buttons need both actions_url and actions_secret_file") {
    const std::string mm = base + "[mattermost]\nurl = \"https://chat.example.com\"\ntoken_env = \"T\"\n";
    require_error(load_string(mm + "actions_url = \"https://signoff.example.com/mattermost/actions\"\n"),
                  "mattermost.actions_secret_file", "missing");
    require_error(load_string(mm + "actions_secret_file = \"/run/s\"\n"), "mattermost.actions_url", "missing");
    require_error(load_string(mm + "actions_url = \"http://signoff.example.com/mattermost/actions\"\n"
                                   "actions_secret_file = \"/run/s\"\n"),
                  "mattermost.actions_url", "loopback");
    require_error(load_string(mm + "actions_url = \"https://s.example.com/mattermost/actions\"\n"
                                   "actions_secret = \"hunter2hunter2\"\n"),
                  "mattermost.actions_secret", "actions_secret_file");
    auto r = load_string(mm + "actions_url = \"https://signoff.example.com/mattermost/actions\"\n"
                              "actions_secret_file = \"/run/s\"\n");
    REQUIRE(r.ok());
    CHECK(r.cfg->mattermost->actions_url == "https://signoff.example.com/mattermost/actions");
    CHECK(r.cfg->mattermost->actions_secret_file == "/run/s");
    for (const auto& dg : r.diagnostics) CHECK(dg.key != "mattermost.actions_url");
    auto proxied = load_string(mm + "actions_url = \"https://signoff.example.com/hooks/mm\"\n"
                                    "actions_secret_file = \"/run/s\"\n");
    REQUIRE(proxied.ok());
    bool warned = false;
    for (const auto& dg : proxied.diagnostics) warned |= dg.warning && dg.key == "mattermost.actions_url";
    CHECK(warned);
  }
}

TEST_CASE("audit section: signed checkpoints need a key, a well-formed origin and a known channel", "[config][checkpoint]") {
  const std::string audit = "[audit]\nsigning_key_file = \"/run/k\"\norigin = \"log.example.com/audit\"\n";
  SECTION("defaults") {
    auto r = load_string(base + audit + "channel = \"approvals\"\n");
    REQUIRE(r.ok());
    REQUIRE(r.cfg->audit);
    CHECK(r.cfg->audit->signing_key.file == "/run/k");
    CHECK(r.cfg->audit->origin == "log.example.com/audit");
    CHECK(r.cfg->audit->checkpoint_every == 1000);
    CHECK(r.cfg->audit->checkpoint_interval == std::chrono::hours(1));
    CHECK(r.diagnostics.empty());
    CHECK_FALSE(load_string(base).cfg->audit);
  }
  SECTION("the default channel \"audit\" missing from [channels] is a warning, a named one an error") {
    auto r = load_string(base + audit);
    REQUIRE(r.ok());
    bool warned = false;
    for (const auto& dg : r.diagnostics) warned |= dg.warning && dg.key == "audit.channel";
    CHECK(warned);
    require_error(load_string(base + audit + "channel = \"auditt\"\n"), "audit.channel", "not in [channels]");
  }
  SECTION("origin: no spaces, no '+', no control characters, not empty") {
    const std::string key = "[audit]\nsigning_key_file = \"/run/k\"\nchannel = \"approvals\"\n";
    require_error(load_string(base + key + "origin = \"my log\"\n"), "audit.origin", "space");
    require_error(load_string(base + key + "origin = \"log+1\"\n"), "audit.origin", "'+'");
    require_error(load_string(base + key + "origin = \"log\\u0007\"\n"), "audit.origin", "control");
    require_error(load_string(base + key + "origin = \"\"\n"), "audit.origin", "must not be empty");
    require_error(load_string(base + key), "audit.origin", "missing");
  }
  SECTION("the key is read from a file or the environment, never written in the config") {
    require_error(load_string(base + "[audit]\norigin = \"o\"\nchannel = \"approvals\"\n"),
                  "audit.signing_key_file", "missing (or signing_key_env)");
    auto lit = load_string(base + "[audit]\norigin = \"o\"\nchannel = \"approvals\"\nsigning_key = \"-----BEGIN "
                                  "PRIVATE KEY-----MC4CAQAwBQYDK2VwBCIEIsecret\"\n");
    require_error(lit, "audit.signing_key", "signing_key_file");
    for (const auto& dg : lit.diagnostics) CHECK(dg.message.find("MC4CAQ") == std::string::npos);
    auto env = load_string(base + "[audit]\nsigning_key_env = \"SIGNOFF_AUDIT_KEY\"\norigin = \"o\"\n"
                                  "channel = \"approvals\"\n");
    REQUIRE(env.ok());
    CHECK(env.cfg->audit->signing_key.env == "SIGNOFF_AUDIT_KEY");
  }
  SECTION("checkpoint_every and checkpoint_interval") {
    const std::string a = base + audit + "channel = \"approvals\"\n";
    require_error(load_string(a + "checkpoint_every = 0\n"), "audit.checkpoint_every", "at least 1");
    require_error(load_string(a + "checkpoint_every = \"10\"\n"), "audit.checkpoint_every", "integer");
    require_error(load_string(a + "checkpoint_interval = \"1 hour\"\n"), "audit.checkpoint_interval");
    auto r = load_string(a + "checkpoint_every = 50\ncheckpoint_interval = \"15m\"\n");
    REQUIRE(r.ok());
    CHECK(r.cfg->audit->checkpoint_every == 50);
    CHECK(r.cfg->audit->checkpoint_interval == std::chrono::minutes(15));
    require_error(load_string(a + "checkpoint_evry = 5\n"), "audit.checkpoint_evry", "unknown key");
  }
}

TEST_CASE("person ids and role names are single words", "[config]") {
  require_error(load_string(with("id = \"bob\"", "id = \"bob smith\"")), "people[1].id", "spaces");
  require_error(load_string(with("id = \"bob\"", "id = \"\"")), "people[1].id", "must not be empty");
  require_error(load_string(with("id = \"bob\"", "id = \"system\"")), "people[1].id", "reserved");
  require_error(load_string(with("id = \"bob\"", "id = \"unknown:U1\"")), "people[1].id", "unknown:");
  require_error(load_string(with("id = \"bob\"", "id = \"bob\\tx\"")), "people[1].id", "control");
  require_error(load_string(with("roles = [\"drafter\"]", "roles = [\"drafter\", \"\"]")), "people[0].roles[1]",
                "must not be empty");
  require_error(load_string(with("draft = [\"drafter\"]", "draft = [\"drafter\", \"a b\"]")), "roles.draft[1]",
                "spaces");
}

TEST_CASE("limits: rate and max_text", "[config]") {
  require_error(load_string(base + "[limits]\ncommands_per_person = \"60 per minute\"\n"),
                "limits.commands_per_person", "\"60 per minute\"");
  require_error(load_string(base + "[limits]\nmax_text = 0\n"), "limits.max_text", "at least 1");
  auto off = load_string(base + "[limits]\ncommands_per_person = \"off\"\nmax_text = 280\n");
  REQUIRE(off.ok());
  CHECK_FALSE(off.cfg->limits.commands_per_person.has_value());
  CHECK(off.cfg->limits.max_text == 280);
}

TEST_CASE("http.listen is HOST:PORT", "[config]") {
  require_error(load_string(base + "[http]\nlisten = \"9470\"\n"), "http.listen", "\"9470\"");
  auto r = load_string(base + "[http]\nlisten = \"[::1]:9470\"\n");
  REQUIRE(r.ok());
  CHECK(r.cfg->http_listen == "[::1]:9470");
}

TEST_CASE("warnings do not make a config invalid", "[config]") {
  SECTION("a role used by nothing") {
    auto r = load_string(with("roles = [\"drafter\"]", "roles = [\"drafter\", \"aprover\"]"));
    REQUIRE(r.ok());
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].warning);
    CHECK(format(r.diagnostics[0]) ==
          "warning: people[0].roles[1]: role \"aprover\" is used by nothing in the config (typo?)");
  }
  SECTION("no standard approval class") {
    auto r = load_string(with("[approval.standard]", "[approval.normal]"));
    REQUIRE(r.ok());
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].warning);
    CHECK(r.diagnostics[0].key == "approval");
    CHECK(r.diagnostics[0].message.find("\"standard\"") != std::string::npos);
  }
}

TEST_CASE("every problem is reported at once", "[config]") {
  std::string text = base;
  text = with("roles = [\"drafter\"]", "roles = [\"drafter\"]\nrolez = 1", text);           // 1 unknown key
  text = with("slack = \"U01BOB\"", "slack = \"U01ALICE\"", text);                         // 2 duplicate slack id
  text = with("[approval.standard]", "[approval.standard]\nchannel = \"nowhere\"", text);  // 3 unknown channel
  text += "[limits]\nmax_text = \"big\"\n";                                                // 4 wrong type
  text += "[escalation.legal]\nchannel = \"approvals\"\nlevels = [{ notify = [\"zed\"] }]\n";  // 5 unknown person
  auto r = load_string(text);
  for (const auto& l : lines(r)) UNSCOPED_INFO(l);
  CHECK_FALSE(r.ok());
  CHECK(r.diagnostics.size() == 5);
  CHECK(error_count(r) == 5);
  std::vector<std::string> keys;
  for (const auto& d : r.diagnostics) keys.push_back(d.key);
  std::sort(keys.begin(), keys.end());
  CHECK(keys == std::vector<std::string>{"approval.standard.channel", "escalation.legal.levels[0].notify[0]",
                                         "limits.max_text", "people[0].rolez", "people[1].slack"});
}

TEST_CASE("a TOML syntax error is one diagnostic with line and column", "[config]") {
  auto r = load_string("[storage]\npath = \"x\"\nmax = = 2\n", "site.toml");
  CHECK_FALSE(r.ok());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].key == "site.toml:3:7");
  CHECK_FALSE(r.diagnostics[0].message.empty());
  CHECK_FALSE(r.diagnostics[0].warning);

  auto dup = load_string(base + "[storage]\npath = \"y\"\n");
  REQUIRE(dup.diagnostics.size() == 1);
  CHECK(dup.diagnostics[0].key.starts_with("signoff.toml:"));
}

TEST_CASE("load_file reports an unreadable file by its path", "[config]") {
  auto r = load_file("/nonexistent/signoff.toml");
  CHECK_FALSE(r.ok());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].key == "/nonexistent/signoff.toml");
}

TEST_CASE("config sha256 is the SHA-256 of the exact bytes", "[config]") {
  auto a = load_string(base);
  auto b = load_string(base + "# a comment changes the bytes\n");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a.cfg->sha256 == signoff::sha256_hex(base));
  CHECK(a.cfg->sha256.size() == 64);
  CHECK(a.cfg->sha256 != b.cfg->sha256);

  std::ifstream in(example_path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto file = load_file(example_path);
  REQUIRE(file.ok());
  CHECK(file.cfg->sha256 == signoff::sha256_hex(bytes));
}

TEST_CASE("lookups and permissions", "[config]") {
  auto r = load_file(example_path);
  REQUIRE(r.ok());
  const config& c = *r.cfg;

  REQUIRE(c.find_person("bob") != nullptr);
  CHECK(c.find_person("bob")->id == "bob");
  CHECK(c.find_person("mallory") == nullptr);
  CHECK(c.find_person("") == nullptr);

  using signoff::platform;
  const person* alice = c.find_by_platform(platform::slack, "U01ALICE");
  REQUIRE(alice != nullptr);
  CHECK(alice->id == "alice");
  CHECK(c.find_by_platform(platform::discord, "U01ALICE") == nullptr);
  CHECK(c.find_by_platform(platform::shell, "alice") == nullptr);  // the shell has no IDs in the config
  CHECK(c.find_by_platform(platform::discord, "") == nullptr);  // dave has no discord id: never matches ""

  CHECK(c.find_class("regulated") != nullptr);
  CHECK(c.find_class("Regulated") == nullptr);
  CHECK(c.find_route("pr") != nullptr);
  CHECK(c.find_route("ops") == nullptr);
  CHECK(c.find_channel("statements") != nullptr);
  CHECK(c.find_channel("random") == nullptr);
  CHECK(c.find_statement("product-recall") != nullptr);
  CHECK(c.find_statement("alien-invasion") == nullptr);

  auto can = [&](const char* id, const char* perm) { return c.has_permission(*c.find_person(id), perm); };
  CHECK(can("alice", "draft"));
  CHECK_FALSE(can("alice", "approve"));
  CHECK(can("bob", "draft"));
  CHECK(can("bob", "approve"));
  CHECK(can("dave", "approve"));
  CHECK_FALSE(can("dave", "crisis"));
  CHECK(can("frank", "crisis"));
  CHECK(can("heidi", "audit"));
  CHECK_FALSE(can("heidi", "draft"));
  CHECK(can("ivan", "admin"));
  CHECK(can("ivan", "audit"));
  CHECK_FALSE(can("ivan", "superpowers"));
}

TEST_CASE("format prefixes warnings", "[config]") {
  CHECK(format({"people[2].roles[0]", "role \"x\" is held by no person", false}) ==
        "people[2].roles[0]: role \"x\" is held by no person");
  CHECK(format({"approval", "no class", true}) == "warning: approval: no class");
}

TEST_CASE("parse_template finds placeholders and rejects malformed braces", "[template]") {
  auto ok = parse_template("{a} and {b-2} and {a} and {C_3}");
  CHECK(ok.error.empty());
  CHECK(ok.placeholders == std::vector<std::string>{"a", "b-2", "C_3"});

  auto none = parse_template("no placeholders here");
  CHECK(none.error.empty());
  CHECK(none.placeholders.empty());
  CHECK(parse_template("").error.empty());

  auto open = parse_template("update by {next_update");
  CHECK(open.error.find("unmatched \"{\"") != std::string::npos);
  CHECK(open.error.find("column 11") != std::string::npos);

  auto close = parse_template("line one\nsee } here");
  CHECK(close.error.find("unmatched \"}\"") != std::string::npos);
  CHECK(close.error.find("line 2, column 5") != std::string::npos);

  CHECK(parse_template("empty {} here").error.find("empty placeholder") != std::string::npos);
  CHECK(parse_template("bad {na.me}").error.find("\"na.me\"") != std::string::npos);
  CHECK(parse_template("bad { name }").error.find("\" name \"") != std::string::npos);
  CHECK(parse_template("nested {{name}}").error.find("unmatched \"{\"") != std::string::npos);
  CHECK(parse_template("{a{b}").error.find("unmatched \"{\"") != std::string::npos);
  CHECK_FALSE(parse_template("{café}").error.empty());
  // Columns count code points, as an editor shows them.
  CHECK(parse_template("é}").error.find("column 2") != std::string::npos);
}

TEST_CASE("fill_template inserts values verbatim", "[template]") {
  std::map<std::string, std::string> values{{"system", "{payments}"}, {"next_update", "14:00 UTC"}};
  CHECK(fill_template("Incident on {system}; update by {next_update}. Again: {system}.", values) ==
        "Incident on {payments}; update by 14:00 UTC. Again: {payments}.");
  // A value that looks like a placeholder is never expanded again.
  CHECK(fill_template("{a}{b}", {{"a", "{b}"}, {"b", "B"}}) == "{b}B");
  CHECK(fill_template("plain text\n", {}) == "plain text\n");
  CHECK(fill_template("{x}", {{"x", ""}}).empty());
  CHECK(fill_template("ünïcode {x}!", {{"x", "ça va"}}) == "ünïcode ça va!");
  CHECK_THROWS_AS(fill_template("{missing}", {}), std::out_of_range);
}

TEST_CASE("parse_rate", "[config]") {
  std::optional<rate_limit> r;
  REQUIRE(parse_rate("60/1m", r));
  REQUIRE(r.has_value());
  CHECK(r->count == 60);
  CHECK(r->window == 60s);
  REQUIRE(parse_rate("5/30s", r));
  CHECK(r->count == 5);
  CHECK(r->window == 30s);
  REQUIRE(parse_rate("1000/1d", r));
  CHECK(r->window == std::chrono::seconds{86400});
  REQUIRE(parse_rate("off", r));
  CHECK_FALSE(r.has_value());

  for (const char* bad : {"", "60", "/1m", "60/", "0/1m", "-1/1m", "+5/1m", "60/1ms", "60/1x", "x/1m", " 60/1m",
                          "60/1m ", "60 / 1m", "OFF", "9999999999/1m"}) {
    std::optional<rate_limit> out = rate_limit{7, 7s};
    INFO(bad);
    CHECK_FALSE(parse_rate(bad, out));
    REQUIRE(out.has_value());  // left untouched on failure
    CHECK(out->count == 7);
  }
}
