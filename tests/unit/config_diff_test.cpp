// What a config reload changes (config/diff.hpp): the summary a
// config.reload record carries, and the restart-only keys it names and
// does not apply (SPEC "Configuration", SIGHUP).
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <string>

#include "config/diff.hpp"
#include "support/process.hpp"

using namespace signoff::conf;

namespace {

const std::string before_toml = R"(
[storage]
path = "/tmp/a.db"
[[people]]
id = "alice"
roles = ["drafter"]
slack = "U1"
[[people]]
id = "bob"
roles = ["approver"]
slack = "U2"
[[people]]
id = "dave"
roles = ["approver", "lead"]
[roles]
draft = ["drafter"]
approve = ["approver"]
crisis = ["lead"]
[approval.standard]
stages = [{ name = "comms", roles = ["approver"] }]
[approval.legal]
stages = [{ name = "legal", roles = ["approver"] }]
[escalation.sev1]
channel = "approvals"
levels = [{ notify = ["bob"], after = "15m" }, { notify = ["dave"] }]
[channels]
approvals = { slack = "C1" }
[[holding_statement]]
key = "breach"
title = "Breach"
severity = "sev1"
channel = "approvals"
version = 2
text = "We are aware of {what}."
[[holding_statement]]
key = "outage"
title = "Outage"
severity = "sev2"
channel = "approvals"
text = "Service is down."
[slack]
app_token_file = "/run/app"
bot_token_file = "/run/bot"
)";

// alice gains a role and a new Slack ID, bob is unchanged, dave leaves,
// carol joins; approve gains a role; the legal class goes, regulated
// arrives, standard needs two; sev1's first level waits longer; a channel
// is added; breach moves to version 3, outage goes, recall arrives; the
// text limit changes.
const std::string after_toml = R"(
[storage]
path = "/tmp/a.db"
[[people]]
id = "alice"
roles = ["drafter", "lead"]
slack = "U9"
[[people]]
id = "carol"
roles = ["approver"]
[[people]]
id = "bob"
roles = ["approver"]
slack = "U2"
[roles]
draft = ["drafter"]
approve = ["approver", "lead"]
crisis = ["lead"]
[approval.standard]
stages = [{ name = "comms", roles = ["approver"], count = 2 }]
[approval.regulated]
stages = [{ name = "legal", roles = ["lead"] }]
[escalation.sev1]
channel = "approvals"
levels = [{ notify = ["bob"], after = "30m" }, { notify = ["alice"] }]
[channels]
approvals = { slack = "C1" }
statements = { slack = "C2" }
[[holding_statement]]
key = "breach"
title = "Breach"
severity = "sev1"
channel = "approvals"
version = 3
text = "We are aware of {what} and {when}."
[[holding_statement]]
key = "recall"
title = "Recall"
severity = "sev2"
channel = "statements"
text = "A product is recalled."
[limits]
max_text = 2000
[slack]
app_token_file = "/run/app"
bot_token_file = "/run/bot"
)";

config load(const std::string& text) {
  auto r = load_string(text);
  for (const auto& d : r.diagnostics) UNSCOPED_INFO(format(d));
  REQUIRE(r.ok());
  return *r.cfg;
}

}  // namespace

TEST_CASE("config diff: people, roles, classes, routes, channels, statements and limits, by name",
          "[config][reload]") {
  const auto a = load(before_toml), b = load(after_toml);
  const auto d = diff(a, b);
  CHECK(d.people_added == std::vector<std::string>{"carol"});
  CHECK(d.people_removed == std::vector<std::string>{"dave"});
  REQUIRE(d.people_changed.size() == 1);
  CHECK(d.people_changed[0].id == "alice");
  CHECK(d.people_changed[0].roles_added == std::vector<std::string>{"lead"});
  CHECK(d.people_changed[0].roles_removed.empty());
  CHECK(d.people_changed[0].platform_ids == std::vector<std::string>{"slack"});
  CHECK_FALSE(d.people_changed[0].name);
  CHECK(d.roles == std::vector<std::string>{"approve"});
  CHECK(d.approval.added == std::vector<std::string>{"regulated"});
  CHECK(d.approval.removed == std::vector<std::string>{"legal"});
  CHECK(d.approval.changed == std::vector<std::string>{"standard"});
  CHECK(d.escalation.changed == std::vector<std::string>{"sev1"});
  CHECK(d.channels.added == std::vector<std::string>{"statements"});
  CHECK(d.ignored.empty());
  CHECK_FALSE(d.empty());

  CHECK(boost::json::serialize(to_json(d)) ==
        R"({"people":{"added":["carol"],"removed":["dave"],"changed":[{"id":"alice","roles_added":["lead"],)"
        R"("platform_ids":["slack"]}]},"roles":["approve"],)"
        R"("approval":{"added":["regulated"],"removed":["legal"],"changed":["standard"]},)"
        R"("escalation":{"changed":["sev1"]},"channels":{"added":["statements"]},)"
        R"("holding_statements":{"added":[{"key":"recall","version":1}],"removed":[{"key":"outage","version":1}],)"
        R"("changed":[{"key":"breach","from_version":2,"to_version":3}]},"limits":["limits.max_text"]})");
  CHECK(summary(d) ==
        "people +carol -dave ~alice; roles approve; approval +regulated -legal ~standard; escalation ~sev1; "
        "channels +statements; holding statements +recall v1 -outage v1 ~breach v2->v3; limits limits.max_text");
}

TEST_CASE("config diff: the same file, or roles merely reordered, is no change", "[config][reload]") {
  const auto a = load(before_toml);
  auto reordered = before_toml;
  reordered = signoff::test::replaced(reordered, "roles = [\"approver\", \"lead\"]", "roles = [\"lead\", \"approver\"]");
  for (const auto& text : {before_toml, reordered}) {
    const auto d = diff(a, load(text));
    CHECK(d.empty());
    CHECK(d.ignored.empty());
    CHECK(boost::json::serialize(to_json(d)) == "{}");
    CHECK(summary(d) == "no changes");
  }
}

TEST_CASE("config diff: a removed role and a renamed person are changes of that person", "[config][reload]") {
  const auto a = load(before_toml);
  auto text = before_toml;
  text = signoff::test::replaced(text, "id = \"dave\"\nroles = [\"approver\", \"lead\"]",
          "id = \"dave\"\nname = \"Dave D\"\nroles = [\"approver\"]\ndiscord = \"42\"");
  text = signoff::test::replaced(text, "crisis = [\"lead\"]", "crisis = [\"approver\"]");
  const auto d = diff(a, load(text));
  REQUIRE(d.people_changed.size() == 1);
  CHECK(boost::json::serialize(to_json(d)) ==
        R"({"people":{"changed":[{"id":"dave","roles_removed":["lead"],"platform_ids":["discord"],"name":true}]},)"
        R"("roles":["crisis"]})");
}

TEST_CASE("config diff: keys that take a restart are named and kept as running", "[config][reload]") {
  const auto a = load(before_toml);
  auto text = before_toml;
  text = signoff::test::replaced(text, "/tmp/a.db", "/tmp/b.db");
  text = signoff::test::replaced(text, "bot_token_file = \"/run/bot\"", "bot_token_env = \"BOT\"");
  text += "api_base = \"https://slack.example.com/api/\"\n"
          "[http]\nlisten = \"127.0.0.1:9999\"\n"
          "[discord]\ntoken_env = \"T\"\napplication_id = \"1\"\n"
          "[[people]]\nid = \"erin\"\nroles = [\"drafter\"]\n";
  const auto b = load(text);
  const auto d = diff(a, b);
  CHECK(d.ignored == std::vector<std::string>{"storage.path", "http.listen", "slack.bot_token_file",
                                              "slack.bot_token_env", "slack.api_base", "discord"});
  CHECK(d.people_added == std::vector<std::string>{"erin"});

  const auto in_force = reloadable_part(a, b);
  CHECK(in_force.storage.path == "/tmp/a.db");
  CHECK(in_force.http_listen == a.http_listen);
  REQUIRE(in_force.slack);
  CHECK(in_force.slack->api_base == "https://slack.com/api/");
  CHECK(in_force.slack->bot_token.file == "/run/bot");
  CHECK_FALSE(in_force.discord);
  CHECK(in_force.find_person("erin") != nullptr);  // what a reload applies is applied
  CHECK(in_force.sha256 == b.sha256);
  CHECK(diff(a, in_force).ignored.empty());
}

TEST_CASE("config diff: the audit section takes a restart (the signing key is read once)", "[config][reload][checkpoint]") {
  const std::string audit = "[audit]\nsigning_key_file = \"/run/k\"\norigin = \"o\"\nchannel = \"approvals\"\n";
  const auto a = load(before_toml + audit);
  const auto b = load(before_toml + signoff::test::replaced(audit, "/run/k", "/run/k2") + "checkpoint_every = 5\n");
  const auto d = diff(a, b);
  CHECK(d.ignored == std::vector<std::string>{"audit.signing_key_file", "audit.checkpoint_every"});
  const auto in_force = reloadable_part(a, b);
  REQUIRE(in_force.audit);
  CHECK(in_force.audit->signing_key.file == "/run/k");
  CHECK(in_force.audit->checkpoint_every == 1000);
  CHECK(diff(load(before_toml), a).ignored == std::vector<std::string>{"audit"});
}

TEST_CASE("config diff: a class's remind_after is a change of that class", "[config][reload]") {
  const auto a = load(before_toml);
  const auto text = signoff::test::replaced(before_toml, "[approval.legal]\n", "[approval.legal]\nremind_after = \"4h\"\n");
  const auto d = diff(a, load(text));
  CHECK(d.approval.changed == std::vector<std::string>{"legal"});
  CHECK(summary(d) == "approval ~legal");
}
