#include "bot/app/run.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>
#include <optional>

#include "bot/adapters/slack.hpp"
#include "bot/core/time.hpp"
#include "bot/net/net.hpp"
#include "handlers/executor.hpp"
#include "bot/runtime/event.hpp"
#include "bot/runtime/pipeline.hpp"
#include "storage/sqlite_store.hpp"

namespace signoff {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

time_point now_ms() { return clock_now(); }

// Under systemd (journald adds its own timestamps) log without them.
void setup_logging() {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("signoff", sink);
  const bool journal = std::getenv("JOURNAL_STREAM") || std::getenv("INVOCATION_ID");
  logger->set_pattern(journal ? "%l [%n] %v" : "%Y-%m-%dT%H:%M:%S.%e%z %l [%n] %v");
  if (const char* lvl = std::getenv("SIGNOFF_LOG_LEVEL")) logger->set_level(spdlog::level::from_str(lvl));
  spdlog::set_default_logger(logger);
}

struct service {
  const conf::config& cfg;
  runtime::command_pipeline& pipe;
  std::vector<std::unique_ptr<runtime::adapter>> adapters;

  // SPEC `/healthz`: 503 when the database is failing or any platform is disabled.
  net::http_reply healthz() {
    boost::json::object o, platforms;
    bool healthy = pipe.database_ok();
    for (const auto& a : adapters) {
      auto st = a->status();
      boost::json::object p = std::move(st.extra);
      p["state"] = st.state;
      platforms[a->name()] = std::move(p);
      healthy = healthy && st.state != "disabled";
    }
    const auto& st = pipe.stats();  // as of the pipeline's last database job: no lock
    o["status"] = healthy ? "ok" : "unhealthy";
    o["database"] = pipe.database_ok() ? "ok" : "failing";
    o["platforms"] = std::move(platforms);
    o["commands"] = st.commands;
    o["not_recorded"] = st.not_recorded;
    return {healthy ? 200u : 503u, "application/json", boost::json::serialize(o) + "\n"};
  }

  net::http_reply metrics() {
    runtime::metrics_text m;
    const auto& st = pipe.stats();
    m.counter("signoff_commands_total", "Commands received (every one audited or refused as not recorded).",
              st.commands);
    m.counter("signoff_commands_not_recorded_total", "Commands refused because the database could not record.",
              st.not_recorded);
    m.counter("signoff_deliveries_duplicate_total", "Platform deliveries seen before and not executed again.",
              st.duplicates);
    m.counter("signoff_batches_total", "Durable group commits of commands.", pipe.batches());
    m.counter("signoff_timer_actions_total", "Escalation levels and embargo releases fired.", st.timer_actions);
    m.counter("signoff_timer_failures_total", "Timer rounds stopped by a database failure.", st.timer_failures);
    m.counter("signoff_timer_rows_skipped_total", "Timer rows that could not be read back, skipped.",
              st.timer_rows_skipped);
    m.counter("signoff_posts_sent_total", "Outbox posts delivered.", st.posts_sent);
    m.counter("signoff_posts_failed_total", "Outbox posts that failed for good.", st.posts_failed);
    m.gauge("signoff_database_up", "1 when the last group commit was recorded.", pipe.database_ok() ? 1 : 0);
    for (const auto& a : adapters) a->metrics(m);
    return {200, "text/plain; version=0.0.4; charset=utf-8", m.str()};
  }

  void posts_enqueued() {
    for (auto& a : adapters) a->posts_enqueued();
  }

  // Stops every adapter, then calls `done`.
  void stop_all(std::function<void()> done) {
    auto left = std::make_shared<std::size_t>(adapters.size());
    if (*left == 0) return done();
    for (auto& a : adapters)
      a->stop([left, done] {
        if (--*left == 0) done();
      });
  }
};

}  // namespace

void sd_notify(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::size_t len = std::strlen(path);
  if (len >= sizeof addr.sun_path) return;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
           static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
  ::close(fd);
}

int run_service(const std::string& config_path) {
  setup_logging();
  auto log = spdlog::default_logger();
  auto loaded = conf::load_file(config_path);
  for (const auto& d : loaded.diagnostics) (d.warning ? log->warn("{}", conf::format(d)) : log->error("{}", conf::format(d)));
  if (!loaded.ok()) {
    log->error("refusing to start on an invalid config: {}", config_path);
    return 2;
  }
  const conf::config& cfg = *loaded.cfg;
  if (!cfg.slack) {
    log->error("no network platform is configured (add a [slack] section); use `signoff shell` for the terminal");
    return 2;
  }
  if (cfg.discord) log->warn("[discord] is configured but this build has no Discord adapter yet; ignoring it");
  if (cfg.mattermost)
    log->warn("[mattermost] is configured but this build has no Mattermost adapter yet; ignoring it");

  adapters::slack_secrets secrets;
  {
    std::string problem;
    auto app = conf::read_secret_value(cfg.slack->app_token, "slack.app_token", problem);
    if (!app) return log->error("{}", problem), 2;
    auto bot = conf::read_secret_value(cfg.slack->bot_token, "slack.bot_token", problem);
    if (!bot) return log->error("{}", problem), 2;
    if (app->rfind("xapp-", 0) != 0)
      return log->error("slack.app_token: not an app-level token (Slack app tokens start with xapp-)"), 2;
    if (bot->rfind("xoxb-", 0) != 0)
      return log->error("slack.bot_token: not a bot token (Slack bot tokens start with xoxb-)"), 2;
    secrets = {*app, *bot};
  }

  std::unique_ptr<sqlite_store> db;
  try {
    db = std::make_unique<sqlite_store>(
        cfg.storage.path, sqlite_store::options{static_cast<int>(cfg.storage.busy_timeout.count()), nullptr});
  } catch (const std::exception& e) {
    log->error("cannot open the database {}: {}", cfg.storage.path, e.what());
    return 1;
  }
  if (auto w = db->permission_warning(); !w.empty()) log->warn("{}", w);
  executor exec(cfg, *db, {platform::slack});
  try {
    exec.record_config(false, config_path, now_ms());
  } catch (const std::exception& e) {
    log->error("cannot record config.load: {}", e.what());
    return 1;
  }

  asio::io_context ioc(1);
  // From here on every database operation runs on the pipeline's thread.
  runtime::command_pipeline pipe(ioc.get_executor(), exec, *db);
  service svc{cfg, pipe, {}};
  std::unique_ptr<net::http_server> http;
  try {
    http = std::make_unique<net::http_server>(ioc.get_executor(), cfg.http_listen, [&](std::string_view target) {
      if (target == "/healthz") return svc.healthz();
      if (target == "/metrics") return svc.metrics();
      return net::http_reply{404, "text/plain; charset=utf-8", "not found: try /healthz or /metrics\n"};
    });
    http->start();
    log->info("health and metrics on http://{} (port {})", cfg.http_listen, http->port());
  } catch (const std::exception& e) {
    log->error("http: {}", e.what());
    return 1;
  }

  svc.adapters.push_back(std::make_unique<adapters::slack_adapter>(ioc.get_executor(), cfg, pipe, secrets));
  for (auto& a : svc.adapters) {
    try {
      a->start();
    } catch (const std::exception& e) {
      log->error("{}: {}", a->name(), e.what());
      return 2;
    }
  }

  bool stopping = false;
  runtime::event timers_changed(ioc.get_executor());
  pipe.on_due_changed([&] { timers_changed.notify(); });
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    // The scheduler: escalation levels and embargo releases live in the
    // database. Fire what is due (on the pipeline's thread), then sleep until
    // the next due time, or until a group commit may have armed a timer.
    // Another process may share the database, so it looks again at least
    // every 30 s.
    struct round {
      executor::tick_result r;
      std::optional<time_point> next;
    };
    while (!stopping) {
      auto rd = co_await pipe.call([&] {
        round out;
        out.r = exec.run_due(now_ms());
        try {
          out.next = exec.next_due();
        } catch (const std::exception&) {
          out.next = now_ms() + 1s;  // the database is failing: try again soon
        }
        return out;
      });
      for (const auto& f : rd.r.fired) log->info("timer: {}", f.substr(0, f.find('\n')));
      if (!rd.r.fired.empty()) svc.posts_enqueued();
      for (const auto& k : rd.r.skipped) log->error("timer row {}", k);
      std::chrono::milliseconds wait = 30s;
      if (!rd.r.error.empty()) {
        log->error("timer actions postponed, database: {}", rd.r.error);
        wait = 1s;
      }
      if (rd.next)
        wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*rd.next - now_ms()), 0ms, wait);
      if (stopping) break;
      co_await timers_changed.wait_until(std::chrono::steady_clock::now() + wait);
    }
  }, asio::detached);

  asio::signal_set signals(ioc, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log->info("signal {}: finishing commands in flight, then exiting", sig);
    sd_notify("STOPPING=1");
    stopping = true;
    timers_changed.notify();
    http->stop();
    svc.stop_all([&] { pipe.drain([&] { ioc.stop(); }); });
  });

  sd_notify("READY=1");
  log->info("signoff {} running (config {}, database {})", SIGNOFF_VERSION, config_path, cfg.storage.path);
  ioc.run();
  log->info("stopped");
  return 0;
}

}  // namespace signoff
