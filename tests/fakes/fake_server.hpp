#pragma once
// The plumbing every fake platform server shares: a loopback TLS listener
// with the throw-away test CA (tests/support/test_pki.hpp), keep-alive
// HTTP/1.1 requests answered by the fake, and websocket links (RFC 6455
// spoken directly on the TLS stream: accept, masking, fragmentation,
// ping/pong, oversized messages, the close handshake, abrupt drops). It runs
// one io_context on its own thread; the fake built on it (fake_slack,
// fake_discord) supplies a `handler` and keeps its platform's rules.
//
// Threads: the handler's callbacks and every `link` method run on the io
// thread ("io-only"). From another thread use run_sync() or post().
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace signoff::test {

class fake_server {
 public:
  using steady = std::chrono::steady_clock;

  struct request {
    std::string method;         // "GET", "POST", ...
    std::string target;         // path + query as sent
    std::string path, query;    // target split at the first '?'
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    unsigned version = 11;
    // The first header named `name` (case-insensitive), "" when absent.
    std::string_view header(std::string_view name) const;
  };

  struct answer {
    unsigned status = 200;
    std::string content_type = "application/json; charset=utf-8";  // none when empty
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::chrono::milliseconds delay{0};  // wait this long before writing it (a slow server)
    bool close = false;                  // close the connection after it
  };

  // Something a fake wants timed: written() is called just before the write
  // that carries it starts (the moment the platform "sent" it).
  struct outgoing {
    virtual ~outgoing() = default;
    virtual std::string_view text() const = 0;
    virtual void written(steady::time_point at) = 0;
  };

  class link;
  using link_ptr = std::shared_ptr<link>;

  // What the fake built on this server supplies. Every callback runs on the io thread.
  class handler {
   public:
    virtual ~handler() = default;
    // A plain HTTP request (not an upgrade).
    virtual boost::asio::awaitable<answer> on_http(request req) = 0;
    // A websocket upgrade request, before the RFC 6455 checks: nullopt accepts
    // it (when the handshake itself is sound), an answer refuses it (the
    // connection is closed after the answer).
    virtual std::optional<answer> on_upgrade(const request& req) = 0;
    // The link is up (101 queued): anything sent now follows the handshake.
    virtual void on_open(const link_ptr& l, const request& req) = 0;
    // One whole text message from the client.
    virtual void on_text(const link_ptr& l, std::string_view text, steady::time_point read_at) = 0;
    // The client sent a close frame with `code` (1005 when it carried none).
    virtual void on_client_close(const link_ptr&, std::uint16_t /*code*/) {}
    // The client answered a ping frame (fakes that time out silent peers).
    virtual void on_pong(const link_ptr&) {}
    // The link stopped being usable (close queued, or gone).
    virtual void on_link_change(const link_ptr&) {}
    // A protocol violation by the client (the link is closed for it), or an
    // exception escaping the fake's own code.
    virtual void on_error(std::string what) = 0;
  };

  struct options {
    std::string cert_pem, key_pem;          // PEM text or file names; default test_pki()
    std::string name = "fake";              // thread name and Server header
    std::size_t max_message = 1 << 20;      // largest client message accepted
    std::uint16_t too_big_code = 1009;      // close code for a larger one
    std::size_t max_body = 4 << 20;         // largest HTTP request body
  };

  // A websocket link. Methods are io-only.
  class link {
   public:
    std::uint64_t id() const;
    // Upgraded, no close frame queued, not dead: frames sent now reach the client.
    bool usable() const;
    bool closing() const;
    bool dead() const;
    std::string path;                // the upgrade request's path
    std::shared_ptr<void> state;     // the fake's own per-link state

    struct io;                       // the socket side, opaque outside fake_server.cpp
    explicit link(std::unique_ptr<io> x);
    ~link();
    link(const link&) = delete;
    link& operator=(const link&) = delete;
    std::unique_ptr<io> io_;
  };

  // Binds 127.0.0.1 on an ephemeral port; nothing runs until start().
  fake_server(options o, handler& h);
  // Stops the thread; pending coroutines and sockets are destroyed without
  // calling the handler again.
  ~fake_server();
  fake_server(const fake_server&) = delete;
  fake_server& operator=(const fake_server&) = delete;

  // Starts accepting and the io thread. Call once the handler is ready.
  void start();
  std::uint16_t port() const;
  const std::string& port_text() const;
  boost::asio::io_context& io();

  // Runs `f` on the io thread and waits for it; exceptions are rethrown here.
  // Called on the io thread, runs `f` at once.
  void run_sync(const std::function<void()>& f);
  // Starts a coroutine on the io thread; an exception is reported through on_error.
  void spawn(boost::asio::awaitable<void> a);

  // ---- every link (thread-safe; ordered with what the io thread does) ------
  void drop_all();                       // kill() each
  void close_all(std::uint16_t code);    // close() each
  void send_all(const std::string& text);  // send_text() to each usable one
  // false: the client's ping frames go unanswered (a zombie server); true by default.
  void answer_pings(bool on);

  // ---- links (io-only) -------------------------------------------------
  // Links not yet gone, oldest first.
  const std::vector<link_ptr>& links() const;
  void send_text(const link_ptr& l, std::string text);
  // A text frame whose text and write time belong to `o` (`text` overrides
  // o->text() when not empty).
  void send(const link_ptr& l, std::shared_ptr<outgoing> o, std::string text = {});
  // A ping frame with an empty payload (the client's pong reaches handler::on_pong).
  void send_ping(const link_ptr& l);
  // Queues a close frame (nothing is sent after it; code 1005 sends an empty
  // payload, which the client reads as 1005); after the client's
  // answer: TLS close_notify and the TCP close; without one, the socket is
  // dropped 5 s later.
  void close(const link_ptr& l, std::uint16_t code);
  // Abrupt TCP close: no close frame, no TLS close_notify.
  void kill(const link_ptr& l);

 private:
  struct state;
  std::unique_ptr<state> s_;
};

// JSON-free helpers both fakes use.
// `s` as PEM text when it holds "-----BEGIN", else the content of the file it names.
std::string file_or_pem(const std::string& s);
bool starts_with_ci(std::string_view s, std::string_view prefix);
std::string pct_decode(std::string_view s);
// The first 80 bytes of `s`, with an ellipsis when cut (for error messages).
std::string cut80(std::string_view s);

}  // namespace signoff::test
