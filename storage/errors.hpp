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
