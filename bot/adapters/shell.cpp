#include "bot/adapters/shell.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bot/core/text.hpp"
#include "bot/runtime/checkpointer.hpp"
#include "bot/runtime/event.hpp"
#include "bot/runtime/pipeline.hpp"
#include "bot/runtime/scheduler.hpp"

namespace signoff::adapters {

bool write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    auto n = ::write(fd, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

namespace {

namespace asio = boost::asio;
using asio::awaitable;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The shell's outbox claims: no pacing (a terminal has no rate limit), a
// lease long enough to print a batch, and a batch as large as before.
constexpr auto post_lease = std::chrono::milliseconds(30s);
constexpr int claim_limit = 64;
// Another process sharing the database may enqueue posts for the terminal.
constexpr auto recheck = 30s;
constexpr auto retry_after_failure = 1s;

std::string os_user_name() {
  if (const passwd* pw = getpwuid(geteuid()); pw && pw->pw_name) return pw->pw_name;
  if (const char* u = std::getenv("USER")) return u;
  return "uid:" + std::to_string(geteuid());
}

// One message (reply or post) as the terminal shows it: its first line at
// column 0, every further line indented by two spaces, so text inside it
// (a draft's lines, say) can never pass for a post or reply of its own.
std::string framed(std::string_view msg) {
  std::string out;
  out.reserve(msg.size() + 8);
  for (char c : msg) {
    out += c;
    if (c == '\n') out += "  ";
  }
  out += '\n';
  return out;
}

// Reads a descriptor on a thread of its own, one chunk per request.
// poll() and read() behave alike on a terminal, a pipe and a regular file
// (always readable, then end of file), whereas the io_context's epoll
// refuses regular files and /dev/null. Nothing is read before it is asked
// for, so input is consumed no faster than lines are answered, and a
// session that ends early leaves the rest unread, as a synchronous loop
// would.
class fd_reader {
 public:
  using done_fn = std::function<void(std::string)>;

  fd_reader(int fd, asio::any_io_executor io) : fd_(fd), io_(std::move(io)) {
    if (::pipe2(stop_, O_CLOEXEC) != 0) throw std::runtime_error("cannot create a pipe for the input reader");
    thread_ = std::thread([this] { loop(); });
  }
  ~fd_reader() {
    stop();
    ::close(stop_[0]);
    ::close(stop_[1]);
  }
  fd_reader(const fd_reader&) = delete;
  fd_reader& operator=(const fd_reader&) = delete;

  // Reads once; `done(chunk)` runs on the io executor, with an empty chunk
  // at end of input or on a read error.
  void read(done_fn done) {
    {
      std::lock_guard l(m_);
      request_ = std::move(done);
    }
    cv_.notify_one();
  }

  // Ends the thread (a read in flight is abandoned: its `done` never runs).
  void stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard l(m_);
      stopping_ = true;
    }
    cv_.notify_one();
    const char byte = 0;
    while (::write(stop_[1], &byte, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
  }

 private:
  void loop() {
    for (;;) {
      done_fn done;
      {
        std::unique_lock l(m_);
        cv_.wait(l, [&] { return stopping_ || request_; });
        if (stopping_) return;
        done = std::exchange(request_, nullptr);
      }
      auto chunk = read_chunk();
      if (!chunk) return;  // stopped
      asio::post(io_, [done = std::move(done), c = std::move(*chunk)]() mutable { done(std::move(c)); });
    }
  }

  // nullopt when stopped.
  std::optional<std::string> read_chunk() {
    char buf[4096];
    for (;;) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return std::string();
      }
      if (fds[1].revents) return std::nullopt;
      if (!fds[0].revents) continue;
      auto n = ::read(fd_, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return std::string();  // end of input, or an error: the session ends as at end of input
      return std::string(buf, static_cast<std::size_t>(n));
    }
  }

  int fd_;
  asio::any_io_executor io_;
  int stop_[2] = {-1, -1};
  std::mutex m_;
  std::condition_variable cv_;
  done_fn request_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

// Posts go through the pipeline's claims and delivery records like every
// platform's, but not through runtime::outbox_worker: the shell has no
// pacing, no retries and no card updates, and it prints a command's posts
// right after its reply and before reading the next line, which a worker
// running on its own rhythm would not promise.
struct shell_adapter::impl : std::enable_shared_from_this<impl> {
  asio::any_io_executor ex;
  runtime::command_pipeline& pipe;
  runtime::scheduler& timers;
  runtime::checkpointer* checkpoints = nullptr;
  const std::string as, os_user = os_user_name();
  const shell_fds fds;
  const bool tty;
  std::function<void()> ended, on_stopped;
  // Identifies this process's outbox claims among others sharing the database.
  const std::string owner = "shell:" + std::to_string(::getpid()) + ":" +
                            std::to_string(clock_now().time_since_epoch().count());
  fd_reader reader;
  runtime::event wake, answered;

  std::string buf;  // input read and not yet handled
  bool reading = false, eof = false;
  bool posts_waiting = false, retry_soon = false;
  bool closed = false;  // standard output is gone
  bool stopping = false, finished = false;
  // Posts printed whose delivery the database could not record yet: post id
  // -> (sent, result). They are recorded, not printed again, when claimed.
  std::map<std::int64_t, std::pair<bool, std::string>> unrecorded;

  impl(asio::any_io_executor e, runtime::command_pipeline& p, runtime::scheduler& t, std::string a, shell_fds f,
       std::function<void()> end)
      : ex(e), pipe(p), timers(t), as(std::move(a)), fds(f), tty(::isatty(f.in) == 1), ended(std::move(end)),
        reader(f.in, e), wake(e), answered(e) {}

  void out(std::string_view s) {
    if (!write_all(fds.out, s)) closed = true;
  }
  void err(std::string_view s) { write_all(fds.err, s); }
  void prompt() {
    if (tty) out("signoff> ");
  }

  awaitable<void> run() {
    auto self = shared_from_this();
    if (tty)
      out("signoff " SIGNOFF_VERSION " shell: acting as " + as +
          " (prefix a line with @name to act as someone else; /help lists commands; Ctrl-D quits)\n");
    prompt();
    co_await timers.tick();  // what fell due while no shell ran fires before the first line
    co_await deliver();
    while (!stopping && !closed) {
      if (auto nl = buf.find('\n'); nl != std::string::npos) {
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        co_await handle_line(std::move(line));
        continue;
      }
      if (eof) {
        if (!buf.empty()) co_await handle_line(std::exchange(buf, {}));
        co_await timers.tick();  // the end of input fires and prints what is due
        if (checkpoints) co_await checkpoints->final_checkpoint();
        co_await deliver();
        break;
      }
      if (!reading) {
        reading = true;
        reader.read([self](std::string chunk) {
          self->reading = false;
          if (chunk.empty()) self->eof = true;
          else self->buf += chunk;
          self->wake.notify();
        });
      }
      const auto deadline = steady::now() + (retry_soon ? std::chrono::milliseconds(retry_after_failure)
                                                        : std::chrono::milliseconds(recheck));
      co_await wake.wait_until(deadline);
      if (posts_waiting || steady::now() >= deadline) {
        posts_waiting = retry_soon = false;
        co_await deliver();
      }
    }
    finish();
  }

  void finish() {
    reader.stop();
    finished = true;
    if (auto done = std::exchange(on_stopped, nullptr)) done();
    else if (ended) ended();
  }

  awaitable<void> handle_line(std::string line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto t = trim(line);
    if (t.empty() || t.front() == '#') {
      prompt();
      co_return;
    }
    incoming in;
    in.who.platform = platform::shell;
    in.who.os_user = os_user;
    std::string person = as;
    std::string cmd(t);
    // `@bob /approve D-1` acts as bob. The prefix ends at the first space or
    // tab (ASCII bytes, which never occur inside a multi-byte UTF-8
    // sequence), so it is read before, and whatever, the rest of the line
    // decodes to: a line that is not valid UTF-8 is still bob's, recorded as
    // raw_hex. A prefix that is itself not UTF-8 names nobody in the config.
    if (cmd.front() == '@') {
      auto sp = cmd.find_first_of(" \t");
      person = cmd.substr(1, sp == std::string::npos ? std::string::npos : sp - 1);
      if (!valid_utf8(person)) person = "0x" + to_hex(person);
      cmd = sp == std::string::npos ? std::string() : std::string(trim(std::string_view(cmd).substr(sp)));
    }
    // who.person stays empty: the executor resolves the shell's user ID as a
    // person ID, or records an unknown actor.
    in.who.platform_user = person;
    in.line = cmd;
    // The claim joins the command's group commit (claims run after its
    // commands), so the posts the command enqueued come back with its reply.
    std::optional<execution> ex_done;
    pipe.submit(std::move(in), [self = shared_from_this(), &ex_done](execution r) {
      ex_done = std::move(r);
      self->answered.notify();
    });
    auto posts = co_await pipe.claim(platform::shell, owner, post_lease, claim_limit);
    while (!ex_done) co_await answered.wait();
    const execution& done = *ex_done;
    if (!done.recorded)
      err("signoff shell: " + done.action + " not recorded, database error: " + done.error + "\n");
    out(framed(done.reply));
    co_await deliver(std::move(posts));
    prompt();
  }

  // Prints `first` (posts already claimed), then whatever else the outbox
  // holds for the terminal, recording each delivery before the next.
  awaitable<void> deliver(std::optional<std::vector<outbox_post>> first = std::nullopt) {
    for (;;) {
      std::vector<outbox_post> posts;
      if (first) posts = std::move(*std::exchange(first, std::nullopt));
      else posts = co_await pipe.claim(platform::shell, owner, post_lease, claim_limit);
      if (posts.empty()) co_return;
      const bool more = posts.size() >= static_cast<std::size_t>(claim_limit);
      for (const auto& p : posts) {
        std::pair<bool, std::string> result;
        if (auto it = unrecorded.find(p.id); it != unrecorded.end()) {
          result = it->second;
        } else {
          // Posts print as [#channel] …, direct messages as [@person] … (SPEC).
          const char* sigil = p.kind == post_kind::dm ? "[@" : "[#";
          out((tty ? "\n" : "") + framed(sigil + p.platform_channel + "] " + p.text));
          result = {!closed, closed ? "standard output closed" : "stdout"};
        }
        if (!co_await pipe.record_delivery(p, result.first, result.second)) {
          // Printed, not recorded: the post stays leased to this process and
          // comes back with the next claim, to be recorded, not printed again.
          unrecorded[p.id] = std::move(result);
          err("signoff shell: outbox delivery postponed, database error: the delivery could not be recorded\n");
          retry_soon = true;
          co_return;
        }
        unrecorded.erase(p.id);
      }
      if (!more) co_return;
    }
  }
};

shell_adapter::shell_adapter(asio::any_io_executor ex, runtime::command_pipeline& pipe, runtime::scheduler& timers,
                             std::string as, shell_fds fds, std::function<void()> ended)
    : impl_(std::make_shared<impl>(ex, pipe, timers, std::move(as), fds, std::move(ended))) {}

shell_adapter::~shell_adapter() { impl_->reader.stop(); }

void shell_adapter::start() {
  auto self = impl_;
  asio::co_spawn(impl_->ex, [self]() { return self->run(); }, asio::detached);
}

void shell_adapter::stop(std::function<void()> done) {
  if (impl_->finished) {
    asio::post(impl_->ex, std::move(done));
    return;
  }
  impl_->stopping = true;
  impl_->on_stopped = std::move(done);
  impl_->wake.notify();
}

void shell_adapter::sign_at_end(runtime::checkpointer* c) { impl_->checkpoints = c; }

void shell_adapter::posts_enqueued() {
  impl_->posts_waiting = true;
  impl_->wake.notify();
}

runtime::adapter_status shell_adapter::status() const {
  return {impl_->finished ? "stopped" : "connected", {}};
}

}  // namespace signoff::adapters
