#include "bot/app/shell.hpp"

#include <poll.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>

#include "bot/app/output.hpp"
#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "config/config.hpp"
#include "handlers/executor.hpp"
#include "storage/sqlite_store.hpp"

namespace signoff {

bool write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    auto n = ::write(fd, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

namespace {

time_point now_ms() { return clock_now(); }

std::string os_user_name() {
  if (const passwd* pw = getpwuid(geteuid()); pw && pw->pw_name) return pw->pw_name;
  if (const char* u = std::getenv("USER")) return u;
  return "uid:" + std::to_string(geteuid());
}

class shell_session {
 public:
  shell_session(const shell_options& o, const conf::config& cfg, sqlite_store& db, std::string as)
      : o_(o), cfg_(cfg), db_(db), exec_(cfg, db, {platform::shell}), as_(std::move(as)),
        os_user_(os_user_name()), tty_(isatty(o.in_fd) == 1) {}

  int run(const std::string& source) {
    try {
      exec_.record_config(false, source, now_ms());
    } catch (const std::exception& e) {
      err(std::string("signoff shell: cannot record config.load: ") + e.what() + "\n");
      return 1;
    }
    if (tty_)
      out("signoff " SIGNOFF_VERSION " shell: acting as " + as_ +
          " (prefix a line with @name to act as someone else; /help lists commands; Ctrl-D quits)\n");
    std::string buf;
    char chunk[4096];
    prompt();
    for (;;) {
      housekeeping();
      int timeout = poll_timeout();
      pollfd pfd{o_.in_fd, POLLIN, 0};
      int pr = ::poll(&pfd, 1, timeout);
      if (pr < 0 && errno != EINTR) break;
      if (pr <= 0) continue;
      auto n = ::read(o_.in_fd, chunk, sizeof chunk);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) break;  // end of input
      buf.append(chunk, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        if (!handle_line(line)) return 0;
      }
    }
    if (!buf.empty()) handle_line(buf);
    housekeeping();
    return 0;
  }

 private:
  void out(std::string_view s) {
    if (!write_all(o_.out_fd, s)) closed_ = true;
  }
  void err(std::string_view s) { write_all(o_.err_fd, s); }
  // One message (reply or post) as the terminal shows it: its first line at
  // column 0, every further line indented by two spaces, so text inside it
  // (a draft's lines, say) can never pass for a post or reply of its own.
  static std::string framed(std::string_view msg) {
    std::string out;
    out.reserve(msg.size() + 8);
    for (char c : msg) {
      out += c;
      if (c == '\n') out += "  ";
    }
    out += '\n';
    return out;
  }
  void prompt() {
    if (tty_) out("signoff> ");
  }

  // Returns false when output is gone and the session should end.
  bool handle_line(std::string line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto t = trim(line);
    if (t.empty() || t.front() == '#') {
      prompt();
      return !closed_;
    }
    incoming in;
    in.who.platform = platform::shell;
    in.who.os_user = os_user_;
    std::string person = as_;
    std::string cmd(t);
    // `@bob /approve D-1` acts as bob. The prefix ends at the first space or
    // tab (ASCII bytes, which never occur inside a multi-byte UTF-8
    // sequence), so it is read before, and whatever, the rest of the line
    // decodes to: a line that is not valid UTF-8 is still bob's, recorded as
    // raw_hex. A prefix that is itself not UTF-8 names nobody in the config.
    if (cmd.front() == '@') {
      auto sp = cmd.find_first_of(" \t");
      person = cmd.substr(1, sp == std::string::npos ? std::string::npos : sp - 1);
      if (!valid_utf8(person)) person = "0x" + to_hex(person);
      cmd = sp == std::string::npos ? std::string() : std::string(trim(std::string_view(cmd).substr(sp)));
    }
    in.who.platform_user = person;
    in.who.person = cfg_.find_person(person) ? person : std::string();
    in.line = cmd;
    auto ex = exec_.execute(in, now_ms());
    if (!ex.recorded)
      err("signoff shell: " + ex.action + " not recorded, database error: " + ex.error + "\n");
    out(framed(ex.reply));
    housekeeping();
    prompt();
    return !closed_;
  }

  // Fires due timers and prints what the outbox holds for the terminal.
  void housekeeping() {
    auto tick = exec_.run_due(now_ms());
    for (const auto& s : tick.skipped) err("signoff shell: timer row " + s + "\n");
    if (!tick.error.empty()) {
      err("signoff shell: timer actions postponed, database error: " + tick.error + "\n");
      retry_soon_ = true;
    }
    try {
      for (;;) {
        auto posts = db_.claim_posts(platform::shell, owner_, now_ms(), std::chrono::seconds(30), 64);
        if (posts.empty()) break;
        for (const auto& p : posts) {
          out((tty_ ? "\n" : "") + framed("[#" + p.platform_channel + "] " + p.text));
          exec_.record_delivery(p, !closed_, closed_ ? "standard output closed" : "stdout", now_ms());
        }
      }
    } catch (const std::exception& e) {
      err(std::string("signoff shell: outbox delivery postponed, database error: ") + e.what() + "\n");
      retry_soon_ = true;
    }
  }

  int poll_timeout() {
    if (retry_soon_) {
      retry_soon_ = false;
      return 1000;
    }
    std::optional<time_point> due;
    try {
      due = exec_.next_due();
    } catch (const std::exception&) {
      return 1000;
    }
    // Re-check at least every 30 s: another process may share the database.
    constexpr std::int64_t cap = 30000;
    if (!due) return static_cast<int>(cap);
    auto ms = (*due - now_ms()).count();
    if (ms < 0) ms = 0;
    return static_cast<int>(std::min<std::int64_t>(ms + 1, cap));
  }

  const shell_options& o_;
  const conf::config& cfg_;
  sqlite_store& db_;
  executor exec_;
  std::string as_, os_user_;
  // Identifies this process's outbox claims among others sharing the database.
  const std::string owner_ = "shell:" + std::to_string(::getpid()) + ":" +
                             std::to_string(now_ms().time_since_epoch().count());
  bool tty_;
  bool closed_ = false;
  bool retry_soon_ = false;
};

}  // namespace

int run_shell(const shell_options& o) {
  std::signal(SIGPIPE, SIG_IGN);
  auto loaded = conf::load_file(o.config_path);
  for (const auto& d : loaded.diagnostics) write_all(o.err_fd, conf::format(d) + "\n");
  if (!loaded.ok()) {
    write_all(o.err_fd, "signoff shell: refusing to start on an invalid config (" + o.config_path + ")\n");
    return 2;
  }
  const auto& cfg = *loaded.cfg;
  std::string as = o.as.empty() ? (cfg.people.empty() ? "" : cfg.people.front().id) : o.as;
  if (!cfg.find_person(as)) {
    write_all(o.err_fd, "signoff shell: --as '" + as + "' is not a person in " + o.config_path + "\n");
    return 2;
  }
  std::string path = o.db_path.empty() ? cfg.storage.path : o.db_path;
  try {
    sqlite_store db(path, sqlite_store::options{static_cast<int>(cfg.storage.busy_timeout.count()), nullptr});
    if (auto w = db.permission_warning(); !w.empty())
      write_all(o.err_fd, "signoff shell: warning: " + w + "\n");
    shell_session s(o, cfg, db, as);
    return s.run(o.config_path);
  } catch (const std::exception& e) {
    write_all(o.err_fd, std::string("signoff shell: ") + e.what() + "\n");
    return 1;
  }
}

}  // namespace signoff
