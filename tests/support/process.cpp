#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>
#include <system_error>

namespace signoff::test {
namespace {

using clock = std::chrono::steady_clock;

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void set_nonblocking(int fd) {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) fail_errno("fcntl");
}

int remaining_ms(clock::time_point deadline) {
  auto left = std::chrono::duration_cast<ms>(deadline - clock::now()).count();
  if (left < 0) return 0;
  return static_cast<int>(left);
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

// --- temp_dir --------------------------------------------------------------

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/signoff-test-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) fail_errno("mkdtemp " + templ);
  path_ = templ;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string temp_dir::file(std::string_view name) const { return (path_ / name).string(); }

std::string temp_dir::write(std::string_view name, std::string_view content) const {
  std::string p = file(name);
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!f) throw std::runtime_error("cannot write " + p);
  return p;
}

// --- child -----------------------------------------------------------------

child::child(const std::vector<std::string>& argv, int stdin_fd) {
  if (argv.empty()) throw std::invalid_argument("child: empty argv");
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) fail_errno("pipe2");
  if (::pipe2(out, O_CLOEXEC) != 0) fail_errno("pipe2");
  if (::pipe2(err, O_CLOEXEC) != 0) fail_errno("pipe2");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) fail_errno("fork");
  if (pid_ == 0) {
    // Child: only async-signal-safe calls from here.
    ::dup2(stdin_fd >= 0 ? stdin_fd : in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execv(args[0], args.data());
    const char msg[] = "exec failed\n";
    auto ignored = ::write(2, msg, sizeof msg - 1);
    (void)ignored;
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  in_ = in[1];
  if (stdin_fd >= 0) close_fd(in_);
  out_fd_ = out[0];
  err_fd_ = err[0];
  if (in_ >= 0) set_nonblocking(in_);
  set_nonblocking(out_fd_);
  set_nonblocking(err_fd_);
}

child::~child() {
  close_fd(in_);
  if (!status_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
  close_fd(out_fd_);
  close_fd(err_fd_);
}

short child::pump(int timeout_ms, bool want_write) {
  std::array<pollfd, 3> fds{};
  nfds_t n = 0;
  int out_i = -1, err_i = -1, in_i = -1;
  if (out_fd_ >= 0) {
    out_i = static_cast<int>(n);
    fds[n++] = {out_fd_, POLLIN, 0};
  }
  if (err_fd_ >= 0) {
    err_i = static_cast<int>(n);
    fds[n++] = {err_fd_, POLLIN, 0};
  }
  if (want_write && in_ >= 0) {
    in_i = static_cast<int>(n);
    fds[n++] = {in_, POLLOUT, 0};
  }
  if (n == 0) {
    // Nothing to read: the child closed both outputs. Wait for its exit.
    if (!status_) {
      reap(false);
      if (!status_ && timeout_ms > 0) ::usleep(static_cast<useconds_t>(std::min(timeout_ms, 10)) * 1000);
    }
    return 0;
  }
  int pr = ::poll(fds.data(), n, timeout_ms);
  if (pr < 0) {
    if (errno == EINTR) return 0;
    fail_errno("poll");
  }
  auto drain = [](int& fd, std::string& into) {
    char buf[8192];
    for (;;) {
      auto r = ::read(fd, buf, sizeof buf);
      if (r > 0) {
        into.append(buf, static_cast<std::size_t>(r));
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      close_fd(fd);  // end of file or error
      return;
    }
  };
  if (out_i >= 0 && fds[static_cast<std::size_t>(out_i)].revents != 0) drain(out_fd_, out_);
  if (err_i >= 0 && fds[static_cast<std::size_t>(err_i)].revents != 0) drain(err_fd_, err_);
  if (!status_) reap(false);
  return in_i >= 0 ? fds[static_cast<std::size_t>(in_i)].revents : 0;
}

void child::reap(bool block) {
  if (status_ || pid_ <= 0) return;
  int st = 0;
  pid_t r;
  do r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r != pid_) return;
  if (WIFEXITED(st)) status_ = WEXITSTATUS(st);
  else if (WIFSIGNALED(st)) status_ = 128 + WTERMSIG(st);
  else status_ = -1;
}

std::size_t child::unread_stdout() const {
  int n = 0;
  if (out_fd_ < 0 || ::ioctl(out_fd_, FIONREAD, &n) != 0 || n < 0) return 0;
  return static_cast<std::size_t>(n);
}

std::size_t child::stdout_capacity() const {
  int n = out_fd_ < 0 ? -1 : ::fcntl(out_fd_, F_GETPIPE_SZ);
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

bool child::write(std::string_view data, ms timeout) {
  auto deadline = clock::now() + timeout;
  while (!data.empty()) {
    if (in_ < 0) return false;
    auto w = ::write(in_, data.data(), data.size());
    if (w > 0) {
      data.remove_prefix(static_cast<std::size_t>(w));
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;  // EPIPE: child gone
    if (clock::now() >= deadline) return false;
    pump(std::max(1, remaining_ms(deadline)), true);
  }
  return true;
}

void child::close_stdin() { close_fd(in_); }

void child::close_stdout() { close_fd(out_fd_); }

bool child::wait_until(const std::function<bool()>& done, ms timeout) {
  auto deadline = clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (clock::now() >= deadline) return done();
    // Short rounds: `done` may look at more than our pipes (a database row).
    pump(std::min(remaining_ms(deadline), 20), false);
  }
}

bool child::wait_for_stdout(std::string_view needle, ms timeout, std::size_t from) {
  return wait_until(
      [&] { return out_.size() >= from && out_.find(needle, from) != std::string::npos; }, timeout);
}

std::optional<int> child::wait_exit(ms timeout) {
  auto deadline = clock::now() + timeout;
  while (!(status_ && out_fd_ < 0 && err_fd_ < 0)) {
    if (clock::now() >= deadline) break;
    pump(std::max(1, std::min(remaining_ms(deadline), 50)), false);
    // A grandchild holding the pipes open must not hide the exit.
    if (status_ && (out_fd_ >= 0 || err_fd_ >= 0)) {
      pump(0, false);
      break;
    }
  }
  return status_;
}

// --- one-shot run ----------------------------------------------------------

run_result run(const std::vector<std::string>& argv, std::string_view input, ms timeout) {
  child c(argv);
  run_result r;
  if (!input.empty()) c.write(input, timeout);
  c.close_stdin();
  if (auto st = c.wait_exit(timeout)) r.status = *st;
  r.out = c.out();
  r.err = c.err();
  return r;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("EVP_Digest failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0x0f];
  }
  return out;
}

std::size_t count_of(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return 0;
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string_view::npos; p = hay.find(needle, p + needle.size())) ++n;
  return n;
}

std::string transcript(const run_result& r) {
  return "exit " + std::to_string(r.status) + "\n--- stdout\n" + r.out + "--- stderr\n" + r.err;
}

std::string transcript(const child& c) { return "--- stdout\n" + c.out() + "--- stderr\n" + c.err(); }

std::string replaced(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::invalid_argument("replaced: not in the text: " + std::string(from));
  text.replace(at, from.size(), to);
  return text;
}

}  // namespace signoff::test
