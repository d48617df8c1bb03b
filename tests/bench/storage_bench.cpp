// Storage benchmark program (not a test): durable decisions per second, audit
// verify throughput and subject-query latency on a temp database file.
//
//   signoff_bench_storage [--rows N] [--quick] [--dir DIR] [--keep]
//
// --rows N: size of the audit log for verify and query (default 1,000,000).
// --quick:  20,000 rows and fewer commits, so CI can check that it runs.
// --dir:    where the temp directory goes (default: the system temp dir);
//           the commit figures measure that directory's file system.
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bot/core/time.hpp"
#include "storage/audit_log.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite.hpp"

namespace {

using namespace signoff;
using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
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

bool cpu_flag(const std::string& flag) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("flags")) return (line + ' ').find(' ' + flag + ' ') != std::string::npos;
  }
  return false;
}

std::string fs_type(const fs::path& p) {
  struct statfs s {};
  if (statfs(p.c_str(), &s) != 0) return "unknown";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0xEF53: return "ext2/3/4";
    case 0x01021994: return "tmpfs (fsync is free: commit figures are not disk figures)";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x794c7630: return "overlayfs";
    default: return fmt::format("0x{:x}", static_cast<unsigned long>(s.f_type));
  }
}

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return in ? one : "unknown";
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

time_point bench_epoch() { return time_point{std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}}; }

// A decision as the approve handler records it: the approvals row and its
// audit record in one BEGIN IMMEDIATE transaction.
void decide(sql::db& d, sql::stmt& ins, std::int64_t i, time_point now) {
  ins.reset();
  // Not `"p" + std::to_string(i)`: g++ 12 -O3 raises a false -Wrestrict on it.
  std::string person = std::to_string(i);
  person.insert(0, 1, 'p');
  ins.bind(1, person).bind(2, format_rfc3339_ms(now)).run();
  audit::append(d,
                {.platform = platform::slack,
                 .workspace = "T0001",
                 .channel = "C0001",
                 .actor = "alice",
                 .action = "draft.approve",
                 .subject = "D-1",
                 .revision = 1,
                 .outcome = outcome::ok,
                 .detail = R"({"raw":"/approve D-1 fine by legal","note":"fine by legal",)"
                           R"("platform_user":"U0ALICE","envelope":"e-)" +
                           std::to_string(i) + "\"}"},
                now);
}

struct commit_figures {
  double per_s = 0, p50_ms = 0, p99_ms = 0;
};

commit_figures bench_commits(sql::db& d, int decisions, int per_commit, std::int64_t& next_id) {
  auto ins = d.prepare(
      "INSERT INTO approvals (draft_id, rev, stage, person, note, created_at) "
      "VALUES (1, 1, 'legal', ?, '', ?)");
  std::vector<double> lat;
  const auto start = clock_type::now();
  for (int done = 0; done < decisions; done += per_commit) {
    const auto t0 = clock_type::now();
    sql::transaction tx(d);
    for (int k = 0; k < per_commit; ++k, ++next_id)
      decide(d, ins, next_id, bench_epoch() + std::chrono::milliseconds{next_id});
    tx.commit();
    lat.push_back(seconds_since(t0) * 1e3);
  }
  const double secs = seconds_since(start);
  return {decisions / secs, percentile(lat, 0.5), percentile(lat, 0.99)};
}

// Realistic rows: mostly draft decisions spread over rows/50 drafts, some
// escalations, crises and subject-less records.
void build_log(sql::db& d, std::int64_t rows, std::int64_t drafts) {
  static const char* const actions[] = {"draft.new", "draft.approve", "draft.reject", "draft.edit",
                                        "draft.show"};
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> draft(1, drafts);
  sql::transaction tx(d);
  for (std::int64_t i = 1; i <= rows; ++i) {
    audit::entry e;
    e.platform = platform::slack;
    e.workspace = "T0001";
    e.channel = "C0001";
    e.actor = "bob";
    const auto kind = i % 10;
    if (kind < 8) {
      const auto k = draft(rng);
      e.action = actions[i % 5];
      e.subject = "D-" + std::to_string(k);
      e.revision = 1 + (i % 3);
      e.detail = R"({"raw":"/approve D-)" + std::to_string(k) +
                 R"( ok for EMEA","note":"ok for EMEA","platform_user":"U0BOB","envelope":"e-)" +
                 std::to_string(i) + "\"}";
    } else if (kind == 8) {
      e.action = "escalation.ack";
      e.subject = "E-" + std::to_string(i % 500 + 1);
      e.detail = R"({"raw":"/ack E-1","platform_user":"U0BOB"})";
    } else {
      e.action = "help";
      e.detail = R"({"raw":"/help","platform_user":"U0BOB"})";
    }
    e.outcome = outcome::ok;
    audit::append(d, e, bench_epoch() + std::chrono::milliseconds{i * 250});
  }
  tx.commit();
}

int usage() {
  fmt::print(stderr, "usage: signoff_bench_storage [--rows N] [--quick] [--dir DIR] [--keep]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t rows = 1'000'000;
  int decisions = 2000, grouped = 2048, queries = 1000;
  bool keep = false;
  fs::path base = fs::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      rows = 20'000;
      decisions = 200;
      grouped = 320;
    } else if (a == "--rows" && i + 1 < argc) {
      rows = std::atoll(argv[++i]);
      if (rows <= 0) return usage();
    } else if (a == "--dir" && i + 1 < argc) {
      base = argv[++i];
    } else if (a == "--keep") {
      keep = true;
    } else {
      return usage();
    }
  }

  std::string templ = (base / "signoff-bench-XXXXXX").string();
  if (!mkdtemp(templ.data())) {
    fmt::print(stderr, "cannot create a temp directory under {}\n", base.string());
    return 1;
  }
  const fs::path dir = templ;

  fmt::print("signoff storage benchmark\n");
  fmt::print("machine:  nproc {}, CPU {} (sha_ni: {})\n", std::thread::hardware_concurrency(),
             cpu_model(), cpu_flag("sha_ni") ? "yes" : "no");
  fmt::print("software: SQLite {}, {}\n", sqlite3_libversion(), OpenSSL_version(OPENSSL_VERSION));
  fmt::print("files:    {} ({})\n", dir.string(), fs_type(dir));
  fmt::print("load avg: {} at start (other processes share these cores)\n\n", load_average());

  int status = 0;
  try {
    // (a), (b): durable decisions, production connection settings.
    {
      sql::db d((dir / "decisions.db").string());
      sql::configure_rw(d, 5000);
      sql::migrate(d);
      d.exec(
          "INSERT INTO drafts (id, class, status, current_rev, created_by, created_at, status_by, "
          "status_at) VALUES (1, 'standard', 'pending', 1, 'carol', '2026-01-01T00:00:00.000Z', "
          "'carol', '2026-01-01T00:00:00.000Z')");
      std::int64_t next = 1;
      auto a = bench_commits(d, decisions, 1, next);
      fmt::print("(a) 1 decision per commit, WAL, synchronous=FULL, N={:<6} {:>10.0f} decisions/s"
                 "   (commit p50 {:.2f} ms, p99 {:.2f} ms)\n",
                 decisions, a.per_s, a.p50_ms, a.p99_ms);
      auto b = bench_commits(d, grouped, 32, next);
      fmt::print("(b) 32 decisions per commit, same settings, N={:<6} {:>10.0f} decisions/s"
                 "   (commit p50 {:.2f} ms, p99 {:.2f} ms)\n",
                 grouped, b.per_s, b.p50_ms, b.p99_ms);
      auto v = audit::verify(d);
      if (!v.ok) throw std::runtime_error("decision log does not verify: " + v.problem);
    }

    // The big log: filled in one transaction with synchronous=OFF (only the
    // fill; nothing measured below writes).
    const fs::path log_path = dir / "audit.db";
    const std::int64_t drafts = std::max<std::int64_t>(1, rows / 50);
    {
      sql::db d(log_path.string());
      d.exec("PRAGMA journal_mode=WAL");
      d.exec("PRAGMA synchronous=OFF");
      sql::migrate(d);
      const auto t0 = clock_type::now();
      build_log(d, rows, drafts);
      d.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      const double secs = seconds_since(t0);
      fmt::print("\nfill: {} records via audit::append in one transaction, synchronous=OFF while "
                 "filling: {:.1f} s ({:.0f} records/s), {:.0f} MB\n",
                 rows, secs, static_cast<double>(rows) / secs,
                 static_cast<double>(fs::file_size(log_path)) / 1e6);
    }

    // (c), (d): read-only, as `signoff audit` opens it.
    sql::db d(log_path.string(), sql::db::options{.read_only = true, .create = false});
    // Best and median of 3: the figure is CPU-bound, and on a shared 2-core
    // machine another process's burst lands in single runs. CPU time over
    // elapsed time shows how much the reader/checker threads overlapped.
    std::vector<double> rates;
    for (int run = 1; run <= 3; ++run) {
      const double cpu0 = process_cpu_seconds();
      const auto t0 = clock_type::now();
      auto v = audit::verify(d);
      const double secs = seconds_since(t0);
      const double cpu = process_cpu_seconds() - cpu0;
      if (!v.ok || v.records != rows) throw std::runtime_error("audit log does not verify: " + v.problem);
      rates.push_back(static_cast<double>(rows) / secs);
      fmt::print("(c) audit verify, {} records, run {}: {:.3f} s, {:>10.0f} records/s "
                 "(CPU {:.3f} s = {:.2f} cores; load avg {})\n",
                 rows, run, secs, rates.back(), cpu, cpu / secs, load_average());
    }
    std::sort(rates.begin(), rates.end());
    // The target is stated for a 1M-record log; a --quick run only shows
    // that the benchmark works.
    const char* verdict = rows < 1'000'000 ? "n/a below 1M records"
                          : rates[1] >= 1e6 ? "met"
                                            : "MISSED (median)";
    fmt::print("(c) audit verify: best {:.0f} records/s, median {:.0f} records/s   target >= "
               "1,000,000 on 1M records: {}\n",
               rates.back(), rates[1], verdict);

    std::mt19937_64 rng(7);
    std::uniform_int_distribution<std::int64_t> pick(1, drafts);
    std::vector<double> lat;
    lat.reserve(static_cast<std::size_t>(queries));
    std::size_t found = 0;
    for (int q = 0; q < queries; ++q) {
      audit::filter f;
      f.subject = "D-" + std::to_string(pick(rng));
      f.limit = 20;
      const auto t0 = clock_type::now();
      auto recs = audit::query(d, f);
      lat.push_back(seconds_since(t0) * 1e3);
      found += recs.size();
    }
    const double p50 = percentile(lat, 0.5), p99 = percentile(lat, 0.99);
    fmt::print("(d) subject query D-<k> of {} drafts, limit 20, newest first, {} queries: p50 {:.3f} "
               "ms, p99 {:.3f} ms, max {:.3f} ms (avg {:.1f} rows)   target < 5 ms: {}\n",
               drafts, queries, p50, p99, *std::max_element(lat.begin(), lat.end()),
               static_cast<double>(found) / queries, p99 < 5.0 ? "met" : "MISSED");
  } catch (const std::exception& e) {
    fmt::print(stderr, "benchmark failed: {}\n", e.what());
    status = 1;
  }
  if (keep) {
    fmt::print("kept {}\n", dir.string());
  } else {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return status;
}
