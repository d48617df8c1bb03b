#pragma once
// What `signoff run` holds a list of: one per configured platform. `run`
// knows no platform by name; it starts them, routes health and metrics
// through them, tells them when timers enqueued posts, and stops them.
// Threads: every member is called on the io executor.
#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace signoff::conf {
struct config;
}
namespace signoff::net {
class http_server;
}

namespace signoff::runtime {

// SPEC `/healthz`: "connected" | "connecting" | "disabled" (the adapter gave
// up), plus whatever the platform adds (links, detail).
struct adapter_status {
  std::string state;
  boost::json::object extra;
};

// Prometheus text exposition: one metric family at a time.
class metrics_text {
 public:
  void counter(std::string_view name, std::string_view help, std::uint64_t v) { family(name, help, "counter", std::to_string(v)); }
  void gauge(std::string_view name, std::string_view help, std::int64_t v) { family(name, help, "gauge", std::to_string(v)); }
  const std::string& str() const { return out_; }

 private:
  void family(std::string_view name, std::string_view help, std::string_view type, const std::string& v) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name);
    out_.append(" ").append(type).append("\n").append(name).append(" ").append(v).append("\n");
  }
  std::string out_;
};

class adapter {
 public:
  virtual ~adapter() = default;
  // "slack", "discord", "mattermost": the key under `platforms` in /healthz.
  virtual std::string_view name() const = 0;
  // Throws std::runtime_error when its config section is unusable.
  virtual void start() = 0;
  // SIGTERM: answer the commands already read, close links, stop posting;
  // `done` once everything has ended.
  virtual void stop(std::function<void()> done) = 0;
  // New posts may be in the outbox (a timer action enqueued them).
  virtual void posts_enqueued() = 0;
  virtual adapter_status status() const = 0;
  // The platform's own metrics (signoff_<platform>_*).
  virtual void metrics(metrics_text& out) const = 0;
  // A config reload is in force (runtime::config_reloader): the adapter's
  // own snapshot, for what it reads on the io thread. Its connection
  // section is unchanged (those keys take a restart).
  virtual void reconfigure(std::shared_ptr<const conf::config>) {}
  // The adapter's own endpoints on [http] listen (Mattermost's button
  // clicks: POST /mattermost/actions), added to `http` before start().
  virtual void serve_http(net::http_server&) {}
};

}  // namespace signoff::runtime
