#pragma once
// `signoff audit query|verify|export` (SPEC "Command-line interface"): the
// auditors' read-only view of the audit log.
#include <iosfwd>
#include <string>
#include <vector>

namespace signoff::app {

// Runs `signoff audit <args>`; `args` is what follows `audit`, e.g.
// {"verify", "--db", "x.db"}. The database is always opened read-only, is
// never created, and no file is created beside it (how: audit_open.hpp).
// Results go to `out`; diagnostics, usage and a one-line note on how the
// database was opened (immutable, or through a private copy) to `err`.
// Returns the exit status: 0 ok, 1 verify found a broken chain, a value
// SPEC does not allow, or a missing or altered append-only trigger, 2 usage
// error, a database that cannot be opened or read, or one that changed
// under an immutable read.
int run_audit_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace signoff::app
