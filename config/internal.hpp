#pragma once
// Helpers shared by the config/*.cpp files only; not part of the module's API.
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace signoff::conf::detail {

// `"value"` with quotes, backslashes and control characters escaped, so a
// diagnostic shows exactly what was written and never breaks a terminal line.
std::string quote(std::string_view s);

// A TOML key as it appears in a key path: bare when it may be written bare
// (`regulated`), quoted otherwise (`"a b"`).
std::string key_part(std::string_view key);

// Key path pieces: `path.key` (just `key` at the top) and `path[i]`.
std::string join(std::string_view path, std::string_view key);
std::string at(std::string_view path, std::size_t i);

// True when `s` holds a space, another Unicode white space or a control
// character: such names cannot be typed as one word of a command.
bool has_space_or_control(std::string_view s) noexcept;

// A diagnostic naming `key`: an error (the config is refused) or a warning.
inline void error(std::vector<diagnostic>& d, std::string key, std::string message) {
  d.push_back({std::move(key), std::move(message), false});
}
inline void warning(std::vector<diagnostic>& d, std::string key, std::string message) {
  d.push_back({std::move(key), std::move(message), true});
}

// Checks everything that needs more than one key in view (references between
// sections, duplicates, roles nobody holds or uses) and appends diagnostics.
// Entries already reported as malformed are left empty by the loader and
// skipped here, so one mistake is reported once.
void cross_check(const config& c, std::vector<diagnostic>& out);

}  // namespace signoff::conf::detail
