#include "bot/app/run.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <string_view>
#include <memory>
#include <vector>

#include "bot/app/console.hpp"
#include "bot/app/platforms.hpp"
#include "bot/app/signing.hpp"
#include "bot/core/time.hpp"
#include "bot/net/net.hpp"
#include "bot/runtime/checkpointer.hpp"
#include "bot/runtime/health.hpp"
#include "bot/runtime/pipeline.hpp"
#include "bot/runtime/reload.hpp"
#include "bot/runtime/scheduler.hpp"
#include "handlers/executor.hpp"
#include "storage/sqlite_store.hpp"

namespace signoff {
namespace {

namespace asio = boost::asio;

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
  runtime::command_pipeline& pipe;
  std::vector<std::unique_ptr<runtime::adapter>> adapters;
  const runtime::checkpointer* checkpoints = nullptr;

  net::http_reply serve(std::string_view target) const {
    if (target != "/healthz" && target != "/metrics")
      return net::http_reply{404, "text/plain; charset=utf-8", "not found: try /healthz or /metrics\n"};
    auto s = runtime::snapshot(pipe, adapters);
    if (checkpoints) s.checkpoints = checkpoints->stats();
    auto r = target == "/healthz" ? runtime::healthz(s) : runtime::metrics(s);
    return net::http_reply{r.status, std::move(r.content_type), std::move(r.body)};
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

// Shutdown, once the adapters stopped: the last checkpoint witnesses the
// commands they finished (its post goes out at the next start), then the
// pipeline commits what is queued and the loop ends.
asio::awaitable<void> last_checkpoint_then_drain(runtime::checkpointer* checkpoints,
                                                 runtime::command_pipeline& pipe, asio::io_context& ioc) {
  if (checkpoints) co_await checkpoints->final_checkpoint();
  pipe.drain([&ioc] { ioc.stop(); });
}

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
  // Shared: a SIGHUP reload replaces it whole (runtime::config_reloader);
  // what is read below ([storage], [http], [slack]) takes a restart.
  auto shared = std::make_shared<const conf::config>(std::move(*loaded.cfg));
  const conf::config& cfg = *shared;
  auto plans = app::plan_platforms(shared, *log);
  if (!plans) return 2;
  std::vector<platform> delivering;
  for (const auto& p : *plans) delivering.push_back(p.on);
  // Read once, before anything is served: a key that cannot sign stops the
  // start (checkpoints were asked for), and its bytes are never logged.
  std::string key_problem;
  auto signer = app::load_signer(cfg, key_problem);
  if (!key_problem.empty()) {
    log->error("cannot load the audit signing key: {}", key_problem);
    return 2;
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
  executor exec(shared, *db, delivering);
  try {
    exec.record_config(false, config_path, clock_now());
  } catch (const std::exception& e) {
    log->error("cannot record config.load: {}", e.what());
    return 1;
  }

  asio::io_context ioc(1);
  // From here on every database operation runs on the pipeline's thread.
  runtime::command_pipeline pipe(ioc.get_executor(), exec, *db);
  service svc{pipe, {}};
  std::unique_ptr<net::http_server> http;
  try {
    http = std::make_unique<net::http_server>(ioc.get_executor(), cfg.http_listen,
                                              [&](std::string_view target) { return svc.serve(target); });
    http->start();
    log->info("health and metrics on http://{} (port {})", cfg.http_listen, http->port());
  } catch (const std::exception& e) {
    log->error("http: {}", e.what());
    return 1;
  }

  for (auto& p : *plans) svc.adapters.push_back(p.make(ioc.get_executor(), pipe));
  for (auto& a : svc.adapters) a->serve_http(*http);
  for (auto& a : svc.adapters) {
    try {
      a->start();
    } catch (const std::exception& e) {
      log->error("{}: {}", a->name(), e.what());
      return 2;
    }
  }

  runtime::scheduler timers(ioc.get_executor(), pipe, exec, log, [&] { svc.posts_enqueued(); });
  timers.start();

  std::unique_ptr<runtime::checkpointer> checkpoints;
  if (signer) {
    checkpoints = std::make_unique<runtime::checkpointer>(
        ioc.get_executor(), pipe, exec, *signer, cfg.audit->checkpoint_every,
        std::chrono::duration_cast<std::chrono::milliseconds>(cfg.audit->checkpoint_interval), log,
        [&] { svc.posts_enqueued(); });
    svc.checkpoints = checkpoints.get();
    checkpoints->start();
    log->info("signing audit checkpoints as {} (every {} records or {} s)", signer->verifier_key(),
              cfg.audit->checkpoint_every, cfg.audit->checkpoint_interval.count());
  }

  std::unique_ptr<app::audit_console> console;
  if (cfg.console) {
    try {
      console = std::make_unique<app::audit_console>(shared, pipe, exec, ioc.get_executor(),
                                                     signer ? signer->verifier_key() : std::string(), log);
      log->info("audit console on {}://{} (port {}), links point at {}", cfg.console->cert_file.empty() ? "http" : "https",
                cfg.console->listen, console->port(), cfg.console->base_url);
    } catch (const std::exception& e) {
      log->error("console: {}", e.what());
      return 1;
    }
  }

  runtime::config_reloader reloader(ioc.get_executor(), pipe, exec, config_path, log,
                                    [&](std::shared_ptr<const conf::config> next) {
                                      for (auto& a : svc.adapters) a->reconfigure(next);
                                      if (console) console->reconfigure(next);
                                    });
  reloader.start();

  asio::signal_set signals(ioc, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log->info("signal {}: finishing commands in flight, then exiting", sig);
    sd_notify("STOPPING=1");
    timers.stop();
    if (checkpoints) checkpoints->stop();
    reloader.stop();
    http->stop();
    if (console) console->stop();
    svc.stop_all([&] {
      asio::co_spawn(ioc, last_checkpoint_then_drain(checkpoints.get(), pipe, ioc), asio::detached);
    });
  });

  sd_notify("READY=1");
  log->info("signoff {} running (config {}, database {})", SIGNOFF_VERSION, config_path, cfg.storage.path);
  ioc.run();
  log->info("stopped");
  return 0;
}

}  // namespace signoff
