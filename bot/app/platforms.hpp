#pragma once
// The one place `run` learns which platforms are configured: each becomes a
// runtime::adapter, so run.cpp holds a list and names none of them.
#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bot/core/enums.hpp"
#include "bot/runtime/adapter.hpp"
#include "config/config.hpp"

namespace spdlog {
class logger;
}

namespace signoff::runtime {
class command_pipeline;
}

namespace signoff::app {

// A configured platform whose secrets were read and checked: which it is (the
// executor's delivery platform) and how to build its adapter once the
// pipeline exists.
struct platform_plan {
  platform on;
  std::function<std::unique_ptr<runtime::adapter>(boost::asio::any_io_executor, runtime::command_pipeline&)> make;
};

// Every network platform of `cfg` that this build serves (warning about
// configured ones it does not), with secrets read and checked. nullopt, after
// logging why, when a secret is missing or malformed or no platform is
// configured: `run` refuses to start (exit status 2).
// The adapters start on `cfg` (runtime::adapter::reconfigure replaces it).
std::optional<std::vector<platform_plan>> plan_platforms(std::shared_ptr<const conf::config> cfg,
                                                         spdlog::logger& log);

}  // namespace signoff::app
