#pragma once
// signoff.toml -> plain structs, plus validation that names every problem
// with its key path (SPEC "Configuration"). Pure: no I/O but reading the file.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/core/enums.hpp"

namespace signoff::conf {

namespace detail {
// The member of `ids` (a person's or a channel's `slack`, `discord`,
// `mattermost`) holding its ID on `on`; nullptr for a platform the config
// has no IDs for.
template <class T>
auto id_field(T& ids, platform on) -> decltype(&ids.slack) {
  switch (on) {
    case platform::slack: return &ids.slack;
    case platform::discord: return &ids.discord;
    case platform::mattermost: return &ids.mattermost;
    case platform::shell: case platform::console: case platform::system: return nullptr;
  }
  return nullptr;
}
}  // namespace detail

struct person {
  std::string id;
  std::string name;  // display name; defaults to id
  std::vector<std::string> roles;
  std::string slack, discord, mattermost;  // platform user IDs, '' when absent
  // The user ID on `on` (slack, discord, mattermost), '' when none;
  // nullptr for a platform that has no IDs (the shell).
  const std::string* id_on(platform on) const { return detail::id_field(*this, on); }
};

struct stage {
  std::string name;
  std::vector<std::string> roles;  // any one of these roles may approve (OR)
  int count = 1;                   // distinct approvers needed
};

struct approval_class {
  std::string name;                  // the key in [approval.NAME]
  std::string channel = "approvals"; // channel name from [channels]
  std::vector<stage> stages;         // in config order; all must be met (AND)
  // SPEC "Reminders": a pending draft's revision waiting this long is
  // reminded, and again every remind_after; absent: never.
  std::optional<std::chrono::seconds> remind_after;
};

struct level {
  std::vector<std::string> notify;            // person ids
  std::optional<std::chrono::seconds> after;  // absent on the last level
};

struct route {
  std::string name;  // the key in [escalation.NAME]
  std::string channel;
  std::vector<level> levels;
};

struct channel {
  std::string name;  // the key in [channels]
  std::string slack, discord, mattermost;  // platform channel IDs, '' when absent
  // As person::id_on.
  const std::string* id_on(platform on) const { return detail::id_field(*this, on); }
};

struct holding_statement {
  std::string key, title, severity, channel;
  int version = 1;
  std::vector<std::string> approved_by;
  std::string approved_on;
  std::string text;
  std::vector<std::string> placeholders;  // distinct, in order of first use
};

// A secret is read from a file (`*_file`) or an environment variable (`*_env`).
struct secret_ref {
  std::string file;
  std::string env;
};

struct slack_section {
  secret_ref app_token, bot_token;
  std::string api_base = "https://slack.com/api/";
  std::string ca_file;
};

struct discord_section {
  secret_ref token;
  std::string application_id, guild_id;
  std::string api_base = "https://discord.com/api/v10/";
  std::string ca_file;
};

struct mattermost_section {
  std::string url;
  secret_ref token;
  std::string trigger = "!signoff";
  std::string ca_file;
  // Buttons (SPEC "Mattermost specifics"): the public URL at which the
  // Mattermost server reaches POST /mattermost/actions on [http] listen, and
  // the file holding the HMAC key of the buttons' context. Both or neither.
  std::string actions_url;
  std::string actions_secret_file;
};

// [audit] (SPEC "Signed checkpoints"): with a signing key, `run` and the
// shell sign a checkpoint of the audit log's Merkle tree every
// `checkpoint_every` records or `checkpoint_interval`, whichever comes
// first (when there are new records), and at a clean shutdown.
struct audit_section {
  secret_ref signing_key;   // signing_key_file / signing_key_env: Ed25519, PKCS#8 PEM
  std::string origin;       // the log's name in its checkpoints (the note key name)
  std::int64_t checkpoint_every = 1000;
  std::chrono::seconds checkpoint_interval{3600};
  std::string channel = "audit";  // a name from [channels]
};

// [console] (SPEC "Audit console"): the read-only web view `run` serves.
struct console_section {
  std::string listen;     // host:port
  std::string base_url;   // what login links point at; ends in '/'
  std::string cert_file, key_file;  // TLS: both or neither; required off loopback
};

struct rate_limit {
  int count = 60;
  std::chrono::seconds window{60};
};

struct limits_section {
  std::optional<rate_limit> commands_per_person = rate_limit{};  // nullopt when "off"
  std::size_t max_text = 4000;  // Unicode code points
};

struct storage_section {
  std::string path;
  std::chrono::milliseconds busy_timeout{5000};  // extra key `busy_timeout`, e.g. "5s", "250ms"
};

struct config {
  storage_section storage;
  std::vector<person> people;  // in file order (the shell's default actor is people[0])
  // permission name (draft, approve, crisis, audit, admin) -> roles granting it
  std::map<std::string, std::vector<std::string>> roles;
  std::vector<approval_class> approval;
  std::vector<route> escalation;
  std::vector<channel> channels;
  std::vector<holding_statement> statements;
  std::optional<slack_section> slack;
  std::optional<discord_section> discord;
  std::optional<mattermost_section> mattermost;
  std::optional<audit_section> audit;  // absent: no checkpoints
  std::optional<console_section> console;  // absent: no audit console
  std::string http_listen = "127.0.0.1:9470";
  limits_section limits;
  std::string sha256;  // SHA-256 hex of the file's bytes (audit `config_sha256`)

  const person* find_person(std::string_view id) const;
  // The person whose ID on `on` is `user_id`; nullptr for none, and always
  // for a platform without IDs in the config (the shell).
  const person* find_by_platform(platform on, std::string_view user_id) const;
  const approval_class* find_class(std::string_view name) const;
  const route* find_route(std::string_view name) const;
  const channel* find_channel(std::string_view name) const;
  const holding_statement* find_statement(std::string_view key) const;
  // True when one of p's roles is listed under [roles] `permission`.
  bool has_permission(const person& p, std::string_view permission) const;
};

struct diagnostic {
  std::string key;      // key path, e.g. `people[2].roles[0]`, `approval.regulated.stages[1].roles[0]`
  std::string message;  // what is wrong, e.g. `role "aprover" is held by no person`
  bool warning = false; // warnings do not make a config invalid
};

// "<key>: <message>", prefixed "warning: " for warnings.
std::string format(const diagnostic& d);

struct load_result {
  std::optional<config> cfg;  // set only when there are no errors (warnings allowed)
  std::vector<diagnostic> diagnostics;
  bool ok() const { return cfg.has_value(); }
};

// Parses and validates. A TOML syntax error is one diagnostic whose key is
// "<source>:<line>:<column>". Never throws on bad input.
load_result load_string(std::string_view toml_text, std::string_view source_name = "signoff.toml");
// Reads the file (diagnostic with key = path when unreadable), then load_string.
load_result load_file(const std::string& path);

// Holding-statement templates: `{name}` placeholders, name = [A-Za-z0-9_-]+.
struct template_parse {
  std::vector<std::string> placeholders;  // distinct, in order of first use
  std::string error;                      // non-empty when malformed (unmatched brace...)
};
template_parse parse_template(std::string_view text);
// Replaces every `{name}` with values.at(name). Precondition: text parses and
// every placeholder has a value. Values are inserted verbatim (never re-expanded).
std::string fill_template(std::string_view text, const std::map<std::string, std::string>& values);

// "60/1m" -> {60, 60s}; "off" -> nullopt in `*off`. Returns false when malformed.
bool parse_rate(std::string_view s, std::optional<rate_limit>& out);

}  // namespace signoff::conf

namespace signoff::conf {

// Reads a secret from its file (trailing whitespace and newlines removed)
// or environment variable. On failure returns nullopt and sets `problem` to
// a message naming `key` (e.g. "slack.app_token_file") and the file or
// variable — never the secret's content.
std::optional<std::string> read_secret_value(const secret_ref& ref, std::string_view key,
                                             std::string& problem);

}  // namespace signoff::conf
