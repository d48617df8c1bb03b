#pragma once
// The hash-chained audit log (SPEC "Audit store"): append, hash, query,
// verify. Operates on an open sql::db; the caller owns transactions.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bot/core/merkle.hpp"
#include "bot/core/types.hpp"
#include "storage/audit_types.hpp"
#include "storage/sqlite.hpp"

namespace signoff::audit {


// SHA-256 hex over seq, ts, platform, workspace, channel, actor, action,
// subject, revision (decimal or empty), outcome, detail, prev_hash joined by
// 0x1F — exactly SPEC's definition.
std::string chain_hash(const record& r);

// Appends one record inside the caller's write transaction: seq = last + 1,
// ts = max(now, last ts) so ts never decreases, prev_hash = last hash.
// Bytes below 0x20 in columns other than detail are replaced by '?'.
// With `tail`, the last record is taken from it when known (else read once)
// and `tail` is set to the new record.
record append(sql::db& d, const entry& e, time_point now, chain_tail* tail = nullptr);


// Matching records, newest first unless filter.newest_first is false.
std::vector<record> query(sql::db& d, const filter& f);
// Streams matching records (order per filter) without holding them all.
// `fn` sees one record object reused between calls: copy what it keeps.
void for_each(sql::db& d, const filter& f, const std::function<void(const record&)>& fn);

struct verify_result {
  bool ok = true;                // the chain holds AND schema_problems is empty
  std::int64_t records = 0;      // rows checked (through the first bad one)
  std::int64_t first_bad_seq = 0;  // 0 when the chain holds (the triggers may still be bad)
  std::string problem;           // what is wrong at first_bad_seq
  std::string last_hash;         // when the chain holds: hash of the last record ('' when empty)
  // One line per append-only trigger (audit_log_no_update, audit_log_no_delete)
  // that is missing, on another table or not the schema's refusing
  // statement, each naming the trigger. Checked whatever the chain's state.
  std::vector<std::string> schema_problems;
  // SPEC "Signed checkpoints": the RFC 6962 root of the first N records for
  // each N in verify_options::roots_at that the chain holds through (N past
  // the first bad record, or past the log's end, is absent).
  std::map<std::int64_t, merkle::hash> roots;
};

struct verify_options {
  std::vector<std::int64_t> roots_at;  // tree sizes whose roots to report
};

// Recomputes the whole chain in seq order: seq must run 1,2,3… without gaps,
// prev_hash must equal the previous hash (64 zeros for seq 1), hash must match
// chain_hash, ts must not decrease (and be `YYYY-MM-DDTHH:MM:SS.mmmZ`), no
// column but detail may hold bytes below 0x20 (that keeps the 0x1F join
// unambiguous), and action, outcome and platform must be values SPEC lists
// (storage/audit_values.hpp). Stops at the first bad record. Reads in one
// transaction, so appends by another connection meanwhile are not seen
// half-way.
//
// Also checks that the append-only triggers exist on audit_log as
// storage/schema.cpp creates them (their SQL compared after normalising case
// and whitespace outside string literals); see schema_problems.
//
// Limits: records cut off the END leave a shorter chain that is still valid,
// so verify cannot see them; compare `last_hash` and `records` with a copy
// kept elsewhere (signed checkpoints are planned to close this gap). The
// trigger check shows the file's schema now: someone who dropped a trigger,
// rewrote records and the chain, then re-created the trigger (or wrote with
// triggers disabled on their own connection) leaves nothing it can see.
//
// With `opt.roots_at`, the records also form the Merkle tree (leaf data: the
// 32 bytes of each record's hash), hashed on the checking thread alongside
// the chain.
verify_result verify(sql::db& d, const verify_options& opt = {});

// The RFC 6962 leaf hashes of records 1..size, in seq order (for inclusion
// proofs). Throws corrupt_row when a record is missing or its hash is not
// 64 hex digits.
std::vector<merkle::hash> leaf_hashes(sql::db& d, std::int64_t size);

}  // namespace signoff::audit
