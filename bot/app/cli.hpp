#pragma once
#include <string>
#include <vector>

namespace signoff {

// `signoff ARGS...` (argv without the program name); returns the exit status.
int run_cli(const std::vector<std::string>& args);

}  // namespace signoff
