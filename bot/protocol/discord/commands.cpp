// Application commands as one table, the registered definitions and the
// command line both derived from it, and INTERACTION_CREATE -> intent
// (Discord "Application Commands", "Interactions", "Message Components").
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <limits>

#include "bot/core/ids.hpp"
#include "bot/protocol/discord/codec.hpp"
#include "bot/protocol/json_read.hpp"

namespace signoff::discord {
namespace json = boost::json;
using json_read::excerpt;
using json_read::field;
using json_read::text_of;
using json_read::whole_of;

namespace {

// Where an option goes in the line (handlers/grammar.cpp's shape of a verb).
enum class role { positional, option, values, text, line };
enum class kind { string_name, string_text, integer };

struct option_spec {
  std::string_view name, description;
  role r;
  bool required;
  kind k = kind::string_name;
  std::vector<std::string_view> choices = {};
  std::int64_t min = 0, max = 0;       // integers
  std::size_t max_length = 0;          // string_name; 0: the grammar's 64
};
struct command_spec {
  std::string_view name, sub, description;
  std::vector<option_spec> options;    // in the grammar's order
};

constexpr std::size_t name_max = 64;   // cmd::max_name: IDs, keys, routes, names
constexpr std::size_t to_max = 1300;   // 20 targets of 64 and their commas

const std::vector<std::string_view> sevs = {"sev1", "sev2", "sev3"};
const std::vector<std::string_view> statuses = {"pending", "approved", "rejected", "withdrawn"};

option_spec draft_id(std::string_view what = "Draft ID, e.g. D-12") {
  return {"id", what, role::positional, true};
}
option_spec free_text(std::string_view name, std::string_view description, bool required) {
  return {name, description, role::text, required, kind::string_text};
}

const std::vector<command_spec>& table() {
  static const std::vector<command_spec> t = {
      {"draft", "new", "Submit a post draft for approval",
       {{"to", "Target social channels, comma-separated (e.g. linkedin,x)", role::option, false, kind::string_name,
         {}, 0, 0, to_max},
        {"class", "Approval class from the config (default: standard)", role::option, false},
        {"embargo", "Not to be published before this RFC 3339 time (e.g. 2026-12-01T09:00:00Z)", role::option,
         false},
        free_text("text", "The post text", true)}},
      {"draft", "edit", "Write a new revision of a draft", {draft_id(), free_text("text", "The new post text", true)}},
      {"draft", "show", "Show a draft", {draft_id()}},
      {"draft", "list", "List drafts",
       {{"status", "Only drafts in this state", role::positional, false, kind::string_name, statuses}}},
      {"draft", "withdraw", "Withdraw a draft", {draft_id(), free_text("reason", "Why it is withdrawn", false)}},
      {"approve", "", "Approve a draft",
       {draft_id("Draft ID, e.g. D-12 (D-12@3: only if revision 3 is current)"),
        free_text("note", "A note for the record", false)}},
      {"reject", "", "Reject a draft",
       {draft_id("Draft ID, e.g. D-12 (D-12@3: only if revision 3 is current)"),
        free_text("reason", "Why it is rejected (required)", true)}},
      {"crisis", "start", "Declare a crisis",
       {{"sev", "Severity", role::positional, true, kind::string_name, sevs},
        free_text("title", "What is happening", true)}},
      {"crisis", "end", "End the active crisis", {free_text("note", "A note for the record", false)}},
      {"crisis", "status", "Show the active crisis", {}},
      {"hold", "list", "List the holding statements", {}},
      {"hold", "show", "Show a holding statement (with values: a preview)",
       {{"key", "Statement key", role::positional, true},
        {"values", "Placeholder values: NAME=VALUE ... (quote values with spaces)", role::values, false,
         kind::string_text}}},
      {"hold", "issue", "Post a holding statement now",
       {{"key", "Statement key", role::positional, true},
        {"values", "Placeholder values: NAME=VALUE ... (quote values with spaces)", role::values, false,
         kind::string_text}}},
      {"escalate", "", "Open an escalation on a route",
       {{"route", "Escalation route from the config", role::positional, true},
        {"sev", "Severity (default sev3)", role::option, false, kind::string_name, sevs},
        free_text("summary", "What needs attention", true)}},
      {"ack", "", "Acknowledge an escalation", {{"id", "Escalation ID, e.g. E-4", role::positional, true}}},
      {"resolve", "", "Resolve an escalation",
       {{"id", "Escalation ID, e.g. E-4", role::positional, true}, free_text("note", "A note for the record", false)}},
      {"escalations", "", "List the open escalations", {}},
      {"audit", "", "Query the audit log (console: a login link to the audit console)",
       {{"subject", "D-n, E-n, C-n, a statement key, or console", role::positional, false},
        {"actor", "Only records by this person", role::option, false},
        {"action", "Only records of this action (e.g. draft.approve)", role::option, false},
        {"since", "From this RFC 3339 time, or a duration back (7d)", role::option, false},
        {"until", "Up to this RFC 3339 time, or a duration back (1h)", role::option, false},
        {"limit", "At most this many records", role::option, false, kind::integer, {}, 1, 10000}}},
      {"handover", "", "A summary for whoever takes over the shift",
       {{"hours", "Embargoes passing in the next N hours (default 12)", role::option, false, kind::integer, {}, 1,
         168}}},
      {"signoff", "", "Any signoff command line, e.g. help",
       {{"line", "The command line without the slash, e.g. help or approve D-1 fine", role::line, true,
         kind::string_text}}},
  };
  return t;
}

std::string_view verb_description(std::string_view name) {
  if (name == "draft") return "Post drafts: new, edit, show, list, withdraw";
  if (name == "crisis") return "Crises: start, end, status";
  if (name == "hold") return "Holding statements: list, show, issue";
  return "";
}

json::object option_json(const option_spec& o, std::size_t max_text) {
  json::object j{{"type", o.k == kind::integer ? 4 : 3}, {"name", o.name}, {"description", o.description},
                 {"required", o.required}};
  if (o.k == kind::integer) {
    j["min_value"] = o.min;
    j["max_value"] = o.max;
    return j;
  }
  std::size_t max = o.k == kind::string_text ? std::clamp<std::size_t>(max_text, 1, option_text_max)
                                             : (o.max_length ? o.max_length : name_max);
  if (o.r == role::line) max = option_text_max;
  j["max_length"] = static_cast<std::int64_t>(max);
  if (!o.choices.empty()) {
    json::array choices;
    for (auto c : o.choices) choices.push_back(json::object{{"name", c}, {"value", c}});
    j["choices"] = std::move(choices);
  }
  return j;
}

// Discord requires required options before optional ones; the table keeps
// the grammar's order, so the registered list is a stable partition of it.
json::array options_json(const std::vector<option_spec>& opts, std::size_t max_text) {
  json::array out;
  for (bool req : {true, false})
    for (const auto& o : opts)
      if (o.required == req) out.push_back(option_json(o, max_text));
  return out;
}

// A value as one grammar token: quoted when it would otherwise split, be
// empty, or read as an option.
std::string token(std::string_view v) {
  bool plain = !v.empty() && !v.starts_with("--");
  for (char c : v)
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\\') plain = false;
  if (v.find("\xE2\x80\x9C") != std::string_view::npos || v.find("\xE2\x80\x9D") != std::string_view::npos)
    plain = false;
  if (plain) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Free text verbatim, after a lone "--" when it would read as an option.
std::string text_part(std::string_view v) {
  auto start = v.find_first_not_of(" \t\r\n");
  if (start != std::string_view::npos && v.substr(start).starts_with("--")) return "-- " + std::string(v);
  return std::string(v);
}

// An option's value as typed: strings as they are, numbers in decimal.
std::string value_text(const json::value* v) {
  if (!v) return {};
  if (const auto* s = v->if_string()) return std::string(*s);
  if (const auto* b = v->if_bool()) return *b ? "true" : "false";
  if (auto i = whole_of(v, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()))
    return std::to_string(*i);
  return json::serialize(*v);
}

struct given { std::string name, value; };

// The options of one level (a command or a subcommand), in the order sent.
std::vector<given> given_options(const json::value* options) {
  std::vector<given> out;
  const auto* arr = options ? options->if_array() : nullptr;
  if (!arr) return out;
  for (const auto& o : *arr) {
    auto type = whole_of(field(o, "type"), 0, 1000).value_or(0);
    if (type == 1 || type == 2) continue;  // a subcommand (group): its own level
    out.push_back({text_of(field(o, "name")), value_text(field(o, "value"))});
  }
  return out;
}

// The subcommand (or group) option of a level, if any.
const json::value* sub_option(const json::value* options) {
  const auto* arr = options ? options->if_array() : nullptr;
  if (!arr) return nullptr;
  for (const auto& o : *arr) {
    auto type = whole_of(field(o, "type"), 0, 1000).value_or(0);
    if (type == 1 || type == 2) return &o;
  }
  return nullptr;
}

std::string join(const command_spec* spec, std::string head, const std::vector<given>& opts) {
  std::string line = std::move(head);
  auto find = [&](std::string_view name) -> const given* {
    for (const auto& g : opts)
      if (g.name == name) return &g;
    return nullptr;
  };
  if (!spec) {
    // Unknown to us: every option as --name value, for the grammar to refuse.
    for (const auto& g : opts) line += " --" + g.name + " " + token(g.value);
    return line;
  }
  for (role r : {role::positional, role::option, role::values, role::line, role::text})
    for (const auto& o : spec->options) {
      if (o.r != r) continue;
      const given* g = find(o.name);
      if (!g) continue;
      if (r == role::positional) line += " " + token(g->value);
      else if (r == role::option) line += " --" + std::string(o.name) + " " + token(g->value);
      else if (r == role::text) line += " " + text_part(g->value);
      else line += " " + g->value;  // values, line: as typed
    }
  // Options we did not register: named, so nothing is silently dropped.
  for (const auto& g : opts) {
    bool known = false;
    for (const auto& o : spec->options) known = known || o.name == g.name;
    if (!known) line += " --" + g.name + " " + token(g.value);
  }
  return line;
}

// A custom ID on a component or modal of ours, split; nullopt when foreign.
struct ours { std::string_view prefix, value; };
std::optional<ours> our_custom_id(std::string_view id) {
  for (auto p : {approve_prefix, reject_prefix, ack_prefix})
    if (id.starts_with(p)) return ours{p, id.substr(p.size())};
  return std::nullopt;
}

std::variant<run_command, open_reject_modal, ignore_interaction> component(const json::value* data) {
  const auto custom = text_of(field(data, "custom_id"));
  auto o = our_custom_id(custom);
  if (!o) return run_command{custom};  // not ours: the grammar records it
  if (o->prefix == ack_prefix) {
    auto n = parse_escalation_id(o->value);
    return run_command{"/ack " + (n ? escalation_value(*n) : token(o->value))};
  }
  auto dr = parse_draft_rev(o->value);
  if (o->prefix == approve_prefix) return run_command{"/approve " + (dr ? dr->value() : token(o->value))};
  if (!dr) return run_command{"/reject " + token(o->value)};
  return open_reject_modal{dr->id(), dr->rev};
}

// The value of the text input `reason` anywhere in a modal's components
// (action rows of text inputs, or label components holding one), bounded
// in depth.
const json::value* find_input(const json::value* v, int depth) {
  if (!v || depth > 8) return nullptr;
  if (const auto* arr = v->if_array()) {
    for (const auto& c : *arr)
      if (const auto* hit = find_input(&c, depth + 1)) return hit;
    return nullptr;
  }
  if (!v->is_object()) return nullptr;
  if (text_of(field(v, "custom_id")) == reason_input && field(v, "value")) return field(v, "value");
  if (const auto* hit = find_input(field(v, "components"), depth + 1)) return hit;
  return find_input(field(v, "component"), depth + 1);
}

std::variant<run_command, open_reject_modal, ignore_interaction> modal_submit(const json::value* data) {
  const auto custom = text_of(field(data, "custom_id"));
  auto reason = text_of(find_input(field(data, "components"), 0));
  auto o = our_custom_id(custom);
  if (!o || o->prefix != reject_prefix) return run_command{custom};  // only Reject opens a modal
  auto dr = parse_draft_rev(o->value);
  std::string line = "/reject " + (dr ? dr->value() : token(o->value));
  auto start = reason.find_first_not_of(" \t\r\n");
  if (start != std::string::npos) line += " " + text_part(reason);
  return run_command{line};
}

}  // namespace

json::array application_commands(std::size_t max_text) {
  json::array out;
  for (const auto& c : table()) {
    if (!c.sub.empty()) {
      // One command for the verb, its subcommands in the table's order.
      json::object* parent = nullptr;
      for (auto& existing : out)
        if (existing.as_object().at("name").as_string() == c.name) parent = &existing.as_object();
      if (!parent) {
        out.push_back(json::object{{"name", c.name}, {"type", 1}, {"description", verb_description(c.name)},
                                   {"options", json::array{}}});
        parent = &out.back().as_object();
      }
      (*parent)["options"].as_array().push_back(json::object{{"type", 1}, {"name", c.sub},
                                                             {"description", c.description},
                                                             {"options", options_json(c.options, max_text)}});
    } else {
      out.push_back(json::object{{"name", c.name}, {"type", 1}, {"description", c.description},
                                 {"options", options_json(c.options, max_text)}});
    }
  }
  return out;
}

std::string commands_path(std::string_view application_id, std::string_view guild_id) {
  std::string p = "applications/" + std::string(application_id);
  if (!guild_id.empty()) p += "/guilds/" + std::string(guild_id);
  return p + "/commands";
}

std::string command_line(const json::value& data) {
  const auto name = text_of(field(data, "name"));
  const auto* options = field(data, "options");
  bool has_subs = false;
  for (const auto& c : table()) has_subs = has_subs || (c.name == name && !c.sub.empty());
  if (!has_subs) {
    const command_spec* spec = nullptr;
    for (const auto& c : table())
      if (c.name == name) spec = &c;
    if (spec && spec->name == "signoff") {
      for (const auto& g : given_options(options))
        if (g.name == "line") return "/signoff " + g.value;
      return "/signoff";
    }
    return join(spec, "/" + name, given_options(options));
  }
  const auto* sub = sub_option(options);
  const auto sub_name = text_of(field(sub, "name"));
  const command_spec* spec = nullptr;
  for (const auto& c : table())
    if (c.name == name && c.sub == sub_name) spec = &c;
  std::string head = "/" + name;
  if (!sub_name.empty()) head += " " + sub_name;
  // Options beside the subcommand (there are none in our table) still count.
  auto opts = given_options(sub ? field(sub, "options") : nullptr);
  for (auto& g : given_options(options)) opts.push_back(std::move(g));
  return join(spec, std::move(head), opts);
}

std::variant<interaction, decode_error> interpret_interaction(const json::value& d) {
  interaction in;
  in.id = text_of(field(d, "id"));
  in.token = text_of(field(d, "token"));
  in.application_id = text_of(field(d, "application_id"));
  in.type = static_cast<int>(whole_of(field(d, "type"), 1, 1000).value_or(0));
  if (in.id.empty()) return decode_error{"interaction has no id"};
  if (in.token.empty()) return decode_error{"interaction " + excerpt(in.id) + " has no token"};
  if (in.type == 0) return decode_error{"interaction " + excerpt(in.id) + " has no type"};
  in.from.guild_id = text_of(field(d, "guild_id"));
  in.from.channel_id = text_of(field(d, "channel_id"));
  if (in.from.channel_id.empty()) in.from.channel_id = text_of(field(field(d, "channel"), "id"));
  // In a guild the user is member.user; in a DM, user.
  in.from.user_id = text_of(field(field(field(d, "member"), "user"), "id"));
  if (in.from.user_id.empty()) in.from.user_id = text_of(field(field(d, "user"), "id"));
  if (in.type == 1) {
    in.intent = ignore_interaction{"ping"};
    return in;
  }
  if (in.from.user_id.empty()) return decode_error{"interaction " + excerpt(in.id) + " has no user"};
  const auto* data = field(d, "data");
  switch (in.type) {
    case 2: in.intent = run_command{command_line(data ? *data : json::value())}; break;
    case 3: in.intent = component(data); break;
    case 4: in.intent = ignore_interaction{"autocomplete"}; break;
    case 5: in.intent = modal_submit(data); break;
    default: in.intent = ignore_interaction{"interaction type " + std::to_string(in.type) + " is not handled"};
  }
  return in;
}

}  // namespace signoff::discord
