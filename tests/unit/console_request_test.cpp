// Reading the audit console's requests (bot/console/request.*): pure, so the
// rules are pinned here without a socket.
#include <catch2/catch.hpp>

#include "bot/console/request.hpp"

using namespace signoff::console;

TEST_CASE("console request: forms and query strings decode as browsers encode them", "[console][request]") {
  CHECK(url_decode("a+b%20c%2Fd") == "a b c/d");
  CHECK(url_decode("100%") == "100%");      // an escape cut short stays as typed
  CHECK(url_decode("%zz%4") == "%zz%4");
  CHECK(url_decode("%E2%80%94") == "\u2014");
  auto f = parse_form("token=abc%2B1&format=csv&empty=&flag&format=jsonl");
  CHECK(f.at("token") == "abc+1");
  CHECK(f.at("format") == "csv");  // the first of a repeated name wins
  CHECK(f.at("empty").empty());
  CHECK(f.contains("flag"));
  CHECK(parse_form("").empty());
}

TEST_CASE("console request: the session cookie is found among others", "[console][request]") {
  CHECK(cookie_value("a=1; signoff_console=v-2; b=3", cookie_name) == "v-2");
  CHECK(cookie_value("signoff_console= v ", cookie_name) == "v");
  CHECK_FALSE(cookie_value("x_signoff_console=v; signoff_consolex=w", cookie_name));
  CHECK_FALSE(cookie_value("", cookie_name));
}

TEST_CASE("console request: routes live under the base path, mounted or stripped by a proxy", "[console][request]") {
  CHECK(base_path_of("https://signoff.example.com/console/") == "/console/");
  CHECK(base_path_of("https://signoff.example.com/console") == "/console/");
  CHECK(base_path_of("http://127.0.0.1:9471") == "/");
  std::string q;
  CHECK(route_of("/console/log?actor=bob", "/console/", q) == "log");
  CHECK(q == "actor=bob");
  CHECK(route_of("/log", "/console/", q) == "log");  // the proxy stripped the prefix
  CHECK(q.empty());
  CHECK(route_of("/console", "/console/", q).empty());
  CHECK(route_of("/draft?id=D-1", "/", q) == "draft");
  CHECK(q == "id=D-1");
}

TEST_CASE("console request: the log filters come from the form", "[console][request]") {
  auto f = filter_from(parse_form("subject=D-1&actor=bob&action=draft.approve&outcome=denied&platform=slack&"
                                  "since=7d&until=2026-12-01T00%3A00%3A00Z&before=10"));
  CHECK(f == log_filter{"D-1", "bob", "draft.approve", "7d", "2026-12-01T00:00:00Z", "denied", "slack"});
}
