#pragma once
// Test helpers for driving the real `signoff` binary: a temporary directory
// that removes itself, a child process with piped stdin/stdout/stderr that
// can be fed and read with deadlines, and a one-shot `run` for CLI calls.
// POSIX only (fork/exec, poll). Not thread-safe; one test thread.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace signoff::test {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on
// destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path() / name, as a string.
  std::string file(std::string_view name) const;
  // Writes `content` to path() / name and returns its path.
  std::string write(std::string_view name, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

// A running child process. Its stdin, stdout and stderr are pipes; output is
// collected as it is read. The destructor kills (SIGKILL) and reaps a child
// that is still running.
class child {
 public:
  explicit child(const std::vector<std::string>& argv) : child(argv, -1) {}
  // With `stdin_fd` >= 0 the child reads that descriptor (a terminal, say)
  // instead of a pipe; write() and close_stdin() then do nothing.
  child(const std::vector<std::string>& argv, int stdin_fd);
  ~child();
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  pid_t pid() const { return pid_; }

  // Writes all of `data` to the child's stdin (reading its output meanwhile,
  // so a child blocked on a full stdout pipe cannot deadlock us). Returns
  // false when stdin is closed or the deadline passes first.
  bool write(std::string_view data, ms timeout = 5s);
  void close_stdin();
  // Closes this side of the child's stdout: its next write fails (EPIPE).
  void close_stdout();

  // Reads output until `done()` holds or `timeout` passes; returns done().
  bool wait_until(const std::function<bool()>& done, ms timeout);
  // Waits until stdout contains `needle` (from byte `from` on).
  bool wait_for_stdout(std::string_view needle, ms timeout, std::size_t from = 0);

  // Reads everything until the child exits (closing nothing itself). Returns
  // the exit status (128 + signal when killed by one), or nullopt at the
  // deadline (the child is then still running).
  std::optional<int> wait_exit(ms timeout);
  bool exited() const { return status_.has_value(); }

  // Bytes the child wrote to stdout that this side has not read yet, and
  // the capacity of that pipe (a child blocked writing has filled most of it).
  std::size_t unread_stdout() const;
  std::size_t stdout_capacity() const;

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  // One poll round over the output pipes (and stdin when `want_write`);
  // returns poll's events for stdin.
  short pump(int timeout_ms, bool want_write);
  void reap(bool block);

  pid_t pid_ = -1;
  int in_ = -1, out_fd_ = -1, err_fd_ = -1;
  std::string out_, err_;
  std::optional<int> status_;
};

struct run_result {
  int status = -1;  // exit status; -1 when it did not exit before the deadline
  std::string out, err;
};

// Runs argv to completion with `input` on stdin (then closed).
run_result run(const std::vector<std::string>& argv, std::string_view input = {}, ms timeout = 20s);

// Lowercase hex SHA-256 of `data` (OpenSSL, independent of signoff's own).
std::string sha256_hex(std::string_view data);

// True when `hay` contains `needle`.
inline bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// `text` with the first `from` replaced by `to`; throws std::invalid_argument
// when `from` is not in it (a test editing a config must not edit nothing).
std::string replaced(std::string text, std::string_view from, std::string_view to);

// Exit status and both outputs, for failure messages.
std::string transcript(const run_result& r);
std::string transcript(const child& c);

// Counts non-overlapping occurrences of `needle` in `hay`.
std::size_t count_of(std::string_view hay, std::string_view needle);

}  // namespace signoff::test
