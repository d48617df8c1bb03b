#pragma once
// `signoff shell` (SPEC "Command-line interface"): loads the config, opens
// the database, and runs the command pipeline, the scheduler and the shell
// adapter (bot/adapters/shell.hpp) on one io_context.
#include <string>

namespace signoff {

struct shell_options {
  std::string config_path;
  std::string db_path;  // '' = [storage] path
  std::string as;       // '' = the first person in the config
  int in_fd = 0;        // standard input
  int out_fd = 1;       // standard output
  int err_fd = 2;       // standard error
};

// Reads commands until end of input; returns the process exit status
// (0 at end of input, 2 on a bad config or --as, 1 when the database cannot
// be opened).
int run_shell(const shell_options& o);

}  // namespace signoff
