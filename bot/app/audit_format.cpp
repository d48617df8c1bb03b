#include "bot/app/audit_format.hpp"

#include <boost/json/parse.hpp>

#include <charconv>
#include <ostream>
#include <string>
#include <string_view>

namespace signoff::app {
namespace {

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

}  // namespace

const char* const csv_header =
    "seq,ts,platform,workspace,channel,actor,action,subject,revision,outcome,detail,prev_hash,hash";

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

}  // namespace signoff::app
