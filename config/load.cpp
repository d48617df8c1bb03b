// TOML -> config structs. Checks everything that can be judged from one key
// alone (types, unknown and missing keys, formats); cross references are
// checked afterwards by detail::cross_check (validate.cpp).
//
// Array entries ([[people]], stages, levels, [[holding_statement]]) are kept
// even when malformed, so a vector index is always the 0-based index the key
// paths name. A value that is malformed is left empty, which later checks skip.
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <functional>
#include <limits>
#include <sstream>

#include "bot/core/note.hpp"
#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "config/config.hpp"
#include "config/internal.hpp"

namespace signoff::conf {
namespace {

using detail::at;
using detail::error;
using detail::warning;
using detail::join;
using detail::quote;
using diags = std::vector<diagnostic>;
// Called for each string value read, with its key path, to check its format.
using value_check = std::function<void(diags&, const std::string& key, const std::string& value)>;

constexpr long long int_max = std::numeric_limits<int>::max();
const char* const permissions[] = {"draft", "approve", "crisis", "audit", "admin"};

std::string malformed_duration(std::string_view s, time_error why = time_error::malformed) {
  if (why == time_error::out_of_range)
    return "duration " + quote(s) + " is longer than the maximum of 36500d (about 100 years)";
  return "malformed duration " + quote(s) + " (write 30s, 15m, 2h or 7d)";
}

// --- value formats -------------------------------------------------------

// Names typed as one word of a command or shown in the audit log: person
// ids, role names, class, route and channel names, statement keys, platform IDs.
void check_name(diags& d, const std::string& key, const std::string& value) {
  if (value.empty())
    error(d, key, "must not be empty");
  else if (detail::has_space_or_control(value))
    error(d, key, quote(value) + " must not contain spaces or control characters");
}

// Discord IDs are snowflakes: decimal numbers up to 2^64 (what Developer
// Mode's "Copy ID" gives). Anything else could never match an interaction.
void check_snowflake(diags& d, const std::string& key, const std::string& value) {
  check_name(d, key, value);
  if (value.empty() || detail::has_space_or_control(value)) return;
  bool digits = value.size() <= 20 && value.find_first_not_of("0123456789") == std::string::npos;
  if (digits && value.size() == 20) digits = value <= "18446744073709551615";
  if (!digits) error(d, key, quote(value) + " is not a Discord ID (a number, as \"Copy ID\" gives it)");
}

// A platform user or channel ID: Discord's are snowflakes.
void check_platform_id(diags& d, const std::string& key, const std::string& value, std::string_view platform) {
  if (platform == "discord") check_snowflake(d, key, value);
  else check_name(d, key, value);
}

// A reference to a name defined elsewhere: only emptiness is judged here, an
// unknown name is reported by cross_check (once).
void check_not_empty(diags& d, const std::string& key, const std::string& value) {
  if (value.empty()) error(d, key, "must not be empty");
}

void check_person_id(diags& d, const std::string& key, const std::string& id) {
  check_name(d, key, id);
  // Both are what the audit log's `actor` column holds for non-people.
  if (id == "system")
    error(d, key, "\"system\" is reserved for the bot's own records");
  else if (id.starts_with("unknown:"))
    error(d, key, quote(id) + " must not start with \"unknown:\" (reserved for unknown users)");
}

// Plain http is only for local testing (SPEC "Platforms").
void check_url(diags& d, const std::string& key, const std::string& url) {
  std::string_view rest = url;
  bool plain = false;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
    plain = true;
  } else {
    error(d, key, quote(url) + " must start with https://");
    return;
  }
  if (detail::has_space_or_control(url)) {
    error(d, key, quote(url) + " must not contain spaces or control characters");
    return;
  }
  std::string_view host;
  if (rest.starts_with("[")) {
    auto end = rest.find(']');
    host = end == std::string_view::npos ? std::string_view{} : rest.substr(1, end - 1);
  } else {
    host = rest.substr(0, rest.find_first_of(":/?#"));
  }
  if (host.empty())
    error(d, key, quote(url) + " has no host");
  else if (plain && host != "127.0.0.1" && host != "::1" && host != "localhost")
    error(d, key,
          quote(url) + ": plain http:// is only allowed on a loopback host "
                       "(127.0.0.1, ::1, localhost); use https://");
}

bool valid_env_name(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
  });
}

// HOST:PORT, HOST possibly a bracketed IPv6 address.
bool valid_listen(std::string_view s) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view host = s.substr(0, colon), port = s.substr(colon + 1);
  if (host.find(':') != std::string_view::npos && !(host.starts_with("[") && host.ends_with("]")))
    return false;
  if (detail::has_space_or_control(host)) return false;
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    return false;
  return std::stol(std::string(port)) <= 65535;
}

// YYYY-MM-DD naming a real day.
bool valid_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
    if (s[i] < '0' || s[i] > '9') return false;
  auto num = [&](std::size_t pos, std::size_t len) { return std::stoi(std::string(s.substr(pos, len))); };
  std::chrono::year_month_day ymd{std::chrono::year{num(0, 4)},
                                  std::chrono::month{static_cast<unsigned>(num(5, 2))},
                                  std::chrono::day{static_cast<unsigned>(num(8, 2))}};
  return ymd.ok();
}

// --- typed readers -------------------------------------------------------
// Each reports a wrong type (and, when required, absence) at the key's path
// and returns whether a usable value was read.

void check_keys(diags& d, const toml::table& t, std::string_view path,
                std::initializer_list<std::string_view> allowed) {
  for (auto&& [k, v] : t)
    if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end())
      error(d, join(path, k.str()), "unknown key");
}

bool read_string(diags& d, const toml::table& t, std::string_view path, std::string_view key,
                 std::string& out, bool required = false) {
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    if (required) error(d, join(path, key), "missing");
    return false;
  }
  const auto* s = n->as_string();
  if (s == nullptr) {
    error(d, join(path, key), "expected a string");
    return false;
  }
  if (required && s->get().empty()) {
    error(d, join(path, key), "must not be empty");
    return false;
  }
  out = s->get();
  return true;
}

template <class T>
bool read_int(diags& d, const toml::table& t, std::string_view path, std::string_view key, T& out,
              long long min, long long max) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return false;
  const auto* i = n->as_integer();
  if (i == nullptr) {
    error(d, join(path, key), "expected an integer");
    return false;
  }
  long long v = i->get();
  if (v < min || v > max) {
    error(d, join(path, key),
          v < min ? "must be at least " + std::to_string(min) + " (got " + std::to_string(v) + ")"
                  : "must be at most " + std::to_string(max) + " (got " + std::to_string(v) + ")");
    return false;
  }
  out = static_cast<T>(v);
  return true;
}

// One output entry per array element ("" for a non-string), so indexes match.
bool read_string_array(diags& d, const toml::table& t, std::string_view path, std::string_view key,
                       std::vector<std::string>& out, bool required, const value_check& check = {}) {
  std::string key_path = join(path, key);
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    if (required) error(d, key_path, "missing");
    return false;
  }
  const auto* a = n->as_array();
  if (a == nullptr) {
    error(d, key_path, "expected an array of strings");
    return false;
  }
  if (required && a->empty()) error(d, key_path, "must not be empty");
  out.clear();
  for (std::size_t i = 0; i < a->size(); ++i) {
    const auto* s = (*a)[i].as_string();
    out.emplace_back(s ? s->get() : std::string{});
    if (s == nullptr)
      error(d, at(key_path, i), "expected a string");
    else if (check)
      check(d, at(key_path, i), out.back());
  }
  return true;
}

const toml::table* read_table(diags& d, const toml::table& t, std::string_view path,
                              std::string_view key, bool required = false) {
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    if (required) error(d, join(path, key), "missing");
    return nullptr;
  }
  if (const auto* tt = n->as_table()) return tt;
  error(d, join(path, key), "expected a table");
  return nullptr;
}

// [[name]] or `name = [{...}, ...]`; elements are checked by the caller.
const toml::array* read_table_array(diags& d, const toml::table& t, std::string_view path,
                                    std::string_view key, bool required) {
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    if (required) error(d, join(path, key), "missing");
    return nullptr;
  }
  const auto* a = n->as_array();
  if (a == nullptr) {
    error(d, join(path, key), "expected an array of tables");
    return nullptr;
  }
  if (required && a->empty()) error(d, join(path, key), "must not be empty");
  return a;
}

// toml++ tables are sorted by key; their source positions give file order
// back, which approval classes, routes and channels keep.
std::vector<std::pair<std::string, const toml::node*>> in_file_order(const toml::table& t) {
  std::vector<std::pair<std::string, const toml::node*>> out;
  for (auto&& [k, v] : t) out.emplace_back(std::string(k.str()), &v);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    const auto& x = a.second->source().begin;
    const auto& y = b.second->source().begin;
    return x.line != y.line ? x.line < y.line : x.column < y.column;
  });
  return out;
}

// --- sections ------------------------------------------------------------

void load_storage(diags& d, const toml::table& root, storage_section& s) {
  const toml::table* t = read_table(d, root, "", "storage", true);
  if (t == nullptr) return;
  check_keys(d, *t, "storage", {"path", "busy_timeout"});
  read_string(d, *t, "storage", "path", s.path, true);
  std::string timeout;
  if (read_string(d, *t, "storage", "busy_timeout", timeout)) {
    time_error why{};
    auto ms = parse_duration(timeout, true, &why);
    if (!ms && why == time_error::out_of_range)
      error(d, "storage.busy_timeout", malformed_duration(timeout, why));
    else if (!ms)
      error(d, "storage.busy_timeout", "malformed duration " + quote(timeout) + " (write 250ms, 5s, 1m)");
    else if (ms->count() > int_max)  // SQLite takes an int of milliseconds
      error(d, "storage.busy_timeout", quote(timeout) + " is too long");
    else
      s.busy_timeout = *ms;
  }
}

void load_people(diags& d, const toml::table& root, std::vector<person>& people) {
  const toml::array* a = read_table_array(d, root, "", "people", true);
  if (a == nullptr) return;
  for (std::size_t i = 0; i < a->size(); ++i) {
    std::string path = at("people", i);
    person& p = people.emplace_back();
    const auto* t = (*a)[i].as_table();
    if (t == nullptr) {
      error(d, path, "expected a table");
      continue;
    }
    check_keys(d, *t, path, {"id", "name", "roles", "slack", "discord", "mattermost"});
    if (read_string(d, *t, path, "id", p.id, true)) check_person_id(d, join(path, "id"), p.id);
    read_string(d, *t, path, "name", p.name);
    if (p.name.empty()) p.name = p.id;
    read_string_array(d, *t, path, "roles", p.roles, false, check_name);
    for (auto [key, out] : {std::pair{"slack", &p.slack}, std::pair{"discord", &p.discord},
                            std::pair{"mattermost", &p.mattermost}})
      if (read_string(d, *t, path, key, *out)) check_platform_id(d, join(path, key), *out, key);
  }
}

void load_roles(diags& d, const toml::table& root, std::map<std::string, std::vector<std::string>>& roles) {
  // Every permission is present, so users of the map never meet a missing key.
  for (const char* perm : permissions) roles[perm];
  const toml::table* t = read_table(d, root, "", "roles");
  if (t == nullptr) return;
  check_keys(d, *t, "roles", {"draft", "approve", "crisis", "audit", "admin"});
  for (const char* perm : permissions) read_string_array(d, *t, "roles", perm, roles[perm], false, check_name);
}

void load_stage(diags& d, const toml::node& n, const std::string& path, stage& s) {
  const auto* t = n.as_table();
  if (t == nullptr) {
    error(d, path, "expected a table like { name = \"comms\", roles = [\"approver\"] }");
    return;
  }
  check_keys(d, *t, path, {"name", "roles", "count"});
  read_string(d, *t, path, "name", s.name, true);
  read_string_array(d, *t, path, "roles", s.roles, true, check_name);
  read_int(d, *t, path, "count", s.count, 1, int_max);
}

// An optional duration key (`after`, `remind_after`): SPEC's form, at most
// the maximum duration; a malformed one is an error at its key path.
void read_after(diags& d, const toml::table& t, const std::string& path, const char* name,
                std::optional<std::chrono::seconds>& out) {
  std::string text;
  if (!t.contains(name) || !read_string(d, t, path, name, text)) return;
  time_error why{};
  if (auto ms = parse_duration(text, false, &why))
    out = std::chrono::duration_cast<std::chrono::seconds>(*ms);
  else
    error(d, join(path, name), malformed_duration(text, why));
}

void load_approval(diags& d, const toml::table& root, std::vector<approval_class>& classes) {
  const toml::table* t = read_table(d, root, "", "approval");
  if (t == nullptr) return;
  for (const auto& [name, node] : in_file_order(*t)) {
    std::string path = join("approval", name);
    const auto* ct = node->as_table();
    if (ct == nullptr) {
      error(d, path, "expected a table ([approval." + detail::key_part(name) + "])");
      continue;
    }
    check_name(d, path, name);
    approval_class& c = classes.emplace_back();
    c.name = name;
    check_keys(d, *ct, path, {"channel", "stages", "remind_after"});
    if (read_string(d, *ct, path, "channel", c.channel)) check_not_empty(d, join(path, "channel"), c.channel);
    read_after(d, *ct, path, "remind_after", c.remind_after);
    if (const toml::array* a = read_table_array(d, *ct, path, "stages", true)) {
      for (std::size_t i = 0; i < a->size(); ++i)
        load_stage(d, (*a)[i], at(join(path, "stages"), i), c.stages.emplace_back());
    }
  }
}

void load_level(diags& d, const toml::node& n, const std::string& path, bool last, level& l) {
  const auto* t = n.as_table();
  if (t == nullptr) {
    error(d, path, "expected a table like { notify = [\"bob\"], after = \"15m\" }");
    return;
  }
  check_keys(d, *t, path, {"notify", "after"});
  read_string_array(d, *t, path, "notify", l.notify, true, check_not_empty);
  std::string key = join(path, "after");
  if (last) {
    if (t->contains("after")) error(d, key, "the last level has no after (there is no level to move to)");
    return;
  }
  if (!t->contains("after")) error(d, key, "missing (every level but the last needs one)");
  else read_after(d, *t, path, "after", l.after);
}

void load_escalation(diags& d, const toml::table& root, std::vector<route>& routes) {
  const toml::table* t = read_table(d, root, "", "escalation");
  if (t == nullptr) return;
  for (const auto& [name, node] : in_file_order(*t)) {
    std::string path = join("escalation", name);
    const auto* rt = node->as_table();
    if (rt == nullptr) {
      error(d, path, "expected a table ([escalation." + detail::key_part(name) + "])");
      continue;
    }
    check_name(d, path, name);
    route& r = routes.emplace_back();
    r.name = name;
    check_keys(d, *rt, path, {"channel", "levels"});
    read_string(d, *rt, path, "channel", r.channel, true);
    if (const toml::array* a = read_table_array(d, *rt, path, "levels", true)) {
      for (std::size_t i = 0; i < a->size(); ++i)
        load_level(d, (*a)[i], at(join(path, "levels"), i), i + 1 == a->size(), r.levels.emplace_back());
    }
  }
}

void load_channels(diags& d, const toml::table& root, std::vector<channel>& channels) {
  const toml::table* t = read_table(d, root, "", "channels");
  if (t == nullptr) return;
  for (const auto& [name, node] : in_file_order(*t)) {
    std::string path = join("channels", name);
    check_name(d, path, name);
    // Kept even when malformed: references to it are then not reported again.
    channel& c = channels.emplace_back();
    c.name = name;
    const auto* ct = node->as_table();
    if (ct == nullptr) {
      error(d, path, "expected a table like { slack = \"C0123\" }");
      continue;
    }
    check_keys(d, *ct, path, {"slack", "discord", "mattermost"});
    for (auto [key, out] : {std::pair{"slack", &c.slack}, std::pair{"discord", &c.discord},
                            std::pair{"mattermost", &c.mattermost}})
      if (read_string(d, *ct, path, key, *out)) check_platform_id(d, join(path, key), *out, key);
  }
}

void load_statement(diags& d, const toml::node& n, const std::string& path, holding_statement& s) {
  const auto* t = n.as_table();
  if (t == nullptr) {
    error(d, path, "expected a table");
    return;
  }
  check_keys(d, *t, path,
             {"key", "title", "severity", "channel", "version", "approved_by", "approved_on", "text"});
  if (read_string(d, *t, path, "key", s.key, true)) check_name(d, join(path, "key"), s.key);
  read_string(d, *t, path, "title", s.title, true);
  if (read_string(d, *t, path, "severity", s.severity, true) && s.severity != "sev1" &&
      s.severity != "sev2" && s.severity != "sev3") {
    error(d, join(path, "severity"), quote(s.severity) + " is not sev1, sev2 or sev3");
    s.severity.clear();
  }
  read_string(d, *t, path, "channel", s.channel, true);
  read_int(d, *t, path, "version", s.version, 1, int_max);
  read_string_array(d, *t, path, "approved_by", s.approved_by, false);
  // A TOML date (approved_on = 2026-10-01) or the same as a string.
  if (const toml::node* on = t->get("approved_on")) {
    if (const auto* date = on->as_date()) {
      std::ostringstream os;
      os << date->get();
      s.approved_on = os.str();
    } else if (const auto* str = on->as_string(); str && valid_date(str->get())) {
      s.approved_on = str->get();
    } else {
      error(d, join(path, "approved_on"),
            (str ? quote(str->get()) + " is not " : std::string("expected ")) + "a date like 2026-10-01");
    }
  }
  if (read_string(d, *t, path, "text", s.text, true)) {
    template_parse tp = parse_template(s.text);
    if (tp.error.empty())
      s.placeholders = std::move(tp.placeholders);
    else
      error(d, join(path, "text"), tp.error);
  }
}

void load_statements(diags& d, const toml::table& root, std::vector<holding_statement>& statements) {
  const toml::array* a = read_table_array(d, root, "", "holding_statement", false);
  if (a == nullptr) return;
  for (std::size_t i = 0; i < a->size(); ++i)
    load_statement(d, (*a)[i], at("holding_statement", i), statements.emplace_back());
}

// --- platform sections and secrets ---------------------------------------

// Exactly one of BASE_file / BASE_env. A literal secret (`literals`, e.g.
// `token`) gets its own error, never its value, and then no "missing" too.
void read_secret(diags& d, const toml::table& t, std::string_view section, std::string_view base,
                 secret_ref& out, std::initializer_list<std::string_view> literals) {
  std::string file_key = std::string(base) + "_file", env_key = std::string(base) + "_env";
  bool literal = false;
  for (std::string_view key : literals) {
    if (!t.contains(key)) continue;
    literal = true;
    error(d, join(section, key),
          "secrets never live in the config file: use " + file_key + " or " + env_key);
  }
  bool has_file = t.contains(file_key), has_env = t.contains(env_key);
  if (!has_file && !has_env) {
    if (!literal) error(d, join(section, file_key), "missing (or " + env_key + ")");
    return;
  }
  if (has_file && has_env) {
    error(d, join(section, file_key), "give " + file_key + " or " + env_key + ", not both");
    return;
  }
  if (has_file) {
    read_string(d, t, section, file_key, out.file, true);
  } else if (read_string(d, t, section, env_key, out.env) && !valid_env_name(out.env)) {
    error(d, join(section, env_key), quote(out.env) + " is not a valid environment variable name");
    out.env.clear();
  }
}

void read_url(diags& d, const toml::table& t, std::string_view section, std::string_view key,
              std::string& out, bool required) {
  if (read_string(d, t, section, key, out, required)) check_url(d, join(section, key), out);
}

void load_slack(diags& d, const toml::table& root, std::optional<slack_section>& out) {
  const toml::table* t = read_table(d, root, "", "slack");
  if (t == nullptr) return;
  slack_section& s = out.emplace();
  check_keys(d, *t, "slack",
             {"app_token_file", "app_token_env", "bot_token_file", "bot_token_env", "api_base", "ca_file",
              "token", "app_token", "bot_token"});
  read_secret(d, *t, "slack", "app_token", s.app_token, {"app_token"});
  read_secret(d, *t, "slack", "bot_token", s.bot_token, {"bot_token", "token"});
  read_url(d, *t, "slack", "api_base", s.api_base, false);
  read_string(d, *t, "slack", "ca_file", s.ca_file);
}

void load_discord(diags& d, const toml::table& root, std::optional<discord_section>& out) {
  const toml::table* t = read_table(d, root, "", "discord");
  if (t == nullptr) return;
  discord_section& s = out.emplace();
  check_keys(d, *t, "discord",
             {"token_file", "token_env", "application_id", "guild_id", "api_base", "ca_file", "token",
              "app_token", "bot_token"});
  read_secret(d, *t, "discord", "token", s.token, {"token", "app_token", "bot_token"});
  if (read_string(d, *t, "discord", "application_id", s.application_id, true))
    check_snowflake(d, "discord.application_id", s.application_id);
  if (read_string(d, *t, "discord", "guild_id", s.guild_id)) check_snowflake(d, "discord.guild_id", s.guild_id);
  read_url(d, *t, "discord", "api_base", s.api_base, false);
  read_string(d, *t, "discord", "ca_file", s.ca_file);
}

void load_mattermost(diags& d, const toml::table& root, std::optional<mattermost_section>& out) {
  const toml::table* t = read_table(d, root, "", "mattermost");
  if (t == nullptr) return;
  mattermost_section& s = out.emplace();
  check_keys(d, *t, "mattermost",
             {"url", "token_file", "token_env", "trigger", "ca_file", "actions_url", "actions_secret_file", "token",
              "app_token", "bot_token", "actions_secret"});
  read_url(d, *t, "mattermost", "url", s.url, true);
  read_secret(d, *t, "mattermost", "token", s.token, {"token", "app_token", "bot_token"});
  // The trigger is the first word of a message, so it cannot hold a space.
  if (read_string(d, *t, "mattermost", "trigger", s.trigger)) check_name(d, "mattermost.trigger", s.trigger);
  read_string(d, *t, "mattermost", "ca_file", s.ca_file);
  // Clicks carry the buttons' HMAC tag to this URL: https, or http on
  // loopback (a reverse proxy on the same host), never in the clear.
  read_url(d, *t, "mattermost", "actions_url", s.actions_url, false);
  if (t->contains("actions_secret"))
    error(d, "mattermost.actions_secret", "secrets never live in the config file: use actions_secret_file");
  read_string(d, *t, "mattermost", "actions_secret_file", s.actions_secret_file);
  if (!s.actions_url.empty() && s.actions_secret_file.empty() && !t->contains("actions_secret"))
    error(d, "mattermost.actions_secret_file", "missing: actions_url needs the secret that signs the buttons");
  if (s.actions_url.empty() && !s.actions_secret_file.empty())
    error(d, "mattermost.actions_url", "missing: actions_secret_file is only used with actions_url");
  if (!s.actions_url.empty() && s.actions_url.find("/mattermost/actions") == std::string::npos)
    warning(d, "mattermost.actions_url",
            quote(s.actions_url) + " does not end in /mattermost/actions, the path signoff serves on [http] listen "
                                   "(fine if a reverse proxy rewrites it)");
}

void load_audit(diags& d, const toml::table& root, std::optional<audit_section>& out) {
  const toml::table* t = read_table(d, root, "", "audit");
  if (t == nullptr) return;
  audit_section& s = out.emplace();
  check_keys(d, *t, "audit",
             {"signing_key_file", "signing_key_env", "origin", "checkpoint_every", "checkpoint_interval",
              "channel", "signing_key"});
  read_secret(d, *t, "audit", "signing_key", s.signing_key, {"signing_key"});
  // The origin is the note's key name: a space or '+' would make the
  // verifier key ("<origin>+<key ID>+<key>") ambiguous.
  if (read_string(d, *t, "audit", "origin", s.origin, true))
    if (auto why = note::origin_problem(s.origin); !why.empty())
      error(d, "audit.origin", quote(s.origin) + " " + why);
  read_int(d, *t, "audit", "checkpoint_every", s.checkpoint_every, 1, 1'000'000'000);
  std::optional<std::chrono::seconds> interval;
  read_after(d, *t, "audit", "checkpoint_interval", interval);
  if (interval) {
    if (interval->count() < 1)
      error(d, "audit.checkpoint_interval", "must be at least 1s");
    else
      s.checkpoint_interval = *interval;
  }
  if (t->contains("channel")) read_string(d, *t, "audit", "channel", s.channel, true);
}

bool loopback_listen(std::string_view listen) {
  const auto host = listen.substr(0, listen.rfind(':'));
  return host == "127.0.0.1" || host == "[::1]" || host == "localhost" || host.starts_with("127.");
}

void load_console(diags& d, const toml::table& root, std::optional<console_section>& out) {
  const toml::table* t = read_table(d, root, "", "console");
  if (t == nullptr) return;
  console_section& s = out.emplace();
  check_keys(d, *t, "console", {"listen", "base_url", "cert_file", "key_file"});
  if (read_string(d, *t, "console", "listen", s.listen, true) && !valid_listen(s.listen))
    error(d, "console.listen", quote(s.listen) + " is not HOST:PORT (e.g. 127.0.0.1:9471)");
  // Login links go out in chat: https, or http on loopback (a reverse proxy
  // on the same host terminates TLS).
  read_url(d, *t, "console", "base_url", s.base_url, true);
  if (!s.base_url.empty() && !s.base_url.ends_with('/')) s.base_url += '/';
  read_string(d, *t, "console", "cert_file", s.cert_file);
  read_string(d, *t, "console", "key_file", s.key_file);
  if (s.cert_file.empty() != s.key_file.empty())
    error(d, s.cert_file.empty() ? "console.cert_file" : "console.key_file",
          "missing: TLS needs both cert_file and key_file");
  if (!s.listen.empty() && valid_listen(s.listen) && !loopback_listen(s.listen) && s.cert_file.empty())
    error(d, "console.cert_file",
          "missing: the console listens on " + quote(s.listen) +
              ", not a loopback address, so it needs TLS (cert_file and key_file)");
}

void load_http(diags& d, const toml::table& root, std::string& listen) {
  const toml::table* t = read_table(d, root, "", "http");
  if (t == nullptr) return;
  check_keys(d, *t, "http", {"listen"});
  if (read_string(d, *t, "http", "listen", listen) && !valid_listen(listen))
    error(d, "http.listen", quote(listen) + " is not HOST:PORT (e.g. 127.0.0.1:9470)");
}

void load_limits(diags& d, const toml::table& root, limits_section& l) {
  const toml::table* t = read_table(d, root, "", "limits");
  if (t == nullptr) return;
  check_keys(d, *t, "limits", {"commands_per_person", "max_text"});
  std::string rate;
  if (read_string(d, *t, "limits", "commands_per_person", rate) && !parse_rate(rate, l.commands_per_person))
    error(d, "limits.commands_per_person",
          "malformed rate " + quote(rate) +
              " (write COUNT/DURATION like \"60/1m\", DURATION at most 36500d, or \"off\")");
  read_int(d, *t, "limits", "max_text", l.max_text, 1, int_max);
}

}  // namespace

load_result load_string(std::string_view toml_text, std::string_view source_name) {
  load_result r;
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    r.diagnostics.push_back({std::string(source_name) + ":" + std::to_string(begin.line) + ":" +
                                 std::to_string(begin.column),
                             std::string(e.description()), false});
    return r;
  }

  config c;
  c.sha256 = sha256_hex(toml_text);
  diags& d = r.diagnostics;
  check_keys(d, root, "",
             {"storage", "people", "roles", "approval", "escalation", "channels", "holding_statement", "slack",
              "discord", "mattermost", "audit", "console", "http", "limits"});
  load_storage(d, root, c.storage);
  load_people(d, root, c.people);
  load_roles(d, root, c.roles);
  load_approval(d, root, c.approval);
  load_escalation(d, root, c.escalation);
  load_channels(d, root, c.channels);
  load_statements(d, root, c.statements);
  load_slack(d, root, c.slack);
  load_discord(d, root, c.discord);
  load_mattermost(d, root, c.mattermost);
  load_audit(d, root, c.audit);
  load_console(d, root, c.console);
  load_http(d, root, c.http_listen);
  load_limits(d, root, c.limits);
  detail::cross_check(c, d);

  if (std::none_of(d.begin(), d.end(), [](const diagnostic& x) { return !x.warning; }))
    r.cfg = std::move(c);
  return r;
}

load_result load_file(const std::string& path) {
  // stdio rather than iostreams: a read error (EISDIR, EIO) must be seen, not
  // turned into an empty config.
  std::string bytes;
  int err = 0;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    err = errno != 0 ? errno : EIO;
  } else {
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.append(buf, n);
    if (std::ferror(f)) err = errno != 0 ? errno : EIO;
    std::fclose(f);
  }
  if (err != 0) {
    load_result r;
    r.diagnostics.push_back({path, std::string("cannot read the file: ") + std::strerror(err), false});
    return r;
  }
  return load_string(bytes, path);
}

}  // namespace signoff::conf
