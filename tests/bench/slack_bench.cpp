// Slack benchmark program (not a test): slash commands through the fake Slack
// (tests/fakes/fake_slack.hpp) to the real `signoff run`, every decision
// durable, and in the same run to a Bolt for JavaScript app that only acks
// (tests/bench/bolt/app.js). Prints one markdown table: acks/s and
// envelope->ack latency (as the fake measures it: envelope written -> ack
// read) at in-flight windows 1, 10 and 50, a paced open-loop run, resident
// memory, and `signoff audit verify` as evidence that every command was
// recorded.
//
//   signoff_bench_slack [--n N] [--quick] [--no-bolt] [--rate R] [--seconds S]
//                       [--signoff PATH] [--bolt-app PATH] [--node PATH] [--strict]
//
// --n N:        commands per window run (default 10,000)
// --quick:      300 commands per window, 1 s paced, no Bolt: a CI smoke run
//               (under 30 s, no Node needed)
// --no-bolt:    signoff only
// --rate R, --seconds S: the paced run (default 1,000 commands/s for 3 s)
// --signoff:    the signoff binary (default: the one this build made)
// --bolt-app:   tests/bench/bolt/app.js (its node_modules must be installed:
//               scripts/bench-slack.sh runs `npm ci`)
// --node:       the node executable (default: `node` on PATH)
// --strict:     exit 2 when a target is missed (correctness failures always
//               exit 1: a missing ack, an error reply, too few audit records)
//
// Both subjects share the machine with the fake and this driver, so the
// figures are for "everything on this box", the table says which box.
#include <signal.h>
#include <sqlite3.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iterator>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "fakes/fake_slack.hpp"
#include "storage/sqlite_store.hpp"
#include "support/http_get.hpp"
#include "support/process.hpp"
#include "support/sqlite_db.hpp"
#include "support/test_pki.hpp"

#ifndef SIGNOFF_BINARY
#define SIGNOFF_BINARY "signoff"
#endif
#ifndef SIGNOFF_SOURCE_DIR
#define SIGNOFF_SOURCE_DIR "."
#endif

namespace {

using namespace signoff::test;
using steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr const char* app_token_env = "SIGNOFF_BENCH_SLACK_APP_TOKEN";
constexpr const char* bot_token_env = "SIGNOFF_BENCH_SLACK_BOT_TOKEN";

// ---- options ----------------------------------------------------------------

struct options {
  std::size_t n = 10'000;
  std::size_t warmup = 500;
  bool quick = false;
  bool bolt = true;
  bool strict = false;
  double rate = 1000.0;
  double seconds = 3.0;
  std::string signoff = SIGNOFF_BINARY;
  std::string bolt_app = std::string(SIGNOFF_SOURCE_DIR) + "/tests/bench/bolt/app.js";
  std::string node;  // '' = search PATH
  // Audit records written before signoff starts (the memory target is for
  // a 1M-record log); 0 with --quick.
  std::size_t audit_rows = 1'000'000;
};

[[noreturn]] void usage(const std::string& problem) {
  if (!problem.empty()) fmt::print(stderr, "signoff_bench_slack: {}\n", problem);
  fmt::print(stderr,
             "usage: signoff_bench_slack [--n N] [--quick] [--no-bolt] [--rate R] [--seconds S]\n"
             "                           [--signoff PATH] [--bolt-app PATH] [--node PATH] [--strict]\n"
             "                           [--audit-rows N]  (records in the log before signoff starts)\n");
  std::exit(problem.empty() ? 0 : 64);
}

options parse_options(int argc, char** argv) {
  options o;
  auto value = [&](int& i) -> std::string {
    if (i + 1 >= argc) usage(std::string(argv[i]) + " needs a value");
    return argv[++i];
  };
  auto number = [&](int& i) -> double {
    const std::string name = argv[i], v = value(i);
    try {
      std::size_t used = 0;
      double d = std::stod(v, &used);
      if (used != v.size() || !(d > 0)) throw std::invalid_argument(v);
      return d;
    } catch (const std::exception&) {
      usage(name + " needs a positive number, not '" + v + "'");
    }
  };
  bool n_given = false, rows_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--n") {
      o.n = static_cast<std::size_t>(number(i));
      n_given = true;
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--audit-rows") {
      o.audit_rows = static_cast<std::size_t>(number(i));
      rows_given = true;
    } else if (a == "--no-bolt") {
      o.bolt = false;
    } else if (a == "--strict") {
      o.strict = true;
    } else if (a == "--rate") {
      o.rate = number(i);
    } else if (a == "--seconds") {
      o.seconds = number(i);
    } else if (a == "--signoff") {
      o.signoff = value(i);
    } else if (a == "--bolt-app") {
      o.bolt_app = value(i);
    } else if (a == "--node") {
      o.node = value(i);
    } else if (a == "--help" || a == "-h") {
      usage("");
    } else {
      usage("unknown option " + a);
    }
  }
  if (o.quick) {
    o.bolt = false;
    if (!n_given) o.n = 300;
    if (!rows_given) o.audit_rows = 0;
    o.warmup = 50;
    o.seconds = std::min(o.seconds, 1.0);
  }
  o.warmup = std::min(o.warmup, std::max<std::size_t>(o.n / 10, 10));
  return o;
}

// ---- the machine ------------------------------------------------------------

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("model name")) {
      auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "unknown";
}

std::string load_average() {
  std::istringstream in(first_line("/proc/loadavg"));
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string kernel() {
  utsname u{};
  if (::uname(&u) != 0) return "unknown";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

// User + system CPU seconds of `pid` so far, from /proc/<pid>/stat (fields
// 14 and 15, in clock ticks), or nullopt when unreadable.
std::optional<double> cpu_seconds_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// kB from "VmHWM:   1234 kB" in /proc/<pid>/status (0 when unreadable).
struct memory {
  long hwm_kb = 0, rss_kb = 0;
};
memory memory_of(pid_t pid) {
  memory m;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  auto kb = [](const std::string& l) { return std::atol(l.c_str() + l.find(':') + 1); };
  while (std::getline(in, line)) {
    if (line.starts_with("VmHWM:")) m.hwm_kb = kb(line);
    if (line.starts_with("VmRSS:")) m.rss_kb = kb(line);
  }
  return m;
}

// An executable named `name` on $PATH ('' when none).
std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream in(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string d;
  while (std::getline(in, d, ':')) {
    if (d.empty()) continue;
    fs::path p = fs::path(d) / name;
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return {};
}

std::string tail(const std::string& file, std::size_t max_bytes = 3000) {
  std::ifstream in(file, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s.size() > max_bytes ? "…" + s.substr(s.size() - max_bytes) : s;
}

// '…' inside single quotes for /bin/sh.
std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

// Runs argv with stdout and/or stderr appended to `log` ('' keeps the pipe):
// the subjects log per command, and a pipe nobody reads would stall them.
// exec keeps the pid, so /proc/<pid> and SIGTERM reach the subject itself.
std::vector<std::string> logged(const std::vector<std::string>& argv, const std::string& log,
                                bool stdout_too) {
  std::string redirect = stdout_too ? " >>" + sh_quote(log) + " 2>&1" : " 2>>" + sh_quote(log);
  std::vector<std::string> out = {"/bin/sh", "-c", "exec \"$0\" \"$@\"" + redirect};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::optional<long long> number_after(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (std::regex_search(text, m, std::regex(pattern))) return std::stoll(m[1].str());
  return std::nullopt;
}

// ---- the command mix --------------------------------------------------------

// People and channels of config/signoff.example.toml (signoff_config).
constexpr const char* alice = "U01ALICE";   // drafter
constexpr const char* bob = "U01BOB";       // approver
constexpr const char* carol = "U01CAROL";   // approver
constexpr const char* dave = "U01DAVE";     // legal
constexpr const char* frank = "U01FRANK";   // crisis-lead
constexpr const char* approvals = "C01APPROVALS";
constexpr const char* statements_channel = "C01STATEMENTS";

enum class kind { draft_new, approve, draft_show, hold_list, crisis_status, escalations };

struct slash {
  const char* user;
  const char* channel;
  std::string command, text;
  kind k;
};

// A realistic cycle of reads and writes: a third of the commands change
// state (/draft new, /approve), the rest are reads, which signoff records as
// durably as writes. /approve goes to a draft whose creation was already
// acked, each draft once, so every command should succeed.
class command_mix {
 public:
  slash next() {
    const std::size_t i = seq_++;
    switch (i % 6) {
      case 0:
        return {alice, approvals, "/draft", fmt::format("new --to linkedin,x Bench post {}: our quarterly update is live", i),
                kind::draft_new};
      case 1:
        return {frank, statements_channel, "/hold", "list", kind::hold_list};
      case 2:
        if (approved_ < drafts_) {
          ++approved_;
          return {bob, approvals, "/approve", fmt::format("D-{} looks good", approved_), kind::approve};
        }
        return {carol, approvals, "/crisis", "status", kind::crisis_status};
      case 3:
        return {carol, approvals, "/crisis", "status", kind::crisis_status};
      case 4:
        return {dave, approvals, "/escalations", "", kind::escalations};
      default:
        if (drafts_ > 0) return {alice, approvals, "/draft", "show D-1", kind::draft_show};
        return {frank, statements_channel, "/hold", "list", kind::hold_list};
    }
  }
  // An ack for a /draft new arrived with a success reply: one more draft exists.
  void draft_created() { ++drafts_; }

 private:
  std::size_t seq_ = 0;
  std::size_t drafts_ = 0, approved_ = 0;
};

// ---- measuring ----------------------------------------------------------------

struct measured {
  std::string subject, label;
  std::size_t sent = 0, acked = 0, errors = 0, refused = 0, late = 0, stray = 0;
  double seconds = 0;  // first send -> last ack
  double offered = 0;  // commands/s actually sent (paced run)
  std::optional<double> per_commit;  // signoff: commands per grouped durable commit
  std::optional<double> cpu_us;      // the subject's CPU time (user + system) per acked command
  std::vector<double> latency_ms;
  std::string first_error;

  double acks_per_s() const { return seconds > 0 ? static_cast<double>(acked) / seconds : 0; }
  double pct(double p) const {
    if (latency_ms.empty()) return 0;
    auto v = latency_ms;
    std::sort(v.begin(), v.end());
    auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(idx, v.size() - 1)];
  }
  double max() const {
    return latency_ms.empty() ? 0 : *std::max_element(latency_ms.begin(), latency_ms.end());
  }
};

std::string ack_text(const fake_slack::ack& a) {
  if (!a.payload) return {};
  if (a.payload->is_object()) {
    const auto& o = a.payload->as_object();
    if (auto it = o.find("text"); it != o.end() && it->value().is_string())
      return std::string(it->value().as_string());
  }
  return boost::json::serialize(*a.payload);
}

// Drives one subject: sends commands, collects acks and judges their replies.
class driver {
 public:
  driver(fake_slack& fake, std::string subject, bool judge_signoff_replies)
      : fake_(fake), subject_(std::move(subject)), signoff_(judge_signoff_replies) {}

  // N commands with at most `window` unacknowledged at any time.
  measured windowed(std::size_t window, std::size_t n, const std::string& label) {
    begin(label);
    const auto t0 = steady::now();
    while (r_.sent < n && r_.sent - r_.acked < window) send();
    while (r_.acked < n) {
      if (!receive(std::chrono::milliseconds(10'000))) break;  // counted as missing below
      while (r_.sent < n && r_.sent - r_.acked < window) send();
    }
    r_.seconds = std::chrono::duration<double>(last_ack_ - t0).count();
    return finish();
  }

  // Open loop: `rate` commands/s for `seconds`, sent on schedule whatever the
  // acks do; acks are collected between sends and at the end.
  measured paced(double rate, double seconds, const std::string& label) {
    begin(label);
    const auto total = static_cast<std::size_t>(rate * seconds);
    const auto interval = std::chrono::duration<double>(1.0 / rate);
    const auto t0 = steady::now();
    for (std::size_t i = 0; i < total; ++i) {
      const auto due = t0 + std::chrono::duration_cast<steady::duration>(interval * static_cast<double>(i));
      while (steady::now() < due) {
        if (!receive(std::chrono::milliseconds(0))) std::this_thread::sleep_until(std::min(due, steady::now() + std::chrono::microseconds(200)));
      }
      send();
    }
    const auto sent_at = steady::now();
    while (r_.acked < total && receive(std::chrono::milliseconds(10'000))) {
    }
    r_.seconds = std::chrono::duration<double>(last_ack_ - t0).count();
    r_.offered = static_cast<double>(total) / std::chrono::duration<double>(sent_at - t0).count();
    return finish();
  }

  std::size_t total_sent() const { return total_sent_; }

 private:
  void begin(const std::string& label) {
    r_ = measured{};
    r_.subject = subject_;
    r_.label = label;
    in_flight_.clear();
    last_ack_ = steady::now();
  }

  void send() {
    slash s = mix_.next();
    std::string id = fake_.slash_command(s.user, s.channel, s.command, s.text);
    in_flight_.emplace(std::move(id), s.k);
    ++r_.sent;
    ++total_sent_;
  }

  // One ack (false when none came within `timeout`).
  bool receive(std::chrono::milliseconds timeout) {
    auto a = fake_.next_ack(timeout);
    if (!a) return false;
    auto it = in_flight_.find(a->envelope_id);
    if (it == in_flight_.end()) {
      ++r_.stray;  // a straggler from an earlier run
      return true;
    }
    const kind k = it->second;
    in_flight_.erase(it);
    ++r_.acked;
    last_ack_ = steady::now();
    r_.latency_ms.push_back(std::chrono::duration<double, std::milli>(a->latency).count());
    if (a->late) ++r_.late;
    judge(*a, k);
    return true;
  }

  void judge(const fake_slack::ack& a, kind k) {
    const std::string text = ack_text(a);
    auto error = [&](const std::string& why) {
      ++r_.errors;
      if (r_.first_error.empty()) r_.first_error = why + ": " + text.substr(0, 200);
    };
    if (!a.payload) return error("ack without a reply payload");
    if (signoff_) {
      if (text.find("NOT RECORDED") != std::string::npos) return error("not recorded");
      if (text.starts_with("Denied: ") || text.starts_with("Invalid: ")) {
        ++r_.refused;  // recorded, but the mix meant every command to succeed
        if (r_.first_error.empty()) r_.first_error = "refused: " + text.substr(0, 200);
        return;
      }
    } else if (!text.starts_with("ok: ")) {
      return error("unexpected Bolt reply");
    }
    if (k == kind::draft_new) mix_.draft_created();
  }

  measured finish() {
    in_flight_.clear();
    return r_;
  }

  fake_slack& fake_;
  std::string subject_;
  bool signoff_;
  command_mix mix_;
  measured r_;
  std::unordered_map<std::string, kind> in_flight_;
  steady::time_point last_ack_;
  std::size_t total_sent_ = 0;
};

struct subject_report {
  std::string name;
  bool ran = false;
  std::string problem;  // why it did not run (or failed)
  std::vector<measured> runs;
  memory mem;
  std::string version;
  std::size_t sent = 0;
  std::string api_calls;  // Web API methods the subject called, with counts
  std::vector<std::string> protocol_errors;  // what the fake saw the subject do wrong on the link
  // signoff only
  std::optional<long long> audit_records, slack_records;
  bool verify_ok = false;
  std::string verify_line;
};

// `commits` returns the subject's count of durable commits so far (nullopt
// when it has none to tell).
void run_all(driver& d, const options& o, subject_report& rep,
             const std::function<std::optional<long long>()>& commits, pid_t pid) {
  d.windowed(10, o.warmup, "warm-up");  // not reported: first connections, page cache, JIT
  auto measure = [&](const std::function<measured()>& run) {
    const auto before = commits();
    const auto cpu_before = cpu_seconds_of(pid);
    measured m = run();
    const auto cpu_after = cpu_seconds_of(pid);
    const auto after = commits();
    if (before && after && *after > *before)
      m.per_commit = static_cast<double>(m.acked) / static_cast<double>(*after - *before);
    if (cpu_before && cpu_after && m.acked > 0)
      m.cpu_us = (*cpu_after - *cpu_before) * 1e6 / static_cast<double>(m.acked);
    rep.runs.push_back(std::move(m));
  };
  for (std::size_t w : {1u, 10u, 50u})
    measure([&] { return d.windowed(w, o.n, fmt::format("window {}", w)); });
  measure([&] { return d.paced(o.rate, o.seconds, fmt::format("paced {:.0f}/s", o.rate)); });
  rep.sent = d.total_sent();
}

// A counter from signoff's /metrics (Prometheus text).
std::optional<long long> metric(std::uint16_t port, const std::string& name) {
  if (port == 0) return std::nullopt;
  auto r = http_get(port, "/metrics");
  if (r.status != 200) return std::nullopt;
  return number_after(r.body, "(?:^|\\n)" + name + " (\\d+)");
}

// "apps.connections.open 1, auth.test 1, chat.postMessage 1234; Socket Mode
// links opened 1" (more than one link: the subject reconnected mid-run).
std::string api_summary(const fake_slack& fake) {
  std::map<std::string, std::size_t> n;
  for (const auto& c : fake.calls()) ++n[c.method];
  std::string out;
  for (const auto& [method, count] : n) out += (out.empty() ? "" : ", ") + method + " " + std::to_string(count);
  return (out.empty() ? "none" : out) + "; Socket Mode links opened " + std::to_string(fake.connections_opened());
}

// ---- signoff ----------------------------------------------------------------

// The shipped example config (people and channels already carry Slack IDs),
// with its database, health port and command limit swapped for the bench's
// and a [slack] section pointing at the fake.
std::string signoff_config(const std::string& db, const fake_slack& fake) {
  std::ifstream in(SIGNOFF_SOURCE_DIR "/config/signoff.example.toml");
  std::string t((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto swap = [&](std::string_view from, const std::string& to) {
    auto at = t.find(from);
    if (at == std::string::npos)
      throw std::runtime_error("config/signoff.example.toml no longer has `" + std::string(from) + "`");
    t.replace(at, from.size(), to);
  };
  swap(R"(path = "/var/lib/signoff/signoff.db")", fmt::format(R"(path = "{}")", db));
  swap(R"(listen = "127.0.0.1:9470")", R"(listen = "127.0.0.1:0")");
  swap(R"(commands_per_person = "60/1m")", R"(commands_per_person = "off")");
  t += fmt::format(R"toml(
[slack]
app_token_env = "{}"
bot_token_env = "{}"
api_base = "{}"
ca_file = "{}"
)toml",
                   app_token_env, bot_token_env, fake.api_base(), test_pki().ca_pem);
  return t;
}

// Stops a subject as its operator would (SIGTERM), SIGKILL after 15 s.
std::optional<int> stop(child& c) {
  ::kill(c.pid(), SIGTERM);
  auto st = c.wait_exit(std::chrono::milliseconds(15'000));
  if (!st) {
    ::kill(c.pid(), SIGKILL);
    st = c.wait_exit(std::chrono::milliseconds(5'000));
  }
  return st;
}

subject_report bench_signoff(const options& o) {
  subject_report rep;
  rep.name = "signoff";
  if (::access(o.signoff.c_str(), X_OK) != 0) {
    rep.problem = "no signoff binary at " + o.signoff;
    return rep;
  }
  auto v = run({o.signoff, "--version"});
  rep.version = v.status == 0 ? v.out.substr(0, v.out.find('\n')) : "?";

  fake_slack fake;
  temp_dir dir;
  const std::string db = dir.file("signoff.db"), log = dir.file("signoff.log");
  const std::string cfg = dir.write("signoff.toml", signoff_config(db, fake));
  ::setenv(app_token_env, fake_slack::options{}.app_token.c_str(), 1);
  ::setenv(bot_token_env, fake_slack::options{}.bot_token.c_str(), 1);

  if (auto check = run({o.signoff, "check-config", "--config", cfg}); check.status != 0) {
    rep.problem = "the benchmark's config was rejected:\n" + check.out + check.err;
    return rep;
  }
  if (o.audit_rows > 0) {
    // A log of that size, chained as signoff writes it, so `audit verify`
    // after the runs checks it whole.
    const auto t0 = steady::now();
    signoff::sqlite_store seed(db);
    signoff::write_transaction tx(seed);
    const auto at = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    for (std::size_t i = 0; i < o.audit_rows; ++i)
      seed.append_audit({signoff::platform::shell, "", "", "alice", "draft.show", "D-1", 1, signoff::outcome::ok,
                         R"({"raw":"/draft show D-1","os_user":"bench"})"},
                        at);
    tx.commit();
    fmt::print(stderr, "signoff_bench_slack: wrote {} audit records in {:.1f} s\n", o.audit_rows,
               std::chrono::duration<double>(steady::now() - t0).count());
  }

  child proc(logged({o.signoff, "run", "--config", cfg}, log, true));
  if (!fake.wait_connections(1, std::chrono::milliseconds(20'000))) {
    proc.wait_exit(std::chrono::milliseconds(100));
    rep.problem = "`signoff run` did not connect to the fake within 20 s" +
                  (proc.exited() ? " (it exited)" : std::string()) + "; its log:\n" + tail(log);
    return rep;
  }
  rep.ran = true;
  // [http] listen = 127.0.0.1:0: the log names the port it got.
  const auto port = static_cast<std::uint16_t>(number_after(tail(log, 1 << 20), R"(\(port (\d+)\))").value_or(0));
  driver d(fake, "signoff", true);
  run_all(d, o, rep, [&] { return metric(port, "signoff_slack_batches_total"); }, proc.pid());
  rep.mem = memory_of(proc.pid());
  rep.api_calls = api_summary(fake);
  rep.protocol_errors = fake.protocol_errors();

  auto st = stop(proc);
  if (!st || *st != 0)
    rep.problem = fmt::format("`signoff run` exit status {} after SIGTERM; log:\n{}",
                              st ? std::to_string(*st) : "none", tail(log));

  auto verify = run({o.signoff, "audit", "verify", "--db", db}, {}, std::chrono::milliseconds(120'000));
  rep.verify_ok = verify.status == 0;
  rep.verify_line = (verify.out + verify.err).substr(0, (verify.out + verify.err).find('\n'));
  rep.audit_records = number_after(verify.out, R"(OK, (\d+) records)");
  try {
    sqlite_db conn(db);
    // Command records only: posts (post.sent) are recorded by `system`.
    rep.slack_records = conn.integer("SELECT count(*) FROM audit_log WHERE platform = 'slack' AND actor <> 'system'");
  } catch (const std::exception& e) {
    if (rep.problem.empty()) rep.problem = std::string("reading the audit log: ") + e.what();
  }
  return rep;
}

// ---- Bolt ---------------------------------------------------------------------

std::string bolt_version(const std::string& app) {
  std::ifstream in(fs::path(app).parent_path() / "node_modules/@slack/bolt/package.json");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::system::error_code ec;
  auto v = boost::json::parse(s, ec);
  if (ec || !v.is_object()) return "?";
  const auto* ver = v.as_object().if_contains("version");
  return ver && ver->is_string() ? std::string(ver->as_string()) : "?";
}

// A Node.js subject next to the Bolt app: `script` is app.js (Bolt) or
// noop.js (acks only, the fake's ceiling).
subject_report bench_node(const options& o, const std::string& name, const std::string& script) {
  subject_report rep;
  rep.name = name;
  const std::string node = o.node.empty() ? on_path("node") : o.node;
  if (node.empty()) {
    rep.problem = "skipped: node is not on PATH (Bolt needs Node.js >= 20.18.1)";
    return rep;
  }
  if (!fs::exists(script)) {
    rep.problem = "skipped: no script at " + script;
    return rep;
  }
  if (!fs::exists(fs::path(o.bolt_app).parent_path() / "node_modules/@slack/bolt")) {
    rep.problem = "skipped: @slack/bolt is not installed next to " + o.bolt_app +
                  " (scripts/bench-slack.sh runs npm ci there)";
    return rep;
  }
  auto v = run({node, "--version"});
  rep.version = (script == o.bolt_app ? "@slack/bolt " + bolt_version(o.bolt_app)
                                      : "undici WebSocket, no Bolt (" + fs::path(script).filename().string() + ")") +
                ", node " + (v.status == 0 ? v.out.substr(0, v.out.find('\n')) : "?");

  fake_slack fake;
  temp_dir dir;
  const std::string log = dir.file("bolt.log");
  ::setenv("SLACK_APP_TOKEN", fake_slack::options{}.app_token.c_str(), 1);
  ::setenv("SLACK_BOT_TOKEN", fake_slack::options{}.bot_token.c_str(), 1);
  ::setenv("SLACK_API_URL", fake.api_base().c_str(), 1);
  ::setenv("NODE_EXTRA_CA_CERTS", test_pki().ca_pem.c_str(), 1);

  child proc(logged({node, script}, log, false));
  if (!proc.wait_for_stdout("ready", std::chrono::milliseconds(30'000)) ||
      !fake.wait_connections(1, std::chrono::milliseconds(5'000))) {
    rep.problem = "the Node app did not connect within 30 s; its stderr:\n" + tail(log) +
                  "\nstdout:\n" + proc.out();
    return rep;
  }
  rep.ran = true;
  driver d(fake, "bolt", false);
  run_all(d, o, rep, [] { return std::optional<long long>(); }, proc.pid());
  rep.mem = memory_of(proc.pid());
  rep.api_calls = api_summary(fake);
  rep.protocol_errors = fake.protocol_errors();
  auto st = stop(proc);
  if (!st || (*st != 0 && *st != 128 + SIGTERM))
    rep.problem = fmt::format("the Node app's exit status {}; stderr:\n{}", st ? std::to_string(*st) : "none",
                              tail(log));
  return rep;
}

// ---- report -------------------------------------------------------------------

const measured* find_run(const subject_report& s, const std::string& label) {
  for (const auto& r : s.runs)
    if (r.label == label) return &r;
  return nullptr;
}

std::string mb(long kb) { return fmt::format("{:.1f} MB", static_cast<double>(kb) / 1024.0); }

struct commit_latency {
  double p50_ms = 0, p99_ms = 0;
};

// `n` single-row transactions, each its own durable commit, in a WAL
// database with synchronous=FULL in $TMPDIR: what one fsync-bound commit
// costs on this disk, now.
commit_latency raw_commit_latency(int n) {
  temp_dir dir;
  sqlite3* h = nullptr;
  commit_latency out;
  if (sqlite3_open(dir.file("raw.db").c_str(), &h) != SQLITE_OK) return out;
  sqlite3_exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (x TEXT);", nullptr,
               nullptr, nullptr);
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto t0 = steady::now();
    sqlite3_exec(h, "BEGIN IMMEDIATE; INSERT INTO t VALUES ('a row of about this size'); COMMIT;", nullptr,
                 nullptr, nullptr);
    ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - t0).count());
  }
  sqlite3_close(h);
  std::sort(ms.begin(), ms.end());
  out.p50_ms = ms[ms.size() / 2];
  out.p99_ms = ms[static_cast<std::size_t>(0.99 * static_cast<double>(ms.size() - 1))];
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse_options(argc, argv);
  const std::string load_before = load_average();
  const auto started = steady::now();

  std::vector<subject_report> subjects;
  try {
    subjects.push_back(bench_signoff(o));
    const std::string noop = (fs::path(o.bolt_app).parent_path() / "noop.js").string();
    if (o.bolt) {
      subjects.push_back(bench_node(o, "Bolt for JavaScript", o.bolt_app));
      subjects.push_back(bench_node(o, "no-op acker", noop));
    } else {
      for (const char* name : {"Bolt for JavaScript", "no-op acker"}) {
        subject_report skipped;
        skipped.name = name;
        skipped.problem = "skipped (--no-bolt or --quick)";
        subjects.push_back(std::move(skipped));
      }
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "signoff_bench_slack: {}\n", e.what());
    return 1;
  }
  const auto& so = subjects[0];
  const auto& bolt = subjects[1];
  const auto& noop = subjects[2];
  // The disk's own figure, beside the commands' latency: single-row durable
  // commits (WAL, synchronous=FULL) on the same file system, in the same run.
  const auto disk = raw_commit_latency(1000);

  fmt::print("\n## Slack Socket Mode: slash command -> ack, through the fake Slack\n\n");
  fmt::print("machine: {} x {}, {}; load average {} before, {} after; {:.0f} s in all\n",
             std::thread::hardware_concurrency(), cpu_model(), kernel(), load_before, load_average(),
             std::chrono::duration<double>(steady::now() - started).count());
  fmt::print("commands: {} per window run after {} warm-up; mix per 6: /draft new, /hold list, /approve D-n "
             "(a draft already acked), /crisis status, /escalations, /draft show D-1\n",
             o.n, o.warmup);
  for (const auto& s : subjects)
    if (s.ran) fmt::print("{}: {}\n", s.name, s.version);
  fmt::print("latency: the fake's clock, envelope written -> ack read\n\n");

  fmt::print("| subject | run | sent | acked | acks/s | p50 ms | p99 ms | max ms | errors | refused | late (>3 s) | commands/commit | CPU µs/command |\n");
  fmt::print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  bool failed = false;
  for (const auto& s : subjects) {
    if (!s.ran) {
      fmt::print("| {} | not run | | | | | | | | | | | |\n", s.name);
      continue;
    }
    for (const auto& r : s.runs) {
      std::string label = r.label;
      if (r.offered > 0) label += fmt::format(" (sent {:.0f}/s)", r.offered);
      fmt::print("| {} | {} | {} | {} | {:.0f} | {:.3f} | {:.3f} | {:.3f} | {} | {} | {} | {} | {} |\n", s.name,
                 label, r.sent, r.acked, r.acks_per_s(), r.pct(0.50), r.pct(0.99), r.max(), r.errors,
                 r.refused, r.late, r.per_commit ? fmt::format("{:.1f}", *r.per_commit) : std::string("-"),
                 r.cpu_us ? fmt::format("{:.0f}", *r.cpu_us) : std::string("-"));
      if (r.acked < r.sent || r.errors > 0) failed = true;
    }
  }
  fmt::print("\n");
  for (const auto& s : subjects)
    if (s.ran)
      fmt::print("{}: resident memory after the runs VmHWM {}, VmRSS {}; Web API calls made: {}\n",
                 s.name, mb(s.mem.hwm_kb), mb(s.mem.rss_kb), s.api_calls);
  if (so.ran) {
    fmt::print("signoff audit verify: {}\n", so.verify_line);
    fmt::print("audit records of Slack commands: {} for {} commands sent\n",
               so.slack_records ? std::to_string(*so.slack_records) : "?", so.sent);
    if (!so.verify_ok || !so.slack_records || *so.slack_records < static_cast<long long>(so.sent))
      failed = true;
  }
  for (const auto& s : subjects) {
    if (s.protocol_errors.empty()) continue;
    failed = true;
    fmt::print("{}: {} Socket Mode protocol error(s), first: {}\n", s.name, s.protocol_errors.size(),
               s.protocol_errors.front());
  }
  for (const auto& s : subjects)
    if (!s.problem.empty()) fmt::print("{}: {}\n", s.name, s.problem);
  if (!so.ran || (!so.problem.empty())) failed = true;
  if (bolt.ran && !bolt.problem.empty()) failed = true;
  if (noop.ran && !noop.problem.empty()) failed = true;
  for (const auto& s : subjects)
    for (const auto& r : s.runs)
      if (!r.first_error.empty()) fmt::print("{} {}: first bad reply: {}\n", s.name, r.label, r.first_error);

  // Targets (issue "a lean durable command path"): >= 25k acks/s at window
  // 50, and >= 0.6 of the no-op acker's rate in the same run; <= 25 us of CPU
  // per command; p99 < 2 ms at 1,000/s offered, beside the disk's own
  // single-row commit p99; peak resident memory < 20 MB.
  bool missed = false;
  auto target = [&](bool ok, const std::string& line) {
    missed |= !ok;
    fmt::print("- {}: {}\n", line, ok ? "met" : "MISSED");
  };
  fmt::print("\ntargets:\n");
  const measured* s50 = so.ran ? find_run(so, "window 50") : nullptr;
  const measured* b50 = bolt.ran ? find_run(bolt, "window 50") : nullptr;
  const measured* n50 = noop.ran ? find_run(noop, "window 50") : nullptr;
  if (s50) {
    target(s50->acks_per_s() >= 25000, fmt::format("signoff acks/s at window 50: {:.0f}; target >= 25,000", s50->acks_per_s()));
    if (s50->cpu_us)
      target(*s50->cpu_us <= 25, fmt::format("signoff CPU per command at window 50 (group commit included): {:.0f} us; target <= 25 us", *s50->cpu_us));
  }
  if (s50 && n50 && n50->acks_per_s() > 0)
    target(s50->acks_per_s() / n50->acks_per_s() >= 0.6,
           fmt::format("signoff as a share of the no-op acker at window 50: {:.2f} ({:.0f} / {:.0f}); target >= 0.6",
                       s50->acks_per_s() / n50->acks_per_s(), s50->acks_per_s(), n50->acks_per_s()));
  else
    fmt::print("- signoff as a share of the no-op acker: not measured (needs Node.js)\n");
  if (s50 && b50 && b50->acks_per_s() > 0)
    fmt::print("- signoff / Bolt acks/s at window 50: {:.1f}x ({:.0f} / {:.0f})\n", s50->acks_per_s() / b50->acks_per_s(),
               s50->acks_per_s(), b50->acks_per_s());
  if (const measured* p = so.ran ? find_run(so, fmt::format("paced {:.0f}/s", o.rate)) : nullptr)
    target(p->pct(0.99) < 2.0, fmt::format("signoff p99 at {:.0f} commands/s offered: {:.3f} ms (the disk's single-row "
                                           "durable commit: p50 {:.3f} ms, p99 {:.3f} ms); target < 2 ms",
                                           o.rate, p->pct(0.99), disk.p50_ms, disk.p99_ms));
  if (so.ran)
    target(so.mem.hwm_kb > 0 && so.mem.hwm_kb < 20 * 1024,
           fmt::format("signoff peak resident memory: {} (audit log of {} records); target < 20 MB", mb(so.mem.hwm_kb),
                       so.audit_records ? std::to_string(*so.audit_records) : "?"));
  if (failed) {
    fmt::print("\nFAILED: a subject did not run, an ack is missing or carried an error, the fake saw a protocol error, or the audit log is short\n");
    return 1;
  }
  return (o.strict && missed) ? 2 : 0;
}
