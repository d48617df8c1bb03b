#pragma once
#include <string_view>

namespace signoff {

// Writes all of `s` to `fd`, retrying on EINTR and short writes. Returns
// false when the descriptor is closed (EPIPE) or fails.
bool write_all(int fd, std::string_view s);

}  // namespace signoff
