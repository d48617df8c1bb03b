#pragma once
// Late confirmation (SPEC "Platforms"): after a restart, a command that was
// committed but whose reply never reached its user (the ack was lost to a
// crash) is confirmed to that user through the platform's late-reply route
// (Slack response_url, Discord follow-up message), so nobody retypes a
// decision that already stands. The runtime finds the rows, words the
// message and marks each one confirmed once it went out; the platform
// supplies only "send this late reply".
// Threads: runs on the io executor.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "bot/core/records.hpp"

namespace spdlog {
class logger;
}

namespace signoff::runtime {

class command_pipeline;

// Sends `text` to the user of `row` through `row.response_url`; true once the
// platform accepted it.
using late_reply_fn = std::function<boost::asio::awaitable<bool>(const unconfirmed_envelope& row, std::string text)>;

struct late_options {
  signoff::platform platform;
  // How long the platform keeps the late-reply route open (Slack's
  // response_url: 30 min): older rows can no longer be answered.
  std::chrono::milliseconds window{std::chrono::minutes(30)};
  // Deliveries seen longer ago than this are forgotten (the dedup window).
  std::chrono::milliseconds keep{std::chrono::hours(24)};
};

// The message a late reply carries.
std::string late_reply_text(const std::string& reply);

// Finds `platform`'s unconfirmed rows and starts one late reply per row that
// has a route (rows without one are marked confirmed: nothing can reach
// their user). Returns how many late replies it started.
boost::asio::awaitable<std::size_t> confirm_late(command_pipeline& pipe, late_options o, late_reply_fn send,
                                                 std::shared_ptr<spdlog::logger> log);

}  // namespace signoff::runtime
