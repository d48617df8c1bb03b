// /healthz and /metrics (bot/runtime/health.hpp) as pure functions of a
// snapshot: the status SPEC gives for each database and platform state, and
// every metric name operators' dashboards depend on. No sockets.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "bot/runtime/health.hpp"

using namespace signoff;

namespace {

runtime::platform_health adapter_health(const std::string& name, const std::string& state, std::string metrics = {}) {
  runtime::platform_health p;
  p.name = name;
  p.status.state = state;
  p.metrics = std::move(metrics);
  return p;
}

runtime::health_snapshot healthy() {
  runtime::health_snapshot s;
  s.stats.commands = 12;
  s.stats.not_recorded = 1;
  s.database_ok = true;
  s.batches = 7;
  auto slack = adapter_health("slack", "connected", "signoff_slack_up 1\n");
  slack.status.extra["links"] = 2;
  s.platforms.push_back(std::move(slack));
  return s;
}

boost::json::object body_of(const runtime::health_reply& r) { return boost::json::parse(r.body).as_object(); }

}  // namespace

TEST_CASE("health: 200 and ok when the database and every platform are fine", "[runtime][health]") {
  auto s = healthy();
  s.platforms.push_back(adapter_health("discord", "connecting"));
  auto r = runtime::healthz(s);
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  CHECK(r.body.back() == '\n');
  auto o = body_of(r);
  CHECK(o.at("status").as_string() == "ok");
  CHECK(o.at("database").as_string() == "ok");
  CHECK(o.at("commands").to_number<std::uint64_t>() == 12);
  CHECK(o.at("not_recorded").to_number<std::uint64_t>() == 1);
  const auto& platforms = o.at("platforms").as_object();
  REQUIRE(platforms.size() == 2);
  CHECK(platforms.at("slack").as_object().at("state").as_string() == "connected");
  CHECK(platforms.at("slack").as_object().at("links").as_int64() == 2);  // what the platform adds
  CHECK(platforms.at("discord").as_object().at("state").as_string() == "connecting");
}

TEST_CASE("health: 503 when the database is failing", "[runtime][health]") {
  auto s = healthy();
  s.database_ok = false;
  auto r = runtime::healthz(s);
  CHECK(r.status == 503);
  auto o = body_of(r);
  CHECK(o.at("database").as_string() == "failing");
  CHECK(o.at("status").as_string() == "unhealthy");
  CHECK(o.at("platforms").as_object().at("slack").as_object().at("state").as_string() == "connected");
}

TEST_CASE("health: 503 when any platform is disabled, whatever the others", "[runtime][health]") {
  auto s = healthy();
  s.platforms.push_back(adapter_health("mattermost", "disabled"));
  auto r = runtime::healthz(s);
  CHECK(r.status == 503);
  auto o = body_of(r);
  CHECK(o.at("database").as_string() == "ok");
  CHECK(o.at("status").as_string() == "unhealthy");
  CHECK(o.at("platforms").as_object().at("mattermost").as_object().at("state").as_string() == "disabled");

  // Connecting or degraded is not disabled: the service is still healthy.
  auto d = healthy();
  d.platforms.front().status.state = "degraded";
  CHECK(runtime::healthz(d).status == 200);
}

TEST_CASE("health: no platform at all is healthy while the database is", "[runtime][health]") {
  runtime::health_snapshot s;
  auto r = runtime::healthz(s);
  CHECK(r.status == 200);
  CHECK(body_of(r).at("platforms").as_object().empty());
}

TEST_CASE("metrics: every metric name operators depend on, with its type and value", "[runtime][health]") {
  auto s = healthy();
  s.stats.duplicates = 3;
  s.stats.timer_actions = 4;
  s.stats.timer_failures = 5;
  s.stats.timer_rows_skipped = 6;
  s.stats.posts_sent = 8;
  s.stats.posts_failed = 9;
  auto r = runtime::metrics(s);
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
  // Renaming any of these breaks dashboards: the list is the contract.
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"signoff_commands_total", "counter 12"},
      {"signoff_commands_not_recorded_total", "counter 1"},
      {"signoff_deliveries_duplicate_total", "counter 3"},
      {"signoff_batches_total", "counter 7"},
      {"signoff_timer_actions_total", "counter 4"},
      {"signoff_timer_failures_total", "counter 5"},
      {"signoff_timer_rows_skipped_total", "counter 6"},
      {"signoff_posts_sent_total", "counter 8"},
      {"signoff_posts_failed_total", "counter 9"},
      {"signoff_database_up", "gauge 1"},
  };
  for (const auto& [name, type_value] : expected) {
    INFO(name);
    const auto sp = type_value.find(' ');
    CHECK(r.body.find("# HELP " + name + " ") != std::string::npos);
    CHECK(r.body.find("# TYPE " + name + " " + type_value.substr(0, sp) + "\n") != std::string::npos);
    CHECK(r.body.find("\n" + name + " " + type_value.substr(sp + 1) + "\n") != std::string::npos);
  }
  // Each platform's own families follow the process-wide ones.
  CHECK(r.body.find("signoff_slack_up 1\n") > r.body.find("signoff_database_up 1\n"));

  s.database_ok = false;
  CHECK(runtime::metrics(s).body.find("\nsignoff_database_up 0\n") != std::string::npos);
}
