#pragma once
// Reading the audit console's requests (SPEC "Audit console"): the route
// under the base path, query strings and form bodies, the session cookie.
// Pure: no sockets, tested on its own.
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "bot/console/model.hpp"

namespace signoff::console {

// The session cookie's name.
inline constexpr std::string_view cookie_name = "signoff_console";

// Percent-decoding of one query or form value ('+' is a space). Invalid
// escapes are kept as typed; bytes that are not UTF-8 stay as they are (the
// renderer escapes what it shows).
std::string url_decode(std::string_view s);

// "a=1&b=x+y" -> {a: "1", b: "x y"}; the first of a repeated name wins.
std::map<std::string, std::string, std::less<>> parse_form(std::string_view s);

// The value of cookie `name` in a Cookie header ("a=1; signoff_console=v").
std::optional<std::string> cookie_value(std::string_view header, std::string_view name);

// The path under the console's base path: `target` "/console/log?x=1" with
// base path "/console/" is "log" (a proxy that strips the prefix sends
// "/log": also "log"); `query` gets what follows '?'. "" is the start page.
std::string route_of(std::string_view target, std::string_view base_path, std::string& query);

// The path part of base_url ("https://h/console/" -> "/console/"; always
// starts and ends with '/').
std::string base_path_of(std::string_view base_url);

// The log filters from a query string or form.
log_filter filter_from(const std::map<std::string, std::string, std::less<>>& q);

}  // namespace signoff::console
