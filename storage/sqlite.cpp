#include "storage/sqlite.hpp"

namespace signoff::sql {

db::db(const std::string& path, options opt) {
  int flags = opt.read_only ? SQLITE_OPEN_READONLY
                            : (SQLITE_OPEN_READWRITE | (opt.create ? SQLITE_OPEN_CREATE : 0));
  flags |= SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &h_, flags, opt.vfs);
  if (rc != SQLITE_OK) {
    std::string msg = "cannot open database " + path + ": " +
                      (h_ ? sqlite3_errmsg(h_) : sqlite3_errstr(rc));
    sqlite3_close(h_);
    h_ = nullptr;
    throw store_error(rc, msg);
  }
  sqlite3_extended_result_codes(h_, 1);
}

db::~db() {
  for (auto& [sql, v] : cache_)
    for (auto* s : v) sqlite3_finalize(s);
  sqlite3_close_v2(h_);
}

void db::fail(int rc, std::string_view what) const {
  throw store_error(sqlite3_extended_errcode(h_) ? sqlite3_extended_errcode(h_) : rc,
                    std::string(what) + ": " + sqlite3_errmsg(h_));
}

void db::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(h_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw store_error(sqlite3_extended_errcode(h_), "database error: " + msg);
  }
}

stmt db::prepare(std::string_view sql) { return stmt(*this, sql); }
std::int64_t db::last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(h_); }
int db::changes() const noexcept { return sqlite3_changes(h_); }

stmt::stmt(const db& d, std::string_view sql) : d_(d) {
  constexpr std::size_t max_distinct = 256;
  auto it = d.cache_.find(std::string(sql));
  if (it == d.cache_.end() && d.cache_.size() < max_distinct)
    it = d.cache_.emplace(std::string(sql), std::vector<sqlite3_stmt*>{}).first;
  if (it != d.cache_.end()) {
    home_ = &it->second;
    if (!home_->empty()) {
      s_ = home_->back();
      home_->pop_back();
      return;
    }
  }
  int rc = sqlite3_prepare_v2(d.handle(), sql.data(), static_cast<int>(sql.size()), &s_, nullptr);
  if (rc != SQLITE_OK) d.fail(rc, "database error (prepare)");
}

stmt::~stmt() {
  if (!s_) return;
  if (home_ && home_->size() < 4) {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    home_->push_back(s_);
  } else {
    sqlite3_finalize(s_);
  }
}

stmt& stmt::bind(int i, std::int64_t v) {
  if (int rc = sqlite3_bind_int64(s_, i, v); rc != SQLITE_OK) d_.fail(rc, "database error (bind)");
  return *this;
}
stmt& stmt::bind(int i, std::string_view v) {
  if (int rc = sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
      rc != SQLITE_OK)
    d_.fail(rc, "database error (bind)");
  return *this;
}
stmt& stmt::bind(int i, std::nullopt_t) {
  if (int rc = sqlite3_bind_null(s_, i); rc != SQLITE_OK) d_.fail(rc, "database error (bind)");
  return *this;
}

bool stmt::step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  d_.fail(rc, "database error");
}

void stmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::int64_t stmt::i64(int col) const { return sqlite3_column_int64(s_, col); }
std::string stmt::text(int col) const { return std::string(view(col)); }
std::string_view stmt::view(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  if (!p) return {};
  return std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)));
}
bool stmt::is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
int stmt::type(int col) const { return sqlite3_column_type(s_, col); }
std::optional<std::int64_t> stmt::opt_i64(int col) const {
  if (is_null(col)) return std::nullopt;
  return i64(col);
}
std::optional<std::string> stmt::opt_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}

transaction::transaction(db& d) : d_(d) { d_.exec("BEGIN IMMEDIATE"); }
transaction::~transaction() {
  if (!done_) sqlite3_exec(d_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}
void transaction::commit() {
  d_.exec("COMMIT");
  done_ = true;
}

}  // namespace signoff::sql
