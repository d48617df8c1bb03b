#include "bot/app/audit_cli.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <chrono>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

#include "bot/app/audit_open.hpp"
#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "storage/audit_log.hpp"

namespace signoff::app {
namespace {

constexpr std::string_view usage_text =
    "usage: signoff audit query  --db FILE [--subject S] [--actor P] [--action A] [--since T]\n"
    "                            [--until T] [--limit N] [--format table|csv|json] [--csv-safe]\n"
    "       signoff audit verify --db FILE\n"
    "       signoff audit export --db FILE --format jsonl|csv [--since T] [--csv-safe]\n"
    "T is an RFC 3339 time (2026-11-22T14:03:07Z) or a duration back from now (30s, 15m, 2h, 7d).\n"
    "query lists newest first (table by default); export streams every column, oldest first.\n"
    "verify checks the hash chain, that action, outcome and platform hold SPEC's values, and that\n"
    "the append-only triggers are in place; it exits 1 naming the first bad seq or trigger.\n"
    "--csv-safe (csv only): a field starting with = + - @ TAB or CR gets a leading ' so that a\n"
    "spreadsheet shows it as text instead of running it as a formula. Such fields then differ\n"
    "from the stored bytes: recompute hashes from CSV without --csv-safe (byte-exact) or jsonl.\n"
    "The database is opened read-only and never created, and no file is created beside it: with\n"
    "no -wal/-shm/-journal beside it, it is read as immutable; a -wal that cannot be read in\n"
    "place is read from a private copy in $TMPDIR, removed afterwards (a note on stderr says so).\n";

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using option_map = std::map<std::string, std::string, std::less<>>;

// `--name value` or `--name=value`; each option at most once, so a script
// that passes `--subject` twice gets an error, not a silently narrower query.
// `flags` take no value; they map to "" when given.
option_map parse_options(const std::vector<std::string>& args, const std::set<std::string_view>& allowed,
                         const std::set<std::string_view>& flags = {}) {
  option_map opts;
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (!a.starts_with("--")) throw usage_error("unexpected argument '" + without_controls(a) + "'");
    std::string name, value;
    if (flags.contains(a.substr(2))) {
      name = a.substr(2);
      if (!opts.emplace(name, value).second) throw usage_error("--" + name + " given twice");
      continue;
    }
    if (auto eq = a.find('='); eq != std::string_view::npos) {
      name = a.substr(2, eq - 2);
      value = a.substr(eq + 1);
      if (flags.contains(name)) throw usage_error("--" + name + " takes no value");
    } else {
      name = a.substr(2);
      if (!allowed.contains(name)) throw usage_error("unknown option --" + without_controls(name));
      if (i + 1 >= args.size()) throw usage_error("--" + name + " needs a value");
      value = args[++i];
    }
    if (!allowed.contains(name)) throw usage_error("unknown option --" + without_controls(name));
    if (!opts.emplace(name, value).second) throw usage_error("--" + name + " given twice");
  }
  return opts;
}

std::string get(const option_map& o, std::string_view name) {
  auto it = o.find(name);
  return it == o.end() ? std::string() : it->second;
}

std::string require(const option_map& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || it->second.empty()) throw usage_error("--" + std::string(name) + " is required");
  return it->second;
}

std::optional<time_point> time_option(const option_map& o, std::string_view name, time_point now) {
  auto it = o.find(name);
  if (it == o.end()) return std::nullopt;
  time_error why{};
  if (auto t = parse_time_or_ago(it->second, now, &why)) return t;
  throw usage_error("--" + std::string(name) + " " + quote_arg(it->second) + " " +
                    describe_time_error(why, true));
}

// How the database is opened without writing beside it: bot/app/audit_open.hpp.
std::unique_ptr<evidence_db> open_read_only(const std::string& path, std::ostream& err) {
  return evidence_db::open(path, err);
}

// After the reading: an immutable read of a file that changed meanwhile is
// refused (exit 2), whatever was printed.
int unchanged_or_fail(const evidence_db& ev, std::ostream& err) {
  if (auto why = ev.changed()) {
    err << "signoff audit: " << *why << '\n';
    return 2;
  }
  return 0;
}

// --- output formats: one function per format, shared by query and export ---

constexpr const char* csv_header =
    "seq,ts,platform,workspace,channel,actor,action,subject,revision,outcome,detail,prev_hash,hash";

// OWASP "CSV Injection": spreadsheets run a cell starting with = + - @ as a
// formula (some skip a leading TAB or CR first); a leading ' makes it text.
// Only with --csv-safe: the default CSV keeps every byte, so that hashes
// recompute from it.
bool formula_like(std::string_view f) {
  if (f.empty()) return false;
  switch (f.front()) {
    case '=': case '+': case '-': case '@': case '\t': case '\r':
      return true;
    default:
      return false;
  }
}

// RFC 4180: quote a field holding a comma, quote, CR or LF; double quotes.
void put_csv_field(std::ostream& out, std::string_view f, bool safe) {
  const bool prefix = safe && formula_like(f);
  if (f.find_first_of(",\"\r\n") == std::string_view::npos) {
    if (prefix) out << '\'';
    out << f;
    return;
  }
  out << '"';
  if (prefix) out << '\'';
  for (char c : f) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

// Integers go through the same rule: a forged row can hold a negative seq or
// revision ("-1" is a formula to a spreadsheet).
void put_csv_int(std::ostream& out, std::int64_t v, bool safe) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 24 bytes hold any int64
  put_csv_field(out, std::string_view(buf, static_cast<std::size_t>(end - buf)), safe);
}

void put_csv_row(std::ostream& out, const audit::record& r, bool safe) {
  put_csv_int(out, r.seq, safe);
  for (const std::string* f : {&r.ts, &r.platform, &r.workspace, &r.channel, &r.actor, &r.action,
                               &r.subject}) {
    out << ',';
    put_csv_field(out, *f, safe);
  }
  out << ',';
  if (r.revision) put_csv_int(out, *r.revision, safe);
  for (const std::string* f : {&r.outcome, &r.detail, &r.prev_hash, &r.hash}) {
    out << ',';
    put_csv_field(out, *f, safe);
  }
  out << "\r\n";  // RFC 4180 line break
}

// --csv-safe is refused with other formats rather than ignored: an auditor
// who asked for it expects its protection.
bool csv_safe_option(const option_map& o, std::string_view format) {
  if (!o.contains("csv-safe")) return false;
  if (format != "csv") throw usage_error("--csv-safe applies to --format csv only");
  return true;
}

// Every column; `detail` as the JSON object it holds, or as a string when it
// does not parse as one. CSV keeps detail's exact bytes (for recomputing
// hashes); JSON is for reading it.
boost::json::object to_json(const audit::record& r) {
  boost::json::object o;
  o["seq"] = r.seq;
  o["ts"] = r.ts;
  o["platform"] = r.platform;
  o["workspace"] = r.workspace;
  o["channel"] = r.channel;
  o["actor"] = r.actor;
  o["action"] = r.action;
  o["subject"] = r.subject;
  if (r.revision)
    o["revision"] = *r.revision;
  else
    o["revision"] = nullptr;
  o["outcome"] = r.outcome;
  boost::json::error_code ec;
  boost::json::value detail = boost::json::parse(r.detail, ec);
  if (!ec && detail.is_object())
    o["detail"] = std::move(detail);
  else
    o["detail"] = r.detail;
  o["prev_hash"] = r.prev_hash;
  o["hash"] = r.hash;
  return o;
}

// Columns for a person reading a terminal; hashes and workspace/channel are
// in csv/json. Control bytes (a tampered row could hold terminal escapes)
// are shown as '?'.
void put_table(std::ostream& out, const std::vector<audit::record>& rows) {
  if (rows.empty()) {
    out << "no matching records\n";
    return;
  }
  constexpr std::size_t n_cols = 9;
  const std::array<std::string, n_cols> head = {"seq",     "ts",       "platform",
                                                "actor",   "action",   "subject",
                                                "revision", "outcome", "detail"};
  std::vector<std::array<std::string, n_cols>> cells;
  cells.reserve(rows.size());
  std::array<std::size_t, n_cols> width{};
  for (std::size_t c = 0; c < n_cols; ++c) width[c] = head[c].size();
  for (const auto& r : rows) {
    auto& row = cells.emplace_back(std::array<std::string, n_cols>{
        std::to_string(r.seq), without_controls(r.ts), without_controls(r.platform),
        without_controls(r.actor), without_controls(r.action), without_controls(r.subject),
        r.revision ? std::to_string(*r.revision) : std::string("-"),
        without_controls(r.outcome), without_controls(r.detail)});
    for (std::size_t c = 0; c < n_cols; ++c) width[c] = std::max(width[c], code_points(row[c]));
  }
  auto put_row = [&](const std::array<std::string, n_cols>& row) {
    for (std::size_t c = 0; c < n_cols; ++c) {
      out << row[c];
      if (c + 1 < n_cols) out << std::string(width[c] - code_points(row[c]) + 2, ' ');
    }
    out << '\n';
  };
  put_row(head);
  for (const auto& row : cells) put_row(row);
}

// --- subcommands ---

int cmd_query(const option_map& o, std::ostream& out, std::ostream& err, time_point now) {
  audit::filter f;
  f.subject = get(o, "subject");
  f.actor = get(o, "actor");
  f.action = get(o, "action");
  f.since = time_option(o, "since", now);
  f.until = time_option(o, "until", now);
  if (auto it = o.find("limit"); it != o.end()) {
    std::int64_t n = 0;
    const auto& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || p != s.data() + s.size() || n <= 0)
      throw usage_error("--limit: expected a positive integer");
    f.limit = n;
  }
  std::string format = o.contains("format") ? get(o, "format") : "table";
  if (format != "table" && format != "csv" && format != "json")
    throw usage_error("--format: expected table, csv or json");
  const bool safe = csv_safe_option(o, format);
  const std::string path = require(o, "db");

  auto ev = open_read_only(path, err);
  auto& d = ev->db();
  if (format == "table") {
    put_table(out, audit::query(d, f));
  } else if (format == "csv") {
    out << csv_header << "\r\n";
    audit::for_each(d, f, [&](const audit::record& r) { put_csv_row(out, r, safe); });
  } else {
    // One array, one record per line: valid JSON that still greps well.
    const char* sep = "[\n";
    audit::for_each(d, f, [&](const audit::record& r) {
      out << sep << boost::json::serialize(to_json(r));
      sep = ",\n";
    });
    out << (std::string_view(sep) == "[\n" ? "[]\n" : "\n]\n");
  }
  out.flush();
  return unchanged_or_fail(*ev, err);
}

int cmd_export(const option_map& o, std::ostream& out, std::ostream& err, time_point now) {
  const std::string format = require(o, "format");
  if (format != "jsonl" && format != "csv") throw usage_error("--format: expected jsonl or csv");
  const bool safe = csv_safe_option(o, format);
  audit::filter f;
  f.since = time_option(o, "since", now);
  f.newest_first = false;
  const std::string path = require(o, "db");

  auto ev = open_read_only(path, err);
  auto& d = ev->db();
  if (format == "csv") {
    out << csv_header << "\r\n";
    audit::for_each(d, f, [&](const audit::record& r) { put_csv_row(out, r, safe); });
  } else {
    audit::for_each(d, f, [&](const audit::record& r) {
      out << boost::json::serialize(to_json(r)) << '\n';
    });
  }
  out.flush();
  return unchanged_or_fail(*ev, err);
}

int cmd_verify(const option_map& o, std::ostream& out, std::ostream& err) {
  const std::string path = require(o, "db");
  auto ev = open_read_only(path, err);
  auto& d = ev->db();
  const auto start = std::chrono::steady_clock::now();
  const auto res = audit::verify(d);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double rate = secs > 0 ? static_cast<double>(res.records) / secs : 0.0;
  // Before any verdict: a verdict on a file that changed under an immutable
  // read is no verdict.
  if (int rc = unchanged_or_fail(*ev, err)) return rc;
  if (!res.ok) {
    out << fmt::format("audit verify: {} records read in {:.3f} s ({:.0f} records/s)\n",
                       res.records, secs, rate);
    if (res.first_bad_seq != 0)
      err << fmt::format("audit verify: FAILED at seq {}: {}\n", res.first_bad_seq, res.problem);
    else
      out << fmt::format("the hash chain holds through seq {}, hash {}\n", res.records,
                         res.records > 0 ? res.last_hash : "-");
    for (const auto& p : res.schema_problems) err << "audit verify: FAILED: " << p << '\n';
    return 1;
  }
  out << fmt::format("audit verify: OK, {} records checked in {:.3f} s ({:.0f} records/s)\n",
                     res.records, secs, rate);
  if (res.records > 0) out << fmt::format("last record: seq {}, hash {}\n", res.records, res.last_hash);
  // A plain chain cannot see records cut off its end: say so, and give the
  // auditor the head to compare with a copy kept elsewhere.
  out << "note: records removed from the end of the log leave a valid shorter chain; compare the "
         "last seq and hash with an independent copy\n";
  return 0;
}

}  // namespace

int run_audit_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const std::string_view sub = args.empty() ? std::string_view() : std::string_view(args[0]);
  if (sub == "--help" || sub == "-h" || sub == "help") {
    out << usage_text;
    return 0;
  }
  try {
    const auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    if (sub == "query")
      return cmd_query(parse_options(args,
                                     {"db", "subject", "actor", "action", "since", "until", "limit",
                                      "format"},
                                     {"csv-safe"}),
                       out, err, now);
    if (sub == "verify") return cmd_verify(parse_options(args, {"db"}), out, err);
    if (sub == "export")
      return cmd_export(parse_options(args, {"db", "format", "since"}, {"csv-safe"}), out, err, now);
    throw usage_error(sub.empty() ? "missing subcommand"
                                  : "unknown subcommand '" + without_controls(sub) + "'");
  } catch (const usage_error& e) {
    err << "signoff audit: " << e.what() << '\n' << usage_text;
    return 2;
  } catch (const std::exception& e) {
    // store_error (cannot open, not a signoff database, I/O error) and the rest.
    err << "signoff audit: " << e.what() << '\n';
    return 2;
  }
}

}  // namespace signoff::app
