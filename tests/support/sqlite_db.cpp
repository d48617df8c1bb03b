#include "support/sqlite_db.hpp"

#include <stdexcept>

namespace signoff::test {

sqlite_db::sqlite_db(const std::string& path, int busy_timeout_ms) {
  int rc = sqlite3_open_v2(path.c_str(), &h_, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = h_ ? sqlite3_errmsg(h_) : sqlite3_errstr(rc);
    sqlite3_close(h_);
    h_ = nullptr;
    throw std::runtime_error("cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(h_, busy_timeout_ms);
}

sqlite_db::~sqlite_db() { sqlite3_close_v2(h_); }

int sqlite_db::try_exec(const std::string& sql, std::string* error) {
  char* msg = nullptr;
  int rc = sqlite3_exec(h_, sql.c_str(), nullptr, nullptr, &msg);
  if (error) *error = msg ? msg : "";
  sqlite3_free(msg);
  return rc;
}

void sqlite_db::exec(const std::string& sql) {
  std::string err;
  if (try_exec(sql, &err) != SQLITE_OK) throw std::runtime_error("sqlite: " + err + " in: " + sql);
}

std::vector<sqlite_db::row> sqlite_db::rows(const std::string& sql, const std::vector<std::string>& params) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
    throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(h_) + " in: " + sql);
  for (std::size_t i = 0; i < params.size(); ++i)
    sqlite3_bind_text(st, static_cast<int>(i + 1), params[i].data(), static_cast<int>(params[i].size()),
                      SQLITE_TRANSIENT);
  std::vector<row> out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    row r;
    int n = sqlite3_column_count(st);
    for (int c = 0; c < n; ++c) {
      if (sqlite3_column_type(st, c) == SQLITE_NULL) {
        r.emplace_back(std::nullopt);
      } else {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
        r.emplace_back(std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st, c))));
      }
    }
    out.push_back(std::move(r));
  }
  std::string err = sqlite3_errmsg(h_);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) throw std::runtime_error("sqlite step: " + err + " in: " + sql);
  return out;
}

std::int64_t sqlite_db::integer(const std::string& sql, const std::vector<std::string>& params) {
  auto r = rows(sql, params);
  if (r.empty() || r[0].empty() || !r[0][0]) return 0;
  return std::stoll(*r[0][0]);
}

std::optional<std::string> sqlite_db::text(const std::string& sql, const std::vector<std::string>& params) {
  auto r = rows(sql, params);
  if (r.empty() || r[0].empty()) return std::nullopt;
  return r[0][0];
}

}  // namespace signoff::test
