#pragma once
// Thin RAII wrapper over the SQLite C API. Every failure throws store_error,
// whose message names the SQLite error (never a bound value, which may be a
// secret or user text).
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>
#include <string_view>

#include "storage/errors.hpp"

namespace signoff::sql {

// Thrown on any SQLite failure. `code` is the extended SQLite result code.
struct store_error : storage_failure {
  int code;
  store_error(int c, const std::string& what) : storage_failure(what), code(c) {}
};

class stmt;

class db {
 public:
  struct options {
    bool read_only = false;
    bool create = true;
    const char* vfs = nullptr;  // tests inject faults through a shim VFS
  };
  db(const std::string& path, options opt);
  db(const std::string& path) : db(path, options{}) {}
  ~db();
  db(const db&) = delete;
  db& operator=(const db&) = delete;

  void exec(const char* sql);
  stmt prepare(std::string_view sql);
  std::int64_t last_insert_rowid() const noexcept;
  int changes() const noexcept;
  sqlite3* handle() const noexcept { return h_; }
  [[noreturn]] void fail(int rc, std::string_view what) const;

 private:
  friend class stmt;
  sqlite3* h_ = nullptr;
  // Prepared statements kept for reuse, by SQL text: preparing costs more
  // than running most of our statements, and the hot path (one command ->
  // about ten statements) repeats the same few.
  mutable std::unordered_map<std::string, std::vector<sqlite3_stmt*>> cache_;
};

class stmt {
 public:
  stmt(const db& d, std::string_view sql);
  ~stmt();
  stmt(stmt&& o) noexcept : d_(o.d_), s_(o.s_), home_(o.home_) { o.s_ = nullptr; }
  stmt(const stmt&) = delete;
  stmt& operator=(const stmt&) = delete;

  // Binding is 1-based, as in SQLite.
  stmt& bind(int i, std::int64_t v);
  stmt& bind(int i, std::string_view v);
  stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  stmt& bind(int i, std::nullopt_t);
  template <class T>
  stmt& bind(int i, const std::optional<T>& v) { return v ? bind(i, *v) : bind(i, std::nullopt); }

  bool step();  // true: a row is ready; false: done
  void run() { while (step()) {} }
  void reset();

  std::int64_t i64(int col) const;
  std::string text(int col) const;  // '' for NULL
  std::string_view view(int col) const;  // valid until the next step()
  bool is_null(int col) const;
  int type(int col) const;  // SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL
  std::optional<std::int64_t> opt_i64(int col) const;
  std::optional<std::string> opt_text(int col) const;

 private:
  const db& d_;
  sqlite3_stmt* s_ = nullptr;
  std::vector<sqlite3_stmt*>* home_ = nullptr;  // the cache slot it returns to
};

// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless committed.
class transaction {
 public:
  explicit transaction(db& d);
  ~transaction();
  void commit();
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

 private:
  db& d_;
  bool done_ = false;
};

}  // namespace signoff::sql
