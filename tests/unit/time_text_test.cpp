// Times and durations stay in SPEC's range and round-trip; display helpers
// keep user text from rewriting what a reader sees (SPEC "Commands").
#include <catch2/catch.hpp>

#include <random>

#include "bot/core/text.hpp"
#include "bot/core/time.hpp"

using namespace signoff;
using namespace std::chrono_literals;

TEST_CASE("the representable range is 1970-01-01 to 9999-12-31 and both ends round-trip", "[time]") {
  CHECK(format_rfc3339_ms(min_time) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339_ms(max_time) == "9999-12-31T23:59:59.999Z");
  CHECK(parse_rfc3339(format_rfc3339_ms(min_time)) == min_time);
  CHECK(parse_rfc3339(format_rfc3339_ms(max_time)) == max_time);
  // format refuses to write what parse could not read back.
  CHECK_THROWS_AS(format_rfc3339_ms(max_time + 1ms), std::out_of_range);
  CHECK_THROWS_AS(format_rfc3339_ms(min_time - 1ms), std::out_of_range);
}

TEST_CASE("format then parse is the identity over the whole range", "[time]") {
  std::mt19937_64 rng(20261201);
  std::uniform_int_distribution<std::int64_t> ms(min_time.time_since_epoch().count(),
                                                 max_time.time_since_epoch().count());
  for (int i = 0; i < 20000; ++i) {
    const time_point t{std::chrono::milliseconds{ms(rng)}};
    const auto s = format_rfc3339_ms(t);
    INFO(s);
    REQUIRE(s.size() == 24);
    REQUIRE(parse_rfc3339(s) == t);
  }
}

TEST_CASE("times outside the range are refused as out of range, not as malformed", "[time]") {
  time_error why{};
  // The reproduction: 23:59:59 at -23:59 is 10000-01-01T23:58:59Z.
  CHECK_FALSE(parse_rfc3339("9999-12-31T23:59:59-23:59", &why));
  CHECK(why == time_error::out_of_range);
  CHECK_FALSE(parse_rfc3339("1969-12-31T23:59:59Z", &why));
  CHECK(why == time_error::out_of_range);
  CHECK_FALSE(parse_rfc3339("1970-01-01T00:30:00+01:00", &why));
  CHECK(why == time_error::out_of_range);
  CHECK(parse_rfc3339("9999-12-31T23:59:59+00:00") == max_time - 999ms);
  CHECK_FALSE(parse_rfc3339("2026-13-01T00:00:00Z", &why));
  CHECK(why == time_error::malformed);
  CHECK(describe_time_error(time_error::out_of_range).find("9999-12-31") != std::string::npos);
}

TEST_CASE("durations are at most 36500d, also in ms, s, m and h", "[time]") {
  time_error why{};
  CHECK(parse_duration("36500d") == std::chrono::milliseconds(std::chrono::days(36500)));
  CHECK_FALSE(parse_duration("36501d", false, &why));
  CHECK(why == time_error::out_of_range);
  CHECK_FALSE(parse_duration("3000000d", false, &why));  // the issue's `after`
  CHECK(why == time_error::out_of_range);
  CHECK_FALSE(parse_duration("876001h", false, &why));
  CHECK(why == time_error::out_of_range);
  CHECK(parse_duration("876000h"));
  CHECK_FALSE(parse_duration("99999999999999999999999s", false, &why));  // no overflow
  CHECK(why == time_error::out_of_range);
  CHECK(parse_duration("015m") == 15min);
  CHECK_FALSE(parse_duration("0s", false, &why));
  CHECK(why == time_error::malformed);
  CHECK_FALSE(parse_duration("5ms", false, &why));
  CHECK(parse_duration("5ms", true) == 5ms);
}

TEST_CASE("a duration back from now must land after 1970", "[time]") {
  const time_point now = *parse_rfc3339("2026-12-01T00:00:00Z");
  time_error why{};
  CHECK(parse_time_or_ago("7d", now) == now - std::chrono::days(7));
  CHECK_FALSE(parse_time_or_ago("36500d", now, &why));  // 1926
  CHECK(why == time_error::out_of_range);
  CHECK_FALSE(parse_time_or_ago("99999999d", now, &why));
  CHECK(why == time_error::out_of_range);
  CHECK_FALSE(parse_time_or_ago("10000-01-01T00:00:00Z", now, &why));
  CHECK(why == time_error::malformed);  // five-digit years are not RFC 3339
  CHECK(checked_add(max_time, 1ms) == std::nullopt);
  CHECK(checked_add(now, 1h) == now + 1h);
}

TEST_CASE("display_text keeps line breaks but neutralises what rewrites a terminal line", "[text]") {
  CHECK(display_text("a\r#4 forged") == "a?#4 forged");
  CHECK(display_text("line 1\r\nline 2\nline 3") == "line 1\nline 2\nline 3");
  CHECK(display_text("esc \x1b[2J bell \x07 del \x7f") == "esc ?[2J bell ? del ?");
  CHECK(display_text("tab\tok") == "tab\tok");
  CHECK(display_text("c1 \xc2\x9b x") == "c1 ? x");                  // U+009B CSI
  CHECK(display_text("bidi \xe2\x80\xae txt") == "bidi ? txt");      // U+202E
  CHECK(display_text("isolate \xe2\x81\xa6 x") == "isolate ? x");    // U+2066
  CHECK(display_text("caf\xe9") == "caf\xef\xbf\xbd");               // invalid -> U+FFFD
  CHECK(display_text("caf\xc3\xa9 \xe2\x80\x9cok\xe2\x80\x9d") == "caf\xc3\xa9 \xe2\x80\x9cok\xe2\x80\x9d");
}

TEST_CASE("display_line keeps a field on one line", "[text]") {
  CHECK(display_line("why\n#4 2026 bob draft.approve D-1 r1 ok") ==
        "why \xe2\x8f\x8e #4 2026 bob draft.approve D-1 r1 ok");
  CHECK(display_line("a\r\nb") == "a \xe2\x8f\x8e b");
  CHECK(display_line("a\xe2\x80\xa8" "b") == "a \xe2\x8f\x8e b");  // U+2028 too
  CHECK(display_line("a\nb", " ") == "a b");
  CHECK(display_line("a\tb") == "a b");
}

TEST_CASE("quote_arg shows invisible characters and never echoes a long argument in full", "[text]") {
  CHECK(quote_arg("D-3\xe2\x80\x8b") == "'D-3<U+200B>'");
  CHECK(quote_arg("a\x01z") == "'a<U+0001>z'");
  CHECK(quote_arg("caf\xe9") == "'caf<0xE9>'");
  const std::string big(100000, 'x');
  const auto q = quote_arg(big, 20);
  CHECK(q.size() < 60);
  CHECK(q.find("(100000 characters)") != std::string::npos);
  CHECK(has_invisible("D-3\xe2\x80\x8b"));
  CHECK(has_invisible("a\xc2\xad" "b"));  // soft hyphen
  CHECK_FALSE(has_invisible("r\xc3\xa9sum\xc3\xa9 data-breach"));
}
