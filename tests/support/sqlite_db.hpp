#pragma once
// A small read/write handle on a signoff database for tests, over the SQLite
// C API directly (not signoff's wrapper), so tests check what any SQLite
// client would see.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace signoff::test {

class sqlite_db {
 public:
  using row = std::vector<std::optional<std::string>>;

  // Opens an existing file read-write (never creates one).
  explicit sqlite_db(const std::string& path, int busy_timeout_ms = 5000);
  ~sqlite_db();
  sqlite_db(const sqlite_db&) = delete;
  sqlite_db& operator=(const sqlite_db&) = delete;

  sqlite3* handle() const { return h_; }

  // Runs one or more statements; throws with SQLite's message on failure.
  void exec(const std::string& sql);
  // exec without throwing: SQLite's result code.
  int try_exec(const std::string& sql, std::string* error = nullptr);
  // All rows of one statement, each column as text (nullopt for NULL).
  // `?` parameters are bound in order as text.
  std::vector<row> rows(const std::string& sql, const std::vector<std::string>& params = {});
  // The first column of the first row as an integer (0 when no row / NULL).
  std::int64_t integer(const std::string& sql, const std::vector<std::string>& params = {});
  // The first column of the first row as text (nullopt when no row / NULL).
  std::optional<std::string> text(const std::string& sql, const std::vector<std::string>& params = {});

 private:
  sqlite3* h_ = nullptr;
};

}  // namespace signoff::test
