#pragma once
#include <stdexcept>

namespace signoff {

// The database could not do what was asked (disk full, read-only, locked
// past the busy timeout, I/O error...). Whatever the transaction did is
// rolled back; the command is refused as "not recorded".
struct storage_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace signoff

namespace signoff {

// A stored row holds a value signoff cannot read back (edited by hand, or
// written by a build before the range checks). Not a storage failure: the
// database works, so one bad row fails only what touches it (recorded as
// `error`), and the scheduler skips it instead of stopping every timer.
struct corrupt_row : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace signoff
