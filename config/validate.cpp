// Checks that need more than one key in view: references between sections,
// duplicates, and roles that nobody holds or nothing uses. Runs on the
// structs the loader filled; empty values were already reported there.
#include <algorithm>
#include <map>
#include <set>

#include "config/config.hpp"
#include "config/internal.hpp"

namespace signoff::conf::detail {
namespace {

using diags = std::vector<diagnostic>;

void error(diags& d, std::string key, std::string message) {
  d.push_back({std::move(key), std::move(message), false});
}

void warning(diags& d, std::string key, std::string message) {
  d.push_back({std::move(key), std::move(message), true});
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Duplicate person ids and platform user IDs: either would make "who did
// this" ambiguous. Channel platform IDs may repeat (two names, one room).
void check_people(const config& c, diags& d) {
  std::map<std::string, std::size_t> ids, slack, discord, mattermost;
  auto unique = [&](std::map<std::string, std::size_t>& seen, const std::string& value, std::size_t i,
                    const char* field, const std::string& what) {
    if (value.empty()) return;
    auto [it, fresh] = seen.emplace(value, i);
    if (!fresh)
      error(d, at("people", i) + "." + field,
            "duplicate " + what + " " + quote(value) + " (also " + at("people", it->second) + ")");
  };
  for (std::size_t i = 0; i < c.people.size(); ++i) {
    const person& p = c.people[i];
    unique(ids, p.id, i, "id", "person id");
    unique(slack, p.slack, i, "slack", "slack id");
    unique(discord, p.discord, i, "discord", "discord id");
    unique(mattermost, p.mattermost, i, "mattermost", "mattermost id");
  }
}

// Roles in [roles] and in stages must be held by somebody; stage roles must
// also grant `approve`. Returns every role the config uses.
std::set<std::string> check_roles(const config& c, diags& d) {
  std::set<std::string> held, used;
  for (const person& p : c.people)
    for (const std::string& r : p.roles)
      if (!r.empty()) held.insert(r);

  for (const auto& [perm, roles] : c.roles)
    for (std::size_t j = 0; j < roles.size(); ++j) {
      // Empty or malformed names were reported by the loader already.
      if (roles[j].empty() || has_space_or_control(roles[j])) continue;
      used.insert(roles[j]);
      if (!held.count(roles[j]))
        error(d, at(join("roles", perm), j), "role " + quote(roles[j]) + " is held by no person");
    }

  static const std::vector<std::string> none;
  auto approve_it = c.roles.find("approve");
  const auto& approve = approve_it == c.roles.end() ? none : approve_it->second;
  for (const approval_class& ac : c.approval) {
    std::set<std::string> stage_names;
    for (std::size_t k = 0; k < ac.stages.size(); ++k) {
      const stage& s = ac.stages[k];
      std::string path = at(join("approval", ac.name) + ".stages", k);
      if (!s.name.empty() && !stage_names.insert(s.name).second)
        error(d, path + ".name", "duplicate stage name " + quote(s.name) + " in this class");
      // People who could approve this stage: its count must be reachable.
      std::set<std::string> approvers;
      for (const person& p : c.people)
        for (const std::string& r : p.roles)
          if (!r.empty() && contains(s.roles, r)) approvers.insert(p.id);
      for (std::size_t j = 0; j < s.roles.size(); ++j) {
        const std::string& r = s.roles[j];
        if (r.empty() || has_space_or_control(r)) continue;
        used.insert(r);
        std::string key = at(path + ".roles", j);
        if (!held.count(r))
          error(d, key,
                "role " + quote(r) + " is held by no person" +
                    (approvers.empty() ? " (the stage could never be met)" : ""));
        if (!contains(approve, r)) error(d, key, "role " + quote(r) + " is not in [roles] approve");
      }
      if (!approvers.empty() && static_cast<std::size_t>(s.count) > approvers.size())
        error(d, path + ".count",
              "needs " + std::to_string(s.count) + " approvers but only " + std::to_string(approvers.size()) +
                  " people hold its roles (the stage could never be met)");
    }
  }
  return used;
}

void check_escalation(const config& c, diags& d) {
  for (const route& r : c.escalation)
    for (std::size_t i = 0; i < r.levels.size(); ++i) {
      const auto& notify = r.levels[i].notify;
      std::string path = at(join("escalation", r.name) + ".levels", i) + ".notify";
      for (std::size_t j = 0; j < notify.size(); ++j)
        if (!notify[j].empty() && c.find_person(notify[j]) == nullptr)
          error(d, at(path, j), "no person " + quote(notify[j]) + " in [[people]]");
    }
}

void check_channel_refs(const config& c, diags& d) {
  auto check = [&](const std::string& key, const std::string& name, const char* note) {
    if (!name.empty() && c.find_channel(name) == nullptr)
      error(d, key, "channel " + quote(name) + " is not in [channels]" + note);
  };
  for (const approval_class& ac : c.approval)
    // The channel may be the implicit default: say so, or the key puzzles.
    check(join("approval", ac.name) + ".channel", ac.channel,
          ac.channel == "approvals" ? " (the default for approval classes)" : "");
  for (const route& r : c.escalation) check(join("escalation", r.name) + ".channel", r.channel, "");
  for (std::size_t i = 0; i < c.statements.size(); ++i)
    check(at("holding_statement", i) + ".channel", c.statements[i].channel, "");
}

void check_statements(const config& c, diags& d) {
  std::map<std::string, std::size_t> keys;
  for (std::size_t i = 0; i < c.statements.size(); ++i) {
    const std::string& key = c.statements[i].key;
    if (key.empty()) continue;
    auto [it, fresh] = keys.emplace(key, i);
    if (!fresh)
      error(d, at("holding_statement", i) + ".key",
            "duplicate key " + quote(key) + " (also " + at("holding_statement", it->second) + ")");
  }
}

// Warnings: likely typos that do not break anything by themselves.
void check_unused(const config& c, const std::set<std::string>& used, diags& d) {
  for (std::size_t i = 0; i < c.people.size(); ++i) {
    const auto& roles = c.people[i].roles;
    for (std::size_t j = 0; j < roles.size(); ++j)
      // A malformed name was already reported as an error: no typo hint on top.
      if (!roles[j].empty() && !has_space_or_control(roles[j]) && !used.count(roles[j]))
        warning(d, at(at("people", i) + ".roles", j),
                "role " + quote(roles[j]) + " is used by nothing in the config (typo?)");
  }
  if (c.find_class("standard") == nullptr)
    warning(d, "approval", "no approval class \"standard\" (drafts without --class use it)");
}

}  // namespace

void cross_check(const config& c, std::vector<diagnostic>& out) {
  check_people(c, out);
  std::set<std::string> used = check_roles(c, out);
  check_escalation(c, out);
  check_channel_refs(c, out);
  check_statements(c, out);
  check_unused(c, used, out);
}

}  // namespace signoff::conf::detail
