#pragma once
// The audit log's export formats (SPEC "Command-line interface": `audit
// export --format jsonl|csv`), shared by the CLI and the audit console's
// export, so both give the same bytes for the same records.
#include <boost/json/object.hpp>

#include <iosfwd>

#include "storage/audit_types.hpp"

namespace signoff::app {

// The CSV header line (without its CRLF).
extern const char* const csv_header;
// One record as an RFC 4180 row, CRLF-terminated. With `safe`, a field
// starting with = + - @ TAB or CR gets a leading ' (OWASP "CSV Injection"):
// the default keeps every byte, so hashes recompute from it.
void put_csv_row(std::ostream& out, const audit::record& r, bool safe);
// Every column; `detail` as the JSON object it holds, or as a string when it
// does not parse as one (the form of one `--format jsonl` line).
boost::json::object to_json(const audit::record& r);

}  // namespace signoff::app
