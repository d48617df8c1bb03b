#include "bot/app/audit_cli.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <fstream>
#include <sstream>
#include <chrono>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

#include "bot/app/audit_format.hpp"
#include "bot/app/audit_open.hpp"
#include "bot/app/signing.hpp"
#include "bot/core/merkle.hpp"
#include "bot/core/note.hpp"
#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "storage/audit_log.hpp"

namespace signoff::app {
namespace {

constexpr std::string_view usage_text =
    "usage: signoff audit query  --db FILE [--subject S] [--actor P] [--action A] [--since T]\n"
    "                            [--until T] [--limit N] [--format table|csv|json] [--csv-safe]\n"
    "       signoff audit verify --db FILE [--checkpoint FILE --key VKEY]\n"
    "       signoff audit export --db FILE --format jsonl|csv [--since T] [--csv-safe]\n"
    "       signoff audit prove  --db FILE --seq S [--size N]\n"
    "       signoff audit key    --config FILE\n"
    "T is an RFC 3339 time (2026-11-22T14:03:07Z) or a duration back from now (30s, 15m, 2h, 7d).\n"
    "query lists newest first (table by default); export streams every column, oldest first.\n"
    "verify checks the hash chain, that action, outcome and platform hold SPEC's values, and that\n"
    "the append-only triggers are in place, and that every checkpoint stored in the database\n"
    "matches the log; it exits 1 naming the first bad seq, trigger or checkpoint.\n"
    "--checkpoint FILE --key VKEY: also check a signed checkpoint kept outside the database (a\n"
    "copy of its chat post will do): its signature by VKEY, then that the first N records hash\n"
    "to its root, so a log cut short or rewritten after it fails. --key alone checks the\n"
    "signatures of the stored checkpoints. VKEY is `signoff audit key`'s output (or @FILE).\n"
    "prove prints one JSON object: record S, its RFC 9162 inclusion proof in the tree of N\n"
    "records (default: the newest stored checkpoint that holds S, else the whole log) and that\n"
    "checkpoint's signed note (null when none of size N is stored).\n"
    "key prints the verifier key of [audit] signing_key_file (or signing_key_env).\n"
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

// --csv-safe is refused with other formats rather than ignored: an auditor
// who asked for it expects its protection.
bool csv_safe_option(const option_map& o, std::string_view format) {
  if (!o.contains("csv-safe")) return false;
  if (format != "csv") throw usage_error("--csv-safe applies to --format csv only");
  return true;
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

// --- checkpoints ---

// VKEY as given, or read from @FILE (or from a file of that name when the
// text is not a key: auditors keep keys in files).
note::verifier verifier_option(const std::string& given) {
  std::string text = given;
  std::string why;
  const bool at_file = given.starts_with('@');
  if (at_file || (!note::verifier::parse(given, nullptr) && std::ifstream(given).good())) {
    std::ifstream in(at_file ? given.substr(1) : given, std::ios::binary);
    if (!in) throw usage_error("--key: cannot read " + without_controls(given.substr(at_file ? 1 : 0)));
    std::ostringstream ss;
    ss << in.rdbuf();
    text = std::string(trim(ss.str()));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  }
  auto v = note::verifier::parse(text, &why);
  if (!v) throw usage_error("--key: not a verifier key (" + why + "); `signoff audit key --config FILE` prints it");
  return std::move(*v);
}

// The signed notes in `file_text` for key name `origin`, as a copy of their
// posts holds them (a chat export, the shell's output, a mail): each from a
// line that is the origin (a post has a line of explanation before it)
// through its signature lines, each line without the spaces around it (the
// shell indents posts; a note's lines never start or end with one) and
// ending in LF (CRLF from a mail client).
std::vector<std::string> find_notes(std::string_view file_text, const std::string& origin) {
  std::vector<std::string> lines;
  for (std::size_t pos = 0; pos < file_text.size();) {
    auto nl = file_text.find('\n', pos);
    if (nl == std::string_view::npos) nl = file_text.size();
    std::string_view line = file_text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(trim(line));
    pos = nl + 1;
  }
  std::vector<std::string> notes;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] != origin) continue;
    // The text runs to the first blank line; signature lines follow it.
    std::string note;
    std::size_t j = i;
    for (; j < lines.size() && !lines[j].empty(); ++j) note += lines[j] + "\n";
    if (j >= lines.size()) continue;
    note += "\n";
    std::size_t sigs = 0;
    for (++j; j < lines.size() && lines[j].starts_with("\u2014 "); ++j, ++sigs) note += lines[j] + "\n";
    if (sigs == 0) continue;
    notes.push_back(std::move(note));
    i = j - 1;
  }
  return notes;
}

// A stored checkpoint's note text without its signatures (C2SP signed-note:
// the text ends at the last blank line before the signature lines).
std::optional<note::checkpoint> unsigned_checkpoint(std::string_view signed_note, std::string* why) {
  const auto split = signed_note.rfind("\n\n");
  if (split == std::string_view::npos) {
    *why = "no signature block";
    return std::nullopt;
  }
  return note::parse_checkpoint(signed_note.substr(0, split + 1), why);
}

struct stored_row {
  std::int64_t size = 0;
  std::string root_hash, note;
};

// Table `checkpoints` (migration 7); none in an older database.
std::vector<stored_row> stored_checkpoints(sql::db& d) {
  std::vector<stored_row> out;
  auto t = d.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'");
  t.step();
  if (t.i64(0) == 0) return out;
  auto s = d.prepare("SELECT size, root_hash, note FROM checkpoints ORDER BY size");
  while (s.step()) out.push_back({s.i64(0), s.text(1), s.text(2)});
  return out;
}

std::string b64(const merkle::hash& h) { return note::base64(h); }

int cmd_verify(const option_map& o, std::ostream& out, std::ostream& err) {
  const std::string path = require(o, "db");
  std::optional<note::verifier> key;
  if (o.contains("key")) key = verifier_option(require(o, "key"));
  // The kept checkpoints are checked before the database is opened: a bad
  // signature is a verdict of its own.
  struct kept {
    note::checkpoint cp;
    std::string name;
  };
  std::vector<kept> external;
  if (o.contains("checkpoint")) {
    const std::string file = require(o, "checkpoint");
    if (!key) throw usage_error("--checkpoint needs --key VKEY (the verifier key: signoff audit key)");
    const std::string file_name = without_controls(file);
    std::ifstream in(file, std::ios::binary);
    if (!in) throw usage_error("--checkpoint: cannot read " + file_name);
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string file_text = ss.str();
    const auto notes = find_notes(file_text, key->name());
    if (notes.empty()) {
      err << "audit verify: FAILED: checkpoint " << file_name << ": it holds no signed checkpoint of "
          << key->name() << " (no line \"" << key->name() << "\" followed by a blank line and a signature)\n";
      return 1;
    }
    for (std::size_t i = 0; i < notes.size(); ++i) {
      const std::string name =
          "checkpoint " + file_name + (notes.size() > 1 ? " #" + std::to_string(i + 1) : std::string());
      std::string why;
      std::optional<note::checkpoint> cp;
      if (auto body = note::open(notes[i], *key, &why)) {
        cp = note::parse_checkpoint(*body, &why);
        if (!cp)
          why = "not a checkpoint: " + why;
        else if (cp->origin != key->name())
          why = "its origin " + quote_arg(cp->origin) + " is not the key's name " + key->name();
      }
      if (!why.empty()) {
        err << "audit verify: FAILED: " << name << ": " << why << '\n';
        return 1;
      }
      external.push_back({*cp, name + fmt::format(" (size {}, root {})", cp->size, b64(cp->root))});
    }
  }
  auto ev = open_read_only(path, err);
  auto& d = ev->db();
  const auto start = std::chrono::steady_clock::now();
  const auto stored = stored_checkpoints(d);
  audit::verify_options opt;
  for (const auto& c : stored) opt.roots_at.push_back(c.size);
  // The audit.checkpoint records name the tree they were signed over: a
  // second witness inside the chain, which survives the checkpoints table
  // being emptied.
  struct claim {
    std::int64_t seq = 0, size = 0;
    std::string root_hash;
  };
  std::vector<claim> claims;
  {
    auto q = d.prepare(
        "SELECT seq, CASE WHEN json_valid(detail) THEN json_extract(detail, '$.size') END, "
        "CASE WHEN json_valid(detail) THEN json_extract(detail, '$.root_hash') END "
        "FROM audit_log WHERE action = 'audit.checkpoint' ORDER BY seq");
    while (q.step()) {
      claims.push_back({q.i64(0), q.is_null(1) ? -1 : q.i64(1), q.text(2)});
      if (claims.back().size >= 0) opt.roots_at.push_back(claims.back().size);
    }
  }
  for (const auto& k : external) opt.roots_at.push_back(static_cast<std::int64_t>(k.cp.size));
  const auto res = audit::verify(d, opt);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double rate = secs > 0 ? static_cast<double>(res.records) / secs : 0.0;
  // Before any verdict: a verdict on a file that changed under an immutable
  // read is no verdict.
  if (int rc = unchanged_or_fail(*ev, err)) return rc;
  // Each checkpoint against the tree: present when the chain holds through
  // its size, absent when the log ends before it or breaks first.
  std::vector<std::string> failures, passes;
  auto against_tree = [&](const std::string& name, std::int64_t size, const merkle::hash& root) {
    auto it = res.roots.find(size);
    if (it != res.roots.end()) {
      if (it->second == root) return true;
      failures.push_back(name + ": the first " + std::to_string(size) +
                         " records do not hash to its root (they hash to " + b64(it->second) +
                         "): the log was rewritten");
    } else if (res.first_bad_seq != 0 && res.first_bad_seq <= size) {
      failures.push_back(name + ": cannot be checked: the chain breaks at seq " + std::to_string(res.first_bad_seq) +
                         " first");
    } else {
      failures.push_back(name + ": the log has only " + std::to_string(res.records) + " records but the checkpoint covers " +
                         std::to_string(size) + ": records were removed from its end");
    }
    return false;
  };
  for (const auto& c : claims) {
    const std::string name = "the audit.checkpoint record at seq " + std::to_string(c.seq);
    const auto raw = note::unbase64(c.root_hash);
    if (c.size < 0 || c.size >= c.seq || !raw || raw->size() != 32) {
      failures.push_back(name + ": its detail does not name a tree size below it and a root_hash");
      continue;
    }
    merkle::hash root{};
    std::copy(raw->begin(), raw->end(), root.begin());
    against_tree(name + " (size " + std::to_string(c.size) + ")", c.size, root);
  }
  for (const auto& c : stored) {
    const std::string name = "stored checkpoint of size " + std::to_string(c.size);
    std::string why;
    std::optional<note::checkpoint> cp;
    if (key) {
      if (auto body = note::open(c.note, *key, &why)) cp = note::parse_checkpoint(*body, &why);
    } else {
      cp = unsigned_checkpoint(c.note, &why);
    }
    if (!cp) {
      failures.push_back(name + ": its note " + why);
      continue;
    }
    if (cp->size != static_cast<std::uint64_t>(c.size) || b64(cp->root) != c.root_hash) {
      failures.push_back(name + ": its note (size " + std::to_string(cp->size) + ", root " + b64(cp->root) +
                         ") differs from its size and root_hash columns");
      continue;
    }
    against_tree(name, c.size, cp->root);
  }
  std::int64_t witnessed = 0;
  for (const auto& k : external) {
    const auto size = static_cast<std::int64_t>(k.cp.size);
    if (!against_tree(k.name, size, k.cp.root)) continue;
    passes.push_back(k.name + ": signed by " + key->verifier_key() + ", and the first " + std::to_string(size) +
                     " records hash to its root");
    witnessed = std::max(witnessed, size);
  }
  if (!failures.empty()) {
    if (res.ok)
      out << fmt::format("audit verify: the hash chain holds: {} records in {:.3f} s ({:.0f} records/s)\n",
                         res.records, secs, rate);
    else
      out << fmt::format("audit verify: {} records read in {:.3f} s ({:.0f} records/s)\n", res.records, secs, rate);
    if (res.first_bad_seq != 0)
      err << fmt::format("audit verify: FAILED at seq {}: {}\n", res.first_bad_seq, res.problem);
    for (const auto& p : res.schema_problems) err << "audit verify: FAILED: " << p << '\n';
    for (const auto& f : failures) err << "audit verify: FAILED: " << f << '\n';
    return 1;
  }
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
  for (const auto& p : passes) out << p << '\n';
  if (!stored.empty())
    out << fmt::format("{} stored checkpoint(s) match the log{}; the newest covers seq 1..{}\n", stored.size(),
                       key ? " and are signed by the key" : "", stored.back().size);
  // Records after the newest checkpoint someone kept are witnessed by
  // nothing outside the file: say so, and give the auditor the head.
  if (witnessed > 0)
    out << fmt::format("note: records after seq {} are not covered by the checkpoint(s) given: check them against a "
                       "newer one\n", witnessed);
  else
    out << "note: records removed from the end of the log leave a valid shorter chain; check a signed "
           "checkpoint kept outside the database (--checkpoint FILE --key VKEY), or compare the last seq "
           "and hash with an independent copy\n";
  return 0;
}

int cmd_prove(const option_map& o, std::ostream& out, std::ostream& err) {
  const std::string path = require(o, "db");
  auto positive = [](const option_map& m, std::string_view name) {
    const std::string v = require(m, name);
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || p != v.data() + v.size() || n <= 0)
      throw usage_error("--" + std::string(name) + ": expected a positive integer");
    return n;
  };
  const std::int64_t seq = positive(o, "seq");
  std::optional<std::int64_t> size;
  if (o.contains("size")) size = positive(o, "size");

  auto ev = open_read_only(path, err);
  auto& d = ev->db();
  std::int64_t total = 0;
  {
    auto s = d.prepare("SELECT coalesce(max(seq), 0) FROM audit_log");
    s.step();
    total = s.i64(0);
  }
  if (seq > total) throw usage_error("--seq " + std::to_string(seq) + ": the log has " + std::to_string(total) + " records");
  const auto stored = stored_checkpoints(d);
  if (!size) {
    for (const auto& c : stored)
      if (c.size >= seq && c.size <= total) size = c.size;
    if (!size) {
      size = total;
      err << "audit prove: no stored checkpoint holds seq " << seq << " yet: proving against the whole log ("
          << total << " records), which no signature witnesses\n";
    }
  }
  if (*size < seq || *size > total)
    throw usage_error("--size " + std::to_string(*size) + ": must be at least --seq (" + std::to_string(seq) +
                      ") and at most the log's " + std::to_string(total) + " records");
  const auto leaves = audit::leaf_hashes(d, *size);
  merkle::hasher h;
  merkle::compact_range range;
  for (const auto& l : leaves) range.append(l, h);
  const auto root = range.root(h);
  const auto proof = merkle::inclusion_proof(static_cast<std::uint64_t>(seq - 1), leaves, h);
  audit::filter f;
  f.seq = seq;
  const auto rows = audit::query(d, f);
  if (rows.empty()) throw std::runtime_error("record " + std::to_string(seq) + " vanished while reading");
  const stored_row* cp = nullptr;
  for (const auto& c : stored)
    if (c.size == *size) cp = &c;
  if (int rc = unchanged_or_fail(*ev, err)) return rc;
  if (cp && cp->root_hash != b64(root)) {
    err << "audit prove: FAILED: the first " << *size << " records hash to " << b64(root)
        << ", not to the root of the stored checkpoint of that size (" << cp->root_hash
        << "): the log was rewritten; run signoff audit verify\n";
    return 1;
  }
  boost::json::object j;
  j["seq"] = seq;
  j["leaf_index"] = seq - 1;
  j["tree_size"] = *size;
  j["leaf_hash"] = b64(leaves[static_cast<std::size_t>(seq - 1)]);
  j["root_hash"] = b64(root);
  boost::json::array p;
  for (const auto& x : proof) p.emplace_back(b64(x));
  j["proof"] = std::move(p);
  j["record"] = to_json(rows.front());
  if (cp)
    j["checkpoint"] = cp->note;
  else
    j["checkpoint"] = nullptr;
  out << boost::json::serialize(j) << '\n';
  out.flush();
  return 0;
}

int cmd_key(const option_map& o, std::ostream& out, std::ostream& err) {
  const std::string config_path = require(o, "config");
  auto loaded = conf::load_file(config_path);
  for (const auto& dg : loaded.diagnostics)
    if (!dg.warning) err << conf::format(dg) << '\n';
  if (!loaded.ok()) {
    err << "signoff audit: " << config_path << " is not a valid config\n";
    return 2;
  }
  if (!loaded.cfg->audit) {
    err << "signoff audit: " << config_path << " has no [audit] section (signing_key_file, origin)\n";
    return 2;
  }
  std::string problem;
  auto key = load_signer(*loaded.cfg, problem);
  if (!key) {
    err << "signoff audit: cannot load the audit signing key: " << problem << '\n';
    return 2;
  }
  out << key->verifier_key() << '\n';
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
    if (sub == "verify") return cmd_verify(parse_options(args, {"db", "checkpoint", "key"}), out, err);
    if (sub == "prove") return cmd_prove(parse_options(args, {"db", "seq", "size"}), out, err);
    if (sub == "key") return cmd_key(parse_options(args, {"config"}), out, err);
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
