#pragma once
// A loopback plain-websocket server (ws://127.0.0.1:PORT) for tests: it
// accepts connections, records the text messages each one receives with
// their arrival times, sends text messages and closes with a given code when
// told, and records the close code the client sent. The building block for
// platform fakes that speak over a websocket (the link driver's tests today;
// Discord and Mattermost fakes may build on it).
//
// Threads: it runs either on its own io_context and thread (ws_peer()) or
// on a given executor (ws_peer(ex)), whose io_context the caller runs. Every
// public method is thread-safe and may be called from any thread; send() and
// close() are carried out later, on the peer's executor, in call order.
// Connections are numbered from 0 in the order they were accepted.
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace signoff::test {

class ws_peer {
 public:
  struct options {
    // false: accepted connections are never read, so nothing is recorded
    // and a client's close frame goes unanswered (a peer that hangs).
    bool read = true;
  };
  struct message {
    std::string text;
    std::chrono::steady_clock::time_point at;  // when the peer had read it
  };
  // What the peer saw of one connection.
  struct connection {
    std::string target;                  // of the upgrade request, e.g. "/link/1"
    std::vector<message> received;       // text messages, in arrival order
    std::optional<std::uint16_t> client_close_code;  // code of the client's close frame, if one came
    bool ended = false;                  // the connection is gone (closed or broken)
    std::string end_reason;              // how it ended (the read's error)
  };

  ws_peer();  // own thread
  explicit ws_peer(boost::asio::any_io_executor ex);
  ws_peer(boost::asio::any_io_executor ex, options o);
  explicit ws_peer(options o);
  // Stops accepting and drops every connection (no close frame); with its
  // own thread, joins it. A peer on a given executor is destroyed on that
  // executor's thread or while its io_context is not running.
  ~ws_peer();
  ws_peer(const ws_peer&) = delete;
  ws_peer& operator=(const ws_peer&) = delete;

  std::uint16_t port() const;
  // "ws://127.0.0.1:PORT" + target.
  std::string url(const std::string& target = "/") const;

  // Connections whose websocket handshake completed.
  std::size_t connections() const;
  // A copy of what connection `n` saw so far (an empty record while `n` has
  // not been accepted).
  connection seen(std::size_t n) const;
  // The texts connection `n` received so far, in order.
  std::vector<std::string> texts(std::size_t n) const;

  // Sends `text` on connection `n` (after everything sent before).
  void send(std::size_t n, std::string text);
  // Sends a close frame with `code` on connection `n` (after what was sent
  // before) and waits for the client's.
  void close(std::size_t n, std::uint16_t code);

 private:
  struct impl;
  struct own_thread;
  std::shared_ptr<impl> impl_;
  std::unique_ptr<own_thread> thread_;  // only for ws_peer() / ws_peer(options)
};

}  // namespace signoff::test
