#include "bot/app/cli.hpp"

#include <iostream>

#include "bot/app/audit_cli.hpp"
#include "bot/app/run.hpp"
#include "bot/app/shell.hpp"
#include "config/config.hpp"

namespace signoff {
namespace {

constexpr const char* usage_text =
    "usage:\n"
    "  signoff run    --config FILE\n"
    "  signoff shell  --config FILE [--db FILE] [--as PERSON]\n"
    "  signoff check-config --config FILE\n"
    "  signoff audit query  --db FILE [--subject S] [--actor P] [--action A] [--since T] "
    "[--until T] [--limit N] [--format table|csv|json]\n"
    "  signoff audit verify --db FILE [--checkpoint FILE --key VKEY]\n"
    "  signoff audit export --db FILE --format jsonl|csv [--since T]\n"
    "  signoff audit prove  --db FILE --seq S [--size N]\n"
    "  signoff audit key    --config FILE\n"
    "  signoff --version\n";

int usage(const std::string& problem) {
  std::cerr << "signoff: " << problem << "\n" << usage_text;
  return 2;
}

// Parses `--name value` pairs, accepting only `allowed`.
bool parse_flags(const std::vector<std::string>& args, std::size_t from,
                 const std::vector<std::string>& allowed, std::vector<std::pair<std::string, std::string>>& out,
                 std::string& problem) {
  for (std::size_t i = from; i < args.size(); ++i) {
    const auto& a = args[i];
    bool ok = false;
    for (const auto& name : allowed) ok = ok || a == "--" + name;
    if (!ok) {
      problem = "unknown argument '" + a + "'";
      return false;
    }
    if (i + 1 >= args.size()) {
      problem = a + " needs a value";
      return false;
    }
    out.emplace_back(a.substr(2), args[++i]);
  }
  return true;
}

std::string flag(const std::vector<std::pair<std::string, std::string>>& f, const std::string& name) {
  for (const auto& [k, v] : f)
    if (k == name) return v;
  return {};
}

int check_config(const std::string& path) {
  auto r = conf::load_file(path);
  std::size_t errors = 0, warnings = 0;
  for (const auto& d : r.diagnostics) {
    std::cerr << conf::format(d) << "\n";
    ++(d.warning ? warnings : errors);
  }
  if (!r.ok()) {
    std::cerr << path << ": " << errors << " error(s), " << warnings << " warning(s)\n";
    return 1;
  }
  const auto& c = *r.cfg;
  std::cout << path << ": OK (" << c.people.size() << " people, " << c.approval.size()
            << " approval classes, " << c.escalation.size() << " escalation routes, "
            << c.statements.size() << " holding statements; " << warnings
            << " warning(s); sha256 " << c.sha256 << ")\n";
  return 0;
}

}  // namespace

int run_cli(const std::vector<std::string>& args) {
  if (args.empty()) return usage("missing command");
  const auto& cmd = args[0];
  if (cmd == "--version" || cmd == "version") {
    std::cout << "signoff " SIGNOFF_VERSION "\n";
    return 0;
  }
  if (cmd == "--help" || cmd == "help") {
    std::cout << usage_text;
    return 0;
  }
  if (cmd == "audit") {
    std::vector<std::string> rest(args.begin() + 1, args.end());
    return app::run_audit_cli(rest, std::cout, std::cerr);
  }
  std::vector<std::pair<std::string, std::string>> f;
  std::string problem;
  if (cmd == "check-config") {
    if (!parse_flags(args, 1, {"config"}, f, problem)) return usage(problem);
    if (flag(f, "config").empty()) return usage("check-config needs --config FILE");
    return check_config(flag(f, "config"));
  }
  if (cmd == "shell") {
    if (!parse_flags(args, 1, {"config", "db", "as"}, f, problem)) return usage(problem);
    if (flag(f, "config").empty()) return usage("shell needs --config FILE");
    shell_options o;
    o.config_path = flag(f, "config");
    o.db_path = flag(f, "db");
    o.as = flag(f, "as");
    return run_shell(o);
  }
  if (cmd == "run") {
    if (!parse_flags(args, 1, {"config"}, f, problem)) return usage(problem);
    if (flag(f, "config").empty()) return usage("run needs --config FILE");
    return run_service(flag(f, "config"));
  }
  return usage("unknown command '" + cmd + "'");
}

}  // namespace signoff
