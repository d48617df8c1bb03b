#include "handlers/grammar.hpp"

#include <array>
#include <charconv>
#include <set>

#include "bot/core/text.hpp"
#include "bot/core/time.hpp"

namespace signoff::cmd {
namespace {

struct verb_info {
  verb v;
  std::string_view word, sub;  // "draft","new" / "approve",""
  std::string_view action;
  std::string_view usage;
};

constexpr std::array<verb_info, 21> verbs{{
    {verb::draft_new, "draft", "new", "draft.new",
     "/draft new [--to T1,T2] [--class CLASS] [--embargo TIME] TEXT"},
    {verb::draft_edit, "draft", "edit", "draft.edit", "/draft edit D-n TEXT"},
    {verb::draft_show, "draft", "show", "draft.show", "/draft show D-n"},
    {verb::draft_list, "draft", "list", "draft.list",
     "/draft list [pending|approved|rejected|withdrawn]"},
    {verb::draft_withdraw, "draft", "withdraw", "draft.withdraw", "/draft withdraw D-n [REASON]"},
    {verb::approve, "approve", "", "draft.approve", "/approve D-n[@R] [NOTE]"},
    {verb::reject, "reject", "", "draft.reject", "/reject D-n[@R] REASON"},
    {verb::crisis_start, "crisis", "start", "crisis.start", "/crisis start sev1|sev2|sev3 TITLE"},
    {verb::crisis_end, "crisis", "end", "crisis.end", "/crisis end [NOTE]"},
    {verb::crisis_status, "crisis", "status", "crisis.status", "/crisis status"},
    {verb::hold_list, "hold", "list", "hold.list", "/hold list"},
    {verb::hold_show, "hold", "show", "hold.show", "/hold show KEY [NAME=VALUE ...]"},
    {verb::hold_issue, "hold", "issue", "hold.issue", "/hold issue KEY [NAME=VALUE ...]"},
    {verb::escalate, "escalate", "", "escalation.open",
     "/escalate ROUTE [--sev sev1|sev2|sev3] SUMMARY"},
    {verb::ack, "ack", "", "escalation.ack", "/ack E-n"},
    {verb::resolve, "resolve", "", "escalation.resolve", "/resolve E-n [NOTE]"},
    {verb::escalations, "escalations", "", "escalation.list", "/escalations"},
    {verb::audit, "audit", "", "audit.query",
     "/audit [SUBJECT] [--actor PERSON] [--action ACTION] [--since TIME] [--until TIME] "
     "[--limit N]"},
    {verb::audit_console, "audit", "console", "audit.console", "/audit console"},
    {verb::handover, "handover", "", "handover", "/handover [--hours N]"},
    {verb::help, "help", "", "help", "/signoff help"},
}};



const verb_info& info(verb v) {
  for (const auto& i : verbs)
    if (i.v == v) return i;
  return verbs.back();
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A cursor over the command line. Tokens are separated by white space; a
// double-quoted segment (with \" and \\ escapes) may hold spaces.
class cursor {
 public:
  explicit cursor(std::string_view s) : s_(s) {}
  void skip_ws() {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
  }
  bool at_end() {
    skip_ws();
    return pos_ >= s_.size();
  }
  // The raw next token without consuming it.
  std::string_view peek_raw() {
    skip_ws();
    std::size_t end = pos_;
    while (end < s_.size() && !is_space(s_[end])) ++end;
    return s_.substr(pos_, end - pos_);
  }
  // Consumes a token, removing quotes. Returns false on an unterminated quote.
  bool next(std::string& out) {
    skip_ws();
    out.clear();
    bool quoted = false;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (!quoted && is_space(c)) break;
      // “ and ” (U+201C, U+201D; phones type them) count as double quotes.
      if (s_.substr(pos_, 3) == "\xE2\x80\x9C" || s_.substr(pos_, 3) == "\xE2\x80\x9D") {
        pos_ += 3;
        quoted = !quoted;
        continue;
      }
      ++pos_;
      if (c == '"') {
        quoted = !quoted;
      } else if (quoted && c == '\\' && pos_ < s_.size() &&
                 (s_[pos_] == '"' || s_[pos_] == '\\')) {
        out += s_[pos_++];
      } else {
        out += c;
      }
    }
    return !quoted;
  }
  // Skips the next white-space-separated word (quotes not interpreted).
  void skip_word() {
    skip_ws();
    while (pos_ < s_.size() && !is_space(s_[pos_])) ++pos_;
  }
  // Everything left, verbatim but for the separating white space before it
  // and trailing white space.
  std::string rest() {
    skip_ws();
    std::string_view r = s_.substr(pos_);
    while (!r.empty() && is_space(r.back())) r.remove_suffix(1);
    pos_ = s_.size();
    return std::string(r);
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

bool parse_positive(std::string_view s, std::int64_t& out) {
  if (s.empty() || s.size() > 15) return false;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v <= 0) return false;
  out = v;
  return true;
}

// `D-12` / `D-12@3` (prefix 'D') or `E-4` (prefix 'E'); case-insensitive
// prefix. Sets c.id (and c.at_rev) only when the whole token is well formed,
// so a malformed ID is never recorded as the subject it resembles.
std::optional<std::string> parse_id(std::string_view tok, char prefix, bool allow_rev, command& c) {
  auto bad = [&] {
    std::string m = quote_arg(tok) + " is not ";
    m += prefix == 'D' ? (allow_rev ? "a draft ID (D-n or D-n@R)" : "a draft ID (D-n)")
                       : "an escalation ID (E-n)";
    return m;
  };
  if (tok.size() < 3 || (tok[0] != prefix && tok[0] != prefix + ('a' - 'A')) || tok[1] != '-')
    return bad();
  std::string_view num = tok.substr(2);
  std::optional<std::int64_t> rev;
  if (auto at = num.find('@'); at != std::string_view::npos) {
    if (!allow_rev) return bad();
    std::int64_t r = 0;
    if (!parse_positive(num.substr(at + 1), r)) return bad();
    rev = r;
    num = num.substr(0, at);
  }
  std::int64_t id = 0;
  if (!parse_positive(num, id)) return bad();
  c.id = id;
  c.at_rev = rev;
  return std::nullopt;
}

bool valid_sev(std::string_view s) { return s == "sev1" || s == "sev2" || s == "sev3"; }

std::string too_long(std::string_view what, const limits& lim) {
  return std::string(what) + " is longer than " + std::to_string(lim.max_text) +
         " characters (the max_text limit)";
}

// IDs, keys, class, route, target and filter names (SPEC: 64 characters).
// Returns the error, naming `what` and the limit, without echoing a long
// value in full.
std::optional<std::string> check_name(std::string_view what, std::string_view v) {
  if (code_points(v) > max_name)
    return std::string(what) + " " + quote_arg(v, 20) + " is longer than " +
           std::to_string(max_name) + " characters";
  if (has_invisible(v))
    return std::string(what) + " " + quote_arg(v) +
           " holds an invisible or control character";
  return std::nullopt;
}

// SPEC: options come first and everything after them is text. A known
// option of this verb that stands in the text as a word of its own
// (`/draft new Q3 text --class regulated`) was most likely meant as an
// option: the command keeps SPEC's reading, and the reply says so plainly.
void note_options_in_text(command& c, const std::vector<std::string_view>& opts) {
  cursor words(c.text);
  std::string w;
  while (!words.at_end()) {
    std::string_view raw = words.peek_raw();
    words.skip_word();
    if (raw.size() < 3 || raw.substr(0, 2) != "--") continue;
    for (auto o : opts)
      if (raw.substr(2) == o) {
        std::string shown(raw);
        std::string_view value = words.at_end() ? std::string_view() : words.peek_raw();
        if (!value.empty() && !value.starts_with("--")) shown += " " + std::string(value);
        c.options_in_text.push_back(std::move(shown));
      }
  }
}

}  // namespace

bool read_only(verb v) {
  switch (v) {
    case verb::draft_show: case verb::draft_list: case verb::crisis_status: case verb::hold_list:
    case verb::hold_show: case verb::escalations: case verb::audit: case verb::audit_console:
    case verb::handover: case verb::help:
      return true;
    default:
      return false;
  }
}

std::string_view action_of(verb v) { return info(v).action; }

std::string_view action_for_line(std::string_view line) {
  if (!valid_utf8(line)) return "command.invalid";
  auto p = parse(line, time_point{}, limits{});
  if (auto* c = std::get_if<command>(&p)) return action_of(c->v);
  const auto& err = std::get<parse_error>(p);
  return err.v ? action_of(*err.v) : "command.invalid";
}

std::string subject_of(const command& c) {
  switch (c.v) {
    case verb::draft_edit: case verb::draft_show: case verb::draft_withdraw:
    case verb::approve: case verb::reject:
      return c.id > 0 ? "D-" + std::to_string(c.id) : std::string();
    case verb::ack: case verb::resolve:
      return c.id > 0 ? "E-" + std::to_string(c.id) : std::string();
    case verb::hold_show: case verb::hold_issue: return c.key;
    default: return {};
  }
}
std::string_view usage_of(verb v) { return info(v).usage; }

const std::vector<verb>& all_verbs() {
  static const std::vector<verb> all = [] {
    std::vector<verb> out;
    for (const auto& i : verbs) out.push_back(i.v);
    return out;
  }();
  return all;
}

std::variant<command, parse_error> parse(std::string_view line, time_point now, const limits& lim) {
  cursor cur(line);
  std::string word;
  if (!cur.next(word)) return parse_error{std::nullopt, "unterminated quote", {}};
  if (!word.empty() && word[0] == '/') word.erase(0, 1);
  if (word == "signoff") {
    if (cur.at_end()) return parse_error{std::nullopt, "missing command after /signoff", {}};
    cur.next(word);
  }
  if (word.empty()) return parse_error{std::nullopt, "empty command", {}};

  // Find the verb: a one-word verb, or a word + sub-verb.
  const verb_info* found = nullptr;
  bool word_known = false;
  for (const auto& i : verbs)
    if (i.word == word) word_known = true;
  if (!word_known)
    return parse_error{std::nullopt, "unknown command " + quote_arg(word, 32), {}};
  std::string sub;
  bool has_sub = false, has_plain = false;
  for (const auto& i : verbs) {
    if (i.word == word && !i.sub.empty()) has_sub = true;
    if (i.word == word && i.sub.empty()) has_plain = true;
  }
  if (has_sub && has_plain) {
    // A verb that also takes a positional (`/audit D-1`, `/audit console`):
    // the sub-verb only when the next word is exactly one.
    cursor peek = cur;
    std::string next;
    if (peek.next(next))
      for (const auto& i : verbs)
        if (i.word == word && i.sub == next) {
          found = &i;
          cur = peek;
        }
    if (!found)
      for (const auto& i : verbs)
        if (i.word == word && i.sub.empty()) found = &i;
  } else if (has_sub) {
    if (!cur.next(sub) || sub.empty()) {
      std::string subs;
      for (const auto& i : verbs)
        if (i.word == word) subs += (subs.empty() ? "" : "|") + std::string(i.sub);
      return parse_error{std::nullopt, "/" + word + " needs a subcommand: " + subs, {}};
    }
    for (const auto& i : verbs)
      if (i.word == word && i.sub == sub) found = &i;
    if (!found)
      return parse_error{std::nullopt, "unknown command " + quote_arg("/" + word + " " + sub, 40), {}};
  } else {
    for (const auto& i : verbs)
      if (i.word == word) found = &i;
  }

  command c;
  c.v = found->v;
  auto fail = [&](std::string msg) -> std::variant<command, parse_error> {
    return parse_error{c.v, std::move(msg), subject_of(c)};
  };

  // Per-verb shape: positionals, options, free text.
  enum class text_rule { none, optional, required };
  std::vector<std::string_view> opts;
  text_rule text = text_rule::none;
  std::string_view text_name = "text";
  switch (c.v) {
    case verb::draft_new: opts = {"to", "class", "embargo"}; text = text_rule::required; break;
    case verb::draft_edit: text = text_rule::required; break;
    case verb::draft_withdraw: text = text_rule::optional; text_name = "reason"; break;
    case verb::approve: text = text_rule::optional; text_name = "note"; break;
    case verb::reject: text = text_rule::required; text_name = "reason"; break;
    case verb::crisis_start: text = text_rule::required; text_name = "title"; break;
    case verb::crisis_end: text = text_rule::optional; text_name = "note"; break;
    case verb::escalate: opts = {"sev"}; text = text_rule::required; text_name = "summary"; break;
    case verb::resolve: text = text_rule::optional; text_name = "note"; break;
    case verb::audit: opts = {"actor", "action", "since", "until", "limit"}; break;
    case verb::handover: opts = {"hours"}; break;
    default: break;
  }

  // Leading positional (each verb has at most one).
  enum class pos_kind { none, draft, draft_rev, esc, sev, key, list_filter, subject };
  pos_kind pk = pos_kind::none;
  bool pos_required = true;
  switch (c.v) {
    case verb::draft_edit: case verb::draft_show: case verb::draft_withdraw: pk = pos_kind::draft; break;
    case verb::approve: case verb::reject: pk = pos_kind::draft_rev; break;
    case verb::ack: case verb::resolve: pk = pos_kind::esc; break;
    case verb::crisis_start: pk = pos_kind::sev; break;
    case verb::hold_show: case verb::hold_issue: case verb::escalate: pk = pos_kind::key; break;
    case verb::draft_list: pk = pos_kind::list_filter; pos_required = false; break;
    case verb::audit: pk = pos_kind::subject; pos_required = false; break;
    default: break;
  }

  bool have_pos = pk == pos_kind::none;
  std::set<std::string> seen_opts;
  auto is_option = [&](std::string_view raw) {
    return !opts.empty() && raw.size() > 2 && raw.substr(0, 2) == "--";
  };
  auto take_positional = [&](const std::string& tok) -> std::optional<std::string> {
    switch (pk) {
      case pos_kind::draft: return parse_id(tok, 'D', false, c);
      case pos_kind::draft_rev: return parse_id(tok, 'D', true, c);
      case pos_kind::esc: return parse_id(tok, 'E', false, c);
      case pos_kind::sev:
        if (!valid_sev(tok)) return "severity " + quote_arg(tok, 20) + " is not sev1, sev2 or sev3";
        c.key = tok;
        return std::nullopt;
      case pos_kind::list_filter:
        if (tok != "pending" && tok != "approved" && tok != "rejected" && tok != "withdrawn")
          return quote_arg(tok, 20) + " is not pending, approved, rejected or withdrawn";
        c.key = tok;
        return std::nullopt;
      default:
        if (auto err = check_name(c.v == verb::escalate ? "route"
                                  : c.v == verb::audit  ? "subject"
                                                        : "statement key",
                                  tok))
          return err;
        c.key = tok;
        return std::nullopt;
    }
  };
  auto take_option = [&](const std::string& name, const std::string& value) -> std::optional<std::string> {
    if (name == "to") {
      std::string_view v = value;
      while (!v.empty()) {
        auto comma = v.find(',');
        auto part = trim(v.substr(0, comma));
        if (!part.empty()) c.to.emplace_back(part);
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
      }
      if (c.to.empty()) return std::string("--to needs at least one target, e.g. --to linkedin,x");
      if (c.to.size() > max_targets)
        return "--to names " + std::to_string(c.to.size()) + " targets; at most " +
               std::to_string(max_targets) + " are allowed";
      for (const auto& t : c.to)
        if (auto err = check_name("--to target", t)) return err;
    } else if (name == "class") {
      if (auto err = check_name("--class", value)) return err;
      c.cls = value;
    } else if (name == "embargo") {
      time_error why{};
      auto t = parse_rfc3339(value, &why);
      if (!t) return "--embargo " + quote_arg(value) + " " + describe_time_error(why);
      if (*t <= now) return "--embargo " + quote_arg(value) + " is in the past";
      c.embargo = t;
    } else if (name == "sev") {
      if (!valid_sev(value)) return "--sev " + quote_arg(value, 20) + " is not sev1, sev2 or sev3";
      c.sev = value;
    } else if (name == "actor") {
      if (auto err = check_name("--actor", value)) return err;
      c.actor = value;
    } else if (name == "action") {
      if (auto err = check_name("--action", value)) return err;
      c.action = value;
    } else if (name == "since" || name == "until") {
      time_error why{};
      auto t = parse_time_or_ago(value, now, &why);
      if (!t) return "--" + name + " " + quote_arg(value) + " " + describe_time_error(why, true);
      (name == "since" ? c.since : c.until) = t;
    } else if (name == "limit") {
      std::int64_t n = 0;
      if (!parse_positive(value, n) || n > 10000)
        return "--limit " + quote_arg(value, 20) + " is not a number from 1 to 10000";
      c.limit = n;
    } else if (name == "hours") {
      std::int64_t n = 0;
      if (!parse_positive(value, n) || n > max_handover_hours)
        return "--hours " + quote_arg(value, 20) + " is not a whole number of hours from 1 to " +
               std::to_string(max_handover_hours);
      c.hours = n;
    }
    return std::nullopt;
  };

  const bool kv_args = c.v == verb::hold_show || c.v == verb::hold_issue;
  std::string tok;
  while (!cur.at_end()) {
    std::string_view raw = cur.peek_raw();
    if (raw == "--") {
      cur.next(tok);
      if (text == text_rule::none) return fail("unexpected '--'");
      if (!have_pos && pos_required) break;  // reported below as a missing positional
      c.text = cur.rest();
      break;
    }
    if (is_option(raw)) {
      cur.next(tok);
      std::string name = tok.substr(2);
      bool known = false;
      for (auto o : opts) known = known || o == name;
      if (!known) return fail("unknown option " + quote_arg("--" + name, 32));
      if (!seen_opts.insert(name).second) return fail("option --" + name + " given twice");
      std::string value;
      if (cur.at_end()) return fail("option --" + name + " needs a value");
      if (!cur.next(value)) return fail("unterminated quote in --" + name);
      if (auto err = take_option(name, value)) return fail(*err);
      continue;
    }
    if (!have_pos) {
      if (!cur.next(tok)) return fail("unterminated quote");
      if (auto err = take_positional(tok)) return fail(*err);
      have_pos = true;
      continue;
    }
    if (kv_args) {
      if (!cur.next(tok)) return fail("unterminated quote");
      auto eq = tok.find('=');
      if (eq == std::string::npos || eq == 0)
        return fail(quote_arg(tok) + " is not NAME=VALUE");
      std::string name = tok.substr(0, eq);
      if (auto err = check_name("placeholder name", name)) return fail(*err);
      for (const auto& [n, v] : c.values)
        if (n == name) return fail("value " + name + " given twice");
      if (c.values.size() == max_values)
        return fail("more than " + std::to_string(max_values) + " NAME=VALUE pairs");
      std::string value = tok.substr(eq + 1);
      if (code_points(value) > lim.max_text) return fail(too_long("value " + name, lim));
      c.values.emplace_back(std::move(name), std::move(value));
      continue;
    }
    if (text == text_rule::none) {
      cur.next(tok);
      return fail("unexpected " + quote_arg(tok));
    }
    c.text = cur.rest();
    note_options_in_text(c, opts);
    break;
  }

  if (!have_pos && pos_required) {
    switch (pk) {
      case pos_kind::draft: case pos_kind::draft_rev: return fail("missing draft ID (D-n)");
      case pos_kind::esc: return fail("missing escalation ID (E-n)");
      case pos_kind::sev: return fail("missing severity (sev1, sev2 or sev3)");
      default:
        return fail(c.v == verb::escalate ? "missing route" : "missing statement key");
    }
  }
  if (text == text_rule::required && trim(c.text).empty())
    return fail("missing " + std::string(text_name));
  if (code_points(c.text) > lim.max_text) return fail(too_long(std::string(text_name), lim));
  return c;
}

}  // namespace signoff::cmd
