#pragma once
// `signoff audit query|verify|export` (SPEC "Command-line interface"): the
// auditors' read-only view of the audit log.
#include <iosfwd>
#include <string>
#include <vector>

namespace signoff::app {

// Runs `signoff audit <args>`; `args` is what follows `audit`, e.g.
// {"verify", "--db", "x.db"}. The database is always opened read-only and is
// never created. Results go to `out`, diagnostics and usage to `err`.
// Returns the exit status: 0 ok, 1 verify found a broken chain, 2 usage
// error or a database that cannot be opened or read.
int run_audit_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace signoff::app
