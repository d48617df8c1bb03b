#pragma once
// What a config reload changes (SPEC "Configuration", SIGHUP): a pure
// comparison of the running config with a newly loaded one, the config a
// reload applies (restart-only sections kept from the running one), and the
// summary a `config.reload` record carries. No I/O.
#include <boost/json/object.hpp>

#include <string>
#include <vector>

#include "config/config.hpp"

namespace signoff::conf {

// Names (class, route or channel keys) in the new file's order; removed ones
// in the old file's order.
struct named_changes {
  std::vector<std::string> added, removed, changed;
  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

struct person_change {
  std::string id;
  std::vector<std::string> roles_added, roles_removed;  // as sets: reordering is no change
  std::vector<std::string> platform_ids;                // "slack", "discord", "mattermost" whose ID changed
  bool name = false;                                    // the display name changed
};

struct statement_version {
  std::string key;
  int version = 1;
};

struct statement_change {
  std::string key;
  int from_version = 1, to_version = 1;  // equal when the text changed without a new version
};

struct config_diff {
  std::vector<std::string> people_added, people_removed;
  std::vector<person_change> people_changed;
  std::vector<std::string> roles;  // [roles] permissions whose role list changed, in name order
  named_changes approval, escalation, channels;
  std::vector<statement_version> statements_added, statements_removed;
  std::vector<statement_change> statements_changed;
  std::vector<std::string> limits;  // "limits.max_text", "limits.commands_per_person"
  // Keys that take a restart and differ: "storage.path", "http.listen",
  // "slack.api_base", "slack" (the section added or removed), ... Not applied.
  std::vector<std::string> ignored;
  // True when nothing that a reload applies changed (ignored keys aside).
  bool empty() const;
};

// Compares `before` (running) with `after` (the new file).
config_diff diff(const config& before, const config& after);

// What a reload puts in force: `after`, but with the sections that take a
// restart ([storage], [http], [slack], [discord], [mattermost]) as in
// `running`, so nothing in the process ever sees a value it does not use.
config reloadable_part(const config& running, config after);

// detail.changes of a config.reload record: only what changed, e.g.
// {"people":{"added":["carol"],"changed":[{"id":"bob","roles_added":["legal"]}]},
//  "holding_statements":{"changed":[{"key":"breach","from_version":2,"to_version":3}]}}.
boost::json::object to_json(const config_diff& d);

// One line for the log: "people +carol ~bob; roles approve; holding
// statements ~breach v2->v3", or "no changes".
std::string summary(const config_diff& d);

}  // namespace signoff::conf
