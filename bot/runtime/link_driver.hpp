#pragma once
// The link driver: runs a platform's websocket links for its session state
// machine (Slack Socket Mode today; the Discord Gateway and the Mattermost
// websocket build on it). The machine decides; the driver carries out its
// actions (bot/core/link.hpp): open a link, close or abort one, send a frame,
// wake the machine at a time, report health. The platform supplies a
// link_protocol: how to open a link's transport, and the machine's events.
//
// Per link the driver runs one group: a reader (each text message goes to
// on_frame), the link's only writer (frames queued by send() or send_frame,
// in order, held back by the optional send budget), and the websocket's own
// keep-alive pings (net::ws_client; an application heartbeat, such as
// Discord's, is the machine's: wake_at + send_frame). When one part ends the
// whole link ends: a failed write aborts the socket, the reader sees it, and
// on_closed tells the machine once.
// Threads: everything runs on the io executor given at construction.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bot/core/link.hpp"
#include "bot/runtime/event.hpp"

namespace spdlog {
class logger;
}
namespace signoff::net {
class ws_client;
}

namespace signoff::runtime {

// What opening a link's transport came to.
struct link_opened {
  std::unique_ptr<net::ws_client> ws;  // null: the link could not be opened
  std::string why;                     // then: the reason, for the log and /healthz
  bool fatal = false;                  // refused for good (a bad token): the machine gives up
  link_opened();
  link_opened(link_opened&&) noexcept;
  link_opened& operator=(link_opened&&) noexcept;
  ~link_opened();
};

// The platform's side: its transport and its state machine's events. Every
// event returns the machine's actions, which the driver carries out.
class link_protocol {
 public:
  virtual ~link_protocol() = default;
  // Opens link `id`'s websocket (Slack: apps.connections.open, then connect).
  virtual boost::asio::awaitable<link_opened> open_transport(link::link_id id) = 0;
  virtual std::vector<link::action> on_connected(link::link_id id, time_point now) = 0;
  virtual std::vector<link::action> on_open_failed(link::link_id id, const std::string& why, bool fatal,
                                                   time_point now) = 0;
  // One text message read on link `id`. The platform may also call send().
  virtual std::vector<link::action> on_frame(link::link_id id, const std::string& text, time_point now) = 0;
  // `close_code`: the code of the peer's close frame, 0 when none came (a
  // drop, a timeout, our own abort). Discord decides by it.
  virtual std::vector<link::action> on_closed(link::link_id id, const std::string& why, std::uint16_t close_code,
                                              time_point now) = 0;
  virtual std::vector<link::action> on_timer(time_point now) = 0;
  // SIGTERM: the machine's actions for a clean stop (close every link).
  virtual std::vector<link::action> on_stop() = 0;
};

struct link_options {
  std::string what = "link";  // in log lines: "Socket Mode", "Gateway"
  link::send_budget budget;   // per link (Discord: 120 frames per 60 s); none by default
};

struct link_counters {
  std::uint64_t opened = 0;        // links attempted
  std::uint64_t open_failures = 0; // links that could not be opened
  std::uint64_t frames_out = 0;    // frames written
  std::uint64_t budget_waits = 0;  // frames held back by the send budget
};

class link_driver {
 public:
  link_driver(boost::asio::any_io_executor ex, link_protocol& proto, std::shared_ptr<spdlog::logger> log,
              link_options o = {});
  ~link_driver();
  link_driver(const link_driver&) = delete;
  link_driver& operator=(const link_driver&) = delete;

  // Starts the timer and carries out `first` (the machine's start actions).
  // `owner` (the adapter, which holds the driver and the protocol) is kept
  // alive by every coroutine the driver runs.
  void start(std::shared_ptr<void> owner, std::vector<link::action> first);
  // Carries out actions the platform got from its machine outside an event
  // the driver delivered.
  void apply(std::vector<link::action> acts);
  // Queues `text` on link `id`'s writer. False when that link cannot carry it
  // (not connected, closing, or gone).
  bool send(link::link_id id, std::string text);
  // Clean stop: the machine's on_stop actions, then up to `drain` for the
  // links to close; what is left is aborted. No event reaches the machine
  // after this returns.
  boost::asio::awaitable<void> stop(std::chrono::milliseconds drain);

  link::state state() const { return state_; }
  const std::string& detail() const { return detail_; }
  std::size_t open_links() const { return links_.size(); }
  const link_counters& counters() const { return counters_; }

 private:
  struct conn;
  boost::asio::awaitable<void> run_link(std::shared_ptr<conn> c);
  boost::asio::awaitable<void> writer(std::shared_ptr<conn> c);
  boost::asio::awaitable<void> timer();
  void health(const link::report_health& h);

  boost::asio::any_io_executor ex_;
  link_protocol& proto_;
  std::shared_ptr<spdlog::logger> log_;
  link_options opt_;
  std::weak_ptr<void> owner_;
  std::map<link::link_id, std::shared_ptr<conn>> links_;
  std::optional<time_point> wake_at_;
  event timer_wake_, link_ended_;
  link::state state_ = link::state::connecting;
  std::string detail_;
  link_counters counters_;
  bool stopped_ = false;
};

}  // namespace signoff::runtime
