// Checks that need more than one key in view: references between sections,
// duplicates, and roles that nobody holds or nothing uses. Runs on the
// structs the loader filled; empty values were already reported there.
#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "config/confusables.hpp"
#include "config/config.hpp"
#include "config/internal.hpp"

namespace signoff::conf::detail {
namespace {

using diags = std::vector<diagnostic>;

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// "a", "a and b", "a, b and c".
std::string and_list(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

std::string ascii_lower(std::string s) {
  for (char& ch : s)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return s;
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

// Ids that differ only in case or by look-alike letters are legal (ids match
// exactly everywhere), but `@Bob` for `bob`, or a Cyrillic о in `bоb`, makes
// the audit log and the shell easy to misread: a warning on the later one.
void check_look_alike_ids(const config& c, diags& d) {
  std::set<std::string> ids;
  std::map<std::string, std::size_t> folded, shaped;  // skeleton -> first person with it
  for (std::size_t i = 0; i < c.people.size(); ++i) {
    const std::string& id = c.people[i].id;
    // Malformed ids are errors already; an exact duplicate is check_people's error.
    if (id.empty() || has_space_or_control(id) || !ids.insert(id).second) continue;
    auto fold = folded.emplace(skeleton(id, capital_i::as_i), i);
    auto shape = shaped.emplace(skeleton(id, capital_i::as_l), i);
    // A skeleton seen before belongs to an earlier, different id (same ids were skipped).
    std::size_t j = std::numeric_limits<std::size_t>::max();
    if (!fold.second) j = fold.first->second;
    if (!shape.second) j = std::min(j, shape.first->second);
    if (j == std::numeric_limits<std::size_t>::max()) continue;
    const std::string& other = c.people[j].id;
    std::string message = "person id " + quote(id);
    if (ascii_lower(id) == ascii_lower(other)) {
      message += " differs from " + quote(other) + " of " + at("people", j) + " only in case";
    } else {
      message += " looks like " + quote(other) + " of " + at("people", j);
      std::vector<std::string> odd;
      for (const std::string* text : {&id, &other})
        for (char32_t cp : non_ascii(*text)) {
          char buf[16];
          std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
          if (!contains(odd, buf)) odd.push_back(buf);
        }
      if (!odd.empty()) message += " (non-ASCII " + and_list(odd) + ")";
    }
    warning(d, at("people", i) + ".id", message + "; easy to mistake for one another");
  }
}

// SPEC "Drafts": a stage needs `count` distinct approvers who hold one of its
// roles, and one person never satisfies two stages of the same revision. So a
// class can be approved only if distinct people can fill every stage's slots
// at once: a bipartite matching between stage slots and people. Each stage
// passing on its own is not enough (two stages whose roles only erin holds).
//
// `eligible[k]` lists the people (indices into `ids`, in config order) who
// hold a role of stage k; `skip[k]` marks a stage already reported as never
// met, left out here so that its error is not repeated. Stages are filled in
// config order by augmenting paths (Kuhn's algorithm, a stage taking `count`
// people); when a slot cannot be filled, the stages the failed search reached
// need more people than hold their roles (Hall's condition), and they are
// what the error names.
void check_approvable(const approval_class& ac, const std::vector<std::vector<std::size_t>>& eligible,
                      const std::vector<bool>& skip, const std::vector<std::string>& ids, diags& d) {
  constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> owner(ids.size(), none);  // person -> the stage they fill
  std::vector<bool> seen(ids.size());
  // Finds a person for one more slot of stage k, moving others along an
  // alternating path. Depth is bounded by the number of people.
  auto augment = [&](auto& self, std::size_t k) -> bool {
    for (std::size_t p : eligible[k]) {
      if (seen[p] || owner[p] == k) continue;
      seen[p] = true;
      if (owner[p] == none || self(self, owner[p])) {
        owner[p] = k;
        return true;
      }
    }
    return false;
  };
  for (std::size_t k = 0; k < ac.stages.size(); ++k) {
    if (skip[k]) continue;
    for (int slot = 0; slot < ac.stages[k].count; ++slot) {
      seen.assign(ids.size(), false);
      if (augment(augment, k)) continue;

      std::vector<bool> in_set(ac.stages.size());
      in_set[k] = true;
      for (std::size_t p = 0; p < ids.size(); ++p)
        if (seen[p] && owner[p] != none) in_set[owner[p]] = true;
      std::vector<bool> holds(ids.size());
      std::vector<std::string> stages;
      long long needed = 0;
      for (std::size_t t = 0; t < ac.stages.size(); ++t) {
        if (!in_set[t]) continue;
        const stage& st = ac.stages[t];
        needed += st.count;
        stages.push_back((st.name.empty() ? at("stages", t) : quote(st.name)) +
                         (st.count > 1 ? " (count " + std::to_string(st.count) + ")" : ""));
        for (std::size_t p : eligible[t]) holds[p] = true;
      }
      std::vector<std::string> people;
      for (std::size_t p = 0; p < ids.size(); ++p)
        if (holds[p]) people.push_back(quote(ids[p]));
      std::string who = people.empty()        ? "no one holds"
                        : people.size() > 10  ? "only " + std::to_string(people.size()) + " people hold"
                        : people.size() == 1  ? "only " + people[0] + " holds"
                                              : "only " + and_list(people) + " hold";
      error(d, join("approval", ac.name),
            (stages.size() == 1 ? "stage " : "stages ") + and_list(stages) + " need" +
                (stages.size() == 1 ? "s " : " ") + std::to_string(needed) + " distinct approver" +
                (needed == 1 ? "" : "s") + " but " + who +
                " their roles; one person never signs two stages of a revision, so the class could never be "
                "approved");
      return;  // one explanation per class
    }
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
  // Distinct person ids in config order: a duplicate id is one approver (and an error).
  std::vector<std::string> ids;
  std::map<std::string, std::size_t> node;
  for (const person& p : c.people)
    if (!p.id.empty() && node.emplace(p.id, ids.size()).second) ids.push_back(p.id);

  for (const approval_class& ac : c.approval) {
    std::set<std::string> stage_names;
    std::vector<std::vector<std::size_t>> eligible(ac.stages.size());
    std::vector<bool> never_met(ac.stages.size());
    for (std::size_t k = 0; k < ac.stages.size(); ++k) {
      const stage& s = ac.stages[k];
      std::string path = at(join("approval", ac.name) + ".stages", k);
      if (!s.name.empty() && !stage_names.insert(s.name).second)
        error(d, path + ".name", "duplicate stage name " + quote(s.name) + " in this class");
      // People who could approve this stage: its count must be reachable.
      std::set<std::string> approvers;
      for (const person& p : c.people)
        for (const std::string& r : p.roles)
          if (!r.empty() && contains(s.roles, r)) {
            approvers.insert(p.id);
            auto it = node.find(p.id);
            if (it != node.end() && !std::count(eligible[k].begin(), eligible[k].end(), it->second))
              eligible[k].push_back(it->second);
          }
      // Both errors below say "could never be met": the class check leaves the stage out.
      // (eligible is smaller only when a person's id is missing, itself an error.)
      never_met[k] = approvers.empty() || static_cast<std::size_t>(s.count) > approvers.size() ||
                     static_cast<std::size_t>(s.count) > eligible[k].size();
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
    check_approvable(ac, eligible, never_met, ids, d);
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
  // Checkpoints are posted so that copies live beyond the database holder's
  // reach: without the channel they are still signed and stored, but a
  // default that names nothing is worth a warning, not a refusal.
  if (c.audit && c.find_channel(c.audit->channel) == nullptr) {
    if (c.audit->channel == "audit")
      warning(d, "audit.channel",
              "channel \"audit\" (the default) is not in [channels]: checkpoints will be signed and "
              "stored but posted nowhere");
    else
      check("audit.channel", c.audit->channel, "");
  }
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
  check_look_alike_ids(c, out);
  std::set<std::string> used = check_roles(c, out);
  check_escalation(c, out);
  check_channel_refs(c, out);
  check_statements(c, out);
  check_unused(c, used, out);
}

}  // namespace signoff::conf::detail
