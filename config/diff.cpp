#include "config/diff.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <tuple>

namespace signoff::conf {
namespace {

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// a \ b, in a's order.
std::vector<std::string> minus(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const auto& x : a)
    if (std::find(b.begin(), b.end(), x) == b.end() && std::find(out.begin(), out.end(), x) == out.end())
      out.push_back(x);
  return out;
}

bool same(const stage& a, const stage& b) {
  return a.name == b.name && sorted(a.roles) == sorted(b.roles) && a.count == b.count;
}
bool same(const approval_class& a, const approval_class& b) {
  return a.channel == b.channel && a.remind_after == b.remind_after &&
         std::equal(a.stages.begin(), a.stages.end(), b.stages.begin(), b.stages.end(),
                    [](const stage& x, const stage& y) { return same(x, y); });
}
bool same(const level& a, const level& b) { return a.notify == b.notify && a.after == b.after; }
bool same(const route& a, const route& b) {
  return a.channel == b.channel &&
         std::equal(a.levels.begin(), a.levels.end(), b.levels.begin(), b.levels.end(),
                    [](const level& x, const level& y) { return same(x, y); });
}
bool same(const channel& a, const channel& b) {
  return a.slack == b.slack && a.discord == b.discord && a.mattermost == b.mattermost;
}
bool same(const holding_statement& a, const holding_statement& b) {
  return std::tie(a.title, a.severity, a.channel, a.version, a.approved_by, a.approved_on, a.text) ==
         std::tie(b.title, b.severity, b.channel, b.version, b.approved_by, b.approved_on, b.text);
}

// Added, removed and changed entries of two lists keyed by `key`.
template <class T, class Key>
named_changes compare(const std::vector<T>& before, const std::vector<T>& after, Key key) {
  named_changes out;
  auto find = [&](const std::vector<T>& v, const std::string& k) -> const T* {
    for (const auto& x : v)
      if (key(x) == k) return &x;
    return nullptr;
  };
  for (const auto& a : after) {
    const T* b = find(before, key(a));
    if (!b) out.added.push_back(key(a));
    else if (!same(*b, a)) out.changed.push_back(key(a));
  }
  for (const auto& b : before)
    if (!find(after, key(b))) out.removed.push_back(key(b));
  return out;
}

// Restart-only keys of a platform section: the section itself when it
// appears or disappears, else each key that differs.
template <class S, class Keys>
void section_keys(std::vector<std::string>& out, const char* name, const std::optional<S>& a,
                  const std::optional<S>& b, Keys keys) {
  if (a.has_value() != b.has_value()) {
    out.emplace_back(name);
    return;
  }
  if (a) keys(*a, *b, [&](const char* key) { out.push_back(std::string(name) + "." + key); });
}

void secret_keys(const secret_ref& a, const secret_ref& b, const char* name, std::vector<std::string>& out,
                 const char* section) {
  if (a.file != b.file) out.push_back(std::string(section) + "." + name + "_file");
  if (a.env != b.env) out.push_back(std::string(section) + "." + name + "_env");
}

std::vector<std::string> restart_keys(const config& a, const config& b) {
  std::vector<std::string> out;
  if (a.storage.path != b.storage.path) out.emplace_back("storage.path");
  if (a.storage.busy_timeout != b.storage.busy_timeout) out.emplace_back("storage.busy_timeout");
  if (a.http_listen != b.http_listen) out.emplace_back("http.listen");
  section_keys(out, "slack", a.slack, b.slack, [&](const slack_section& x, const slack_section& y, auto add) {
    secret_keys(x.app_token, y.app_token, "app_token", out, "slack");
    secret_keys(x.bot_token, y.bot_token, "bot_token", out, "slack");
    if (x.api_base != y.api_base) add("api_base");
    if (x.ca_file != y.ca_file) add("ca_file");
  });
  section_keys(out, "discord", a.discord, b.discord,
               [&](const discord_section& x, const discord_section& y, auto add) {
                 secret_keys(x.token, y.token, "token", out, "discord");
                 if (x.application_id != y.application_id) add("application_id");
                 if (x.guild_id != y.guild_id) add("guild_id");
                 if (x.api_base != y.api_base) add("api_base");
                 if (x.ca_file != y.ca_file) add("ca_file");
               });
  section_keys(out, "mattermost", a.mattermost, b.mattermost,
               [&](const mattermost_section& x, const mattermost_section& y, auto add) {
                 if (x.url != y.url) add("url");
                 secret_keys(x.token, y.token, "token", out, "mattermost");
                 if (x.trigger != y.trigger) add("trigger");
                 if (x.ca_file != y.ca_file) add("ca_file");
                 if (x.actions_url != y.actions_url) add("actions_url");
                 if (x.actions_secret_file != y.actions_secret_file) add("actions_secret_file");
               });
  section_keys(out, "console", a.console, b.console,
               [&](const console_section& x, const console_section& y, auto add) {
                 if (x.listen != y.listen) add("listen");
                 if (x.base_url != y.base_url) add("base_url");
                 if (x.cert_file != y.cert_file) add("cert_file");
                 if (x.key_file != y.key_file) add("key_file");
               });
  // The signing key is read once at start; the rest belongs with it.
  section_keys(out, "audit", a.audit, b.audit, [&](const audit_section& x, const audit_section& y, auto add) {
    secret_keys(x.signing_key, y.signing_key, "signing_key", out, "audit");
    if (x.origin != y.origin) add("origin");
    if (x.checkpoint_every != y.checkpoint_every) add("checkpoint_every");
    if (x.checkpoint_interval != y.checkpoint_interval) add("checkpoint_interval");
    if (x.channel != y.channel) add("channel");
  });
  return out;
}

boost::json::array strings(const std::vector<std::string>& v) { return boost::json::array(v.begin(), v.end()); }

void put(boost::json::object& o, const char* key, const std::vector<std::string>& v) {
  if (!v.empty()) o[key] = strings(v);
}

void put(boost::json::object& o, const char* key, const named_changes& c) {
  if (c.empty()) return;
  boost::json::object n;
  put(n, "added", c.added);
  put(n, "removed", c.removed);
  put(n, "changed", c.changed);
  o[key] = std::move(n);
}

std::string names(const char* sign, const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += std::string(" ") + sign + s;
  return out;
}

}  // namespace

bool config_diff::empty() const {
  return people_added.empty() && people_removed.empty() && people_changed.empty() && roles.empty() &&
         approval.empty() && escalation.empty() && channels.empty() && statements_added.empty() &&
         statements_removed.empty() && statements_changed.empty() && limits.empty();
}

config_diff diff(const config& before, const config& after) {
  config_diff d;
  for (const auto& p : after.people) {
    const person* old = before.find_person(p.id);
    if (!old) {
      d.people_added.push_back(p.id);
      continue;
    }
    person_change c;
    c.id = p.id;
    c.roles_added = minus(p.roles, old->roles);
    c.roles_removed = minus(old->roles, p.roles);
    for (auto on : {platform::slack, platform::discord, platform::mattermost})
      if (*p.id_on(on) != *old->id_on(on)) c.platform_ids.emplace_back(to_string(on));
    c.name = p.name != old->name;
    if (!c.roles_added.empty() || !c.roles_removed.empty() || !c.platform_ids.empty() || c.name)
      d.people_changed.push_back(std::move(c));
  }
  for (const auto& p : before.people)
    if (!after.find_person(p.id)) d.people_removed.push_back(p.id);

  static const std::vector<std::string> none;
  auto roles_of = [](const config& c, const std::string& perm) -> const std::vector<std::string>& {
    auto it = c.roles.find(perm);
    return it == c.roles.end() ? none : it->second;
  };
  std::vector<std::string> perms;
  for (const auto& [k, v] : before.roles) perms.push_back(k);
  for (const auto& [k, v] : after.roles) perms.push_back(k);
  for (const auto& perm : sorted(perms))
    if (sorted(roles_of(before, perm)) != sorted(roles_of(after, perm))) d.roles.push_back(perm);

  d.approval = compare(before.approval, after.approval, [](const approval_class& c) { return c.name; });
  d.escalation = compare(before.escalation, after.escalation, [](const route& r) { return r.name; });
  d.channels = compare(before.channels, after.channels, [](const channel& c) { return c.name; });

  for (const auto& s : after.statements) {
    const holding_statement* old = before.find_statement(s.key);
    if (!old) d.statements_added.push_back({s.key, s.version});
    else if (!same(*old, s)) d.statements_changed.push_back({s.key, old->version, s.version});
  }
  for (const auto& s : before.statements)
    if (!after.find_statement(s.key)) d.statements_removed.push_back({s.key, s.version});

  const auto rate = [](const std::optional<rate_limit>& r) {
    return r ? std::pair{r->count, r->window.count()} : std::pair{-1, std::int64_t{-1}};
  };
  if (rate(before.limits.commands_per_person) != rate(after.limits.commands_per_person))
    d.limits.emplace_back("limits.commands_per_person");
  if (before.limits.max_text != after.limits.max_text) d.limits.emplace_back("limits.max_text");

  d.ignored = restart_keys(before, after);
  return d;
}

config reloadable_part(const config& running, config after) {
  after.storage = running.storage;
  after.http_listen = running.http_listen;
  after.slack = running.slack;
  after.discord = running.discord;
  after.mattermost = running.mattermost;
  after.audit = running.audit;
  after.console = running.console;
  return after;
}

boost::json::object to_json(const config_diff& d) {
  boost::json::object o;
  if (!d.people_added.empty() || !d.people_removed.empty() || !d.people_changed.empty()) {
    boost::json::object p;
    put(p, "added", d.people_added);
    put(p, "removed", d.people_removed);
    if (!d.people_changed.empty()) {
      boost::json::array changed;
      for (const auto& c : d.people_changed) {
        boost::json::object e;
        e["id"] = c.id;
        put(e, "roles_added", c.roles_added);
        put(e, "roles_removed", c.roles_removed);
        put(e, "platform_ids", c.platform_ids);
        if (c.name) e["name"] = true;
        changed.push_back(std::move(e));
      }
      p["changed"] = std::move(changed);
    }
    o["people"] = std::move(p);
  }
  put(o, "roles", d.roles);
  put(o, "approval", d.approval);
  put(o, "escalation", d.escalation);
  put(o, "channels", d.channels);
  if (!d.statements_added.empty() || !d.statements_removed.empty() || !d.statements_changed.empty()) {
    boost::json::object s;
    auto versions = [](const std::vector<statement_version>& v) {
      boost::json::array a;
      for (const auto& x : v) a.push_back(boost::json::object{{"key", x.key}, {"version", x.version}});
      return a;
    };
    if (!d.statements_added.empty()) s["added"] = versions(d.statements_added);
    if (!d.statements_removed.empty()) s["removed"] = versions(d.statements_removed);
    if (!d.statements_changed.empty()) {
      boost::json::array a;
      for (const auto& x : d.statements_changed)
        a.push_back(boost::json::object{
            {"key", x.key}, {"from_version", x.from_version}, {"to_version", x.to_version}});
      s["changed"] = std::move(a);
    }
    o["holding_statements"] = std::move(s);
  }
  put(o, "limits", d.limits);
  return o;
}

std::string summary(const config_diff& d) {
  std::vector<std::string> parts;
  auto part = [&](const std::string& head, const std::string& body) {
    if (!body.empty()) parts.push_back(head + body);
  };
  std::string people = names("+", d.people_added) + names("-", d.people_removed);
  for (const auto& c : d.people_changed) people += " ~" + c.id;
  part("people", people);
  part("roles", names("", d.roles));
  for (auto [head, c] : {std::pair{"approval", &d.approval}, std::pair{"escalation", &d.escalation},
                         std::pair{"channels", &d.channels}})
    part(head, names("+", c->added) + names("-", c->removed) + names("~", c->changed));
  std::string st;
  for (const auto& s : d.statements_added) st += " +" + s.key + " v" + std::to_string(s.version);
  for (const auto& s : d.statements_removed) st += " -" + s.key + " v" + std::to_string(s.version);
  for (const auto& s : d.statements_changed)
    st += " ~" + s.key + " v" + std::to_string(s.from_version) + "->v" + std::to_string(s.to_version);
  part("holding statements", st);
  part("limits", names("", d.limits));
  if (parts.empty()) return "no changes";
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace signoff::conf
