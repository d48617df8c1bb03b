#include "bot/adapters/slack.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <map>
#include <random>
#include <unistd.h>

#include "bot/runtime/event.hpp"
#include "bot/runtime/late_confirm.hpp"
#include "bot/runtime/link_adapter.hpp"
#include "bot/runtime/link_driver.hpp"
#include "bot/runtime/outbox.hpp"
#include "bot/runtime/pipeline.hpp"
#include "bot/net/net.hpp"
#include "bot/protocol/slack/codec.hpp"
#include "bot/protocol/slack/identity.hpp"
#include "bot/protocol/slack/session.hpp"

namespace signoff::adapters {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

time_point now() { return clock_now(); }

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

using runtime::event;

// Errors after which a post is retried rather than reported failed.
bool transient_error(std::string_view e) {
  return e == "ratelimited" || e == "internal_error" || e == "fatal_error" ||
         e == "service_unavailable" || e == "request_timeout" || e == "invalid_response";
}

constexpr auto seen_keep = std::chrono::hours(24);       // dedup window for deliveries
constexpr auto late_window = std::chrono::minutes(30);   // response_url lifetime (Slack: 30 min)

}  // namespace

struct slack_adapter::impl : std::enable_shared_from_this<impl>, runtime::post_sender, runtime::link_protocol {
  struct pending_cmd {
    link::link_id link = 0;
    std::string envelope_id;
    slack::run_command cmd;
  };

  asio::any_io_executor ex;
  std::shared_ptr<const conf::config> cfg;  // replaced by reconfigure(), on this executor
  runtime::command_pipeline& pipe;
  slack_secrets secrets;
  std::shared_ptr<spdlog::logger> log;

  std::unique_ptr<net::tls_context> tls;
  net::api_base api;
  std::unique_ptr<net::http_client> api_connect, api_posts, api_interactive;
  std::map<std::string, std::unique_ptr<net::http_client>> response_clients;

  std::mt19937_64 rng{std::random_device{}()};
  slack::session fsm;
  runtime::link_driver links;
  runtime::in_flight flight;  // commands submitted and not yet answered; SIGTERM's sequence
  // Slack allows about one message per second per channel.
  runtime::outbox_worker outbox;

  slack_counters counters;

  static slack::session_options session_options() {
    slack::session_options o;
    // Slack gives no figure for too_many_websockets; 10 s lets a duplicate
    // instance's links drain without hammering apps.connections.open.
    o.too_many_backoff = std::chrono::seconds(10);
    return o;
  }

  impl(asio::any_io_executor e, std::shared_ptr<const conf::config> c, runtime::command_pipeline& p,
       slack_secrets s)
      : ex(e), cfg(std::move(c)), pipe(p), secrets(std::move(s)),
        log(spdlog::default_logger()->clone("slack")),
        fsm(session_options(), [this] { return std::uniform_real_distribution<double>(0, 1)(rng); }),
        links(e, *this, log, runtime::link_options{"Socket Mode", {}}),
        flight(e),
        outbox(e, p, platform::slack, std::chrono::milliseconds(1100), *this, log) {}

  // ---- set-up -------------------------------------------------------------
  void start() {
    const auto& sc = *cfg->slack;
    api = net::parse_api_base("slack.api_base", sc.api_base);
    tls = std::make_unique<net::tls_context>(sc.ca_file);
    api_connect = std::make_unique<net::http_client>(ex, *tls, api.origin);
    api_posts = std::make_unique<net::http_client>(ex, *tls, api.origin);
    api_interactive = std::make_unique<net::http_client>(ex, *tls, api.origin);
    auto self = shared_from_this();
    asio::co_spawn(ex, [self]() -> awaitable<void> {
      // Named, not temporaries in the co_await: GCC 12 destroys those twice.
      runtime::late_options o{platform::slack, late_window, seen_keep};
      runtime::late_reply_fn resend = [self](const unconfirmed_envelope& row, std::string text) {
        return self->reply_via_url(row.response_url, std::move(text), "");
      };
      self->counters.late_confirmations += co_await runtime::confirm_late(self->pipe, o, resend, self->log);
    }, asio::detached);
    outbox.start();
    links.start(self, fsm.start(now()));
  }

  // ---- Socket Mode links: what runtime::link_driver asks of Slack ------------
  // Every link starts with apps.connections.open (its URL is single use).
  awaitable<runtime::link_opened> open_transport(link::link_id) override {
    auto self = shared_from_this();
    runtime::link_opened out;
    std::optional<net::url> wss = co_await connection_url(out);
    if (wss) {
      auto [ec, ws] = co_await net::ws_client::connect(ex, *tls, *wss, net::timeouts{});
      // The URL's query is a single-use ticket: name the host only.
      if (ec) out.why = "websocket connect to " + wss->host + ": " + ec.message();
      else out.ws = std::move(ws);
    }
    co_return out;
  }
  // apps.connections.open: the link's single-use wss URL, or nullopt with
  // out.why (and out.fatal for an auth error) set.
  awaitable<std::optional<net::url>> connection_url(runtime::link_opened& out) {
    net::http_request req;
    req.target = api.prefix + "apps.connections.open";
    req.content_type = "application/x-www-form-urlencoded";
    req.bearer = secrets.app_token;
    auto [ec, resp] = co_await api_connect->request(req);
    std::optional<net::url> wss;
    if (ec) {
      out.why = "apps.connections.open: " + ec.message();
    } else if (resp.status == 429) {
      out.why = "apps.connections.open: rate limited (HTTP 429)";
    } else {
      auto r = slack::decode_api_response(resp.body);
      if (!r.ok) {
        out.why = "apps.connections.open: " + (r.error.empty() ? "HTTP " + std::to_string(resp.status) : r.error);
        out.fatal = slack::fatal_auth_error(r.error);
      } else if (auto cu = slack::connection_url(r); !cu || !(wss = net::parse_url(*cu))) {
        out.why = "apps.connections.open: no usable url in the response";
      } else if (!api.may_use(*wss)) {
        out.why = "apps.connections.open: refusing a plain ws:// link";
        wss.reset();
      }
    }
    co_return wss;
  }
  std::vector<link::action> on_connected(link::link_id id, time_point t) override { return fsm.on_connected(id, t); }
  std::vector<link::action> on_open_failed(link::link_id id, const std::string& why, bool fatal,
                                           time_point t) override {
    return fsm.on_open_failed(id, why, fatal, t);
  }
  std::vector<link::action> on_closed(link::link_id id, const std::string& why, std::uint16_t,
                                      time_point t) override {
    return fsm.on_closed(id, why, t);
  }
  std::vector<link::action> on_timer(time_point t) override { return fsm.on_timer(t); }
  std::vector<link::action> on_stop() override { return fsm.stop(); }

  std::vector<link::action> on_frame(link::link_id id, const std::string& text, time_point t) override {
    auto d = slack::decode_frame(text);
    if (auto* err = std::get_if<slack::decode_error>(&d)) {
      ++counters.malformed_frames;
      log->warn("link {}: ignoring a malformed frame: {}", id, err->message);
      return {};
    }
    return std::visit(overloaded{
                          [&](const slack::hello& h) {
                            log->info("link {}: hello (num_connections {})", id, h.num_connections);
                            return fsm.on_hello(id, h, t);
                          },
                          [&](const slack::disconnect& dc) {
                            ++counters.disconnects;
                            log->info("link {}: disconnect ({})", id, dc.reason_text);
                            return fsm.on_disconnect(id, dc, t);
                          },
                          [&](const slack::envelope& e) {
                            on_envelope(id, e);
                            return std::vector<link::action>{};
                          },
                          [&](const slack::unknown_frame& u) {
                            log->debug("link {}: ignoring frame type '{}'", id, u.type);
                            return std::vector<link::action>{};
                          },
                      },
                      std::get<slack::frame>(d));
  }

  bool send_ack(link::link_id l, const std::string& envelope_id, const boost::json::object* payload) {
    if (!links.send(l, slack::encode_ack(envelope_id, payload))) return false;
    ++counters.acks;
    return true;
  }

  void on_envelope(link::link_id l, const slack::envelope& e) {
    ++counters.envelopes;
    if (e.retry_attempt > 0)
      log->info("envelope {} redelivered (retry_attempt {}, {})", e.envelope_id, e.retry_attempt,
                e.retry_reason);
    std::visit(overloaded{
                   [&](const slack::run_command& rc) { submit({l, e.envelope_id, rc}); },
                   [&](const slack::open_reject_modal& m) {
                     send_ack(l, e.envelope_id, nullptr);
                     auto self = shared_from_this();
                     std::string response_url;
                     if (auto* v = e.payload.if_contains("response_url"); v && v->is_string())
                       response_url = std::string(v->get_string());
                     asio::co_spawn(ex, [self, m, response_url]() { return self->open_modal(m, response_url); },
                                    asio::detached);
                   },
                   [&](const slack::modal_error& me) {
                     auto payload = slack::modal_errors(me);
                     send_ack(l, e.envelope_id, &payload);
                   },
                   [&](const slack::ignore_envelope& ig) {
                     send_ack(l, e.envelope_id, nullptr);
                     log->debug("envelope {} ({}) ignored: {}", e.envelope_id, e.type, ig.why);
                   },
               },
               slack::interpret(e));
  }

  // ---- commands: the pipeline's durable group commits, then acks ---------------
  // The pipeline commits on its database thread while this thread keeps
  // reading frames and writing acks; each command is answered once its
  // commit is durable.
  void submit(pending_cmd c) {
    flight.begin();
    incoming in{slack::actor_for(c.cmd.from, c.envelope_id), c.cmd.line, c.cmd.response_url, {}};
    auto self = shared_from_this();
    pipe.submit(std::move(in), [self, c = std::move(c)](execution r) {
      if (!r.recorded) log_not_recorded(*self, r);
      self->respond(c, r);
      // Only then: an idle claim would be a commit of its own (and take the
      // lazily kept confirmations with it).
      if (r.posts_enqueued > 0) self->outbox.wake();
      self->flight.end();
    });
  }

  static void log_not_recorded(impl& self, const execution& r) {
    self.log->error("database could not record {}: {}", r.action.empty() ? "a command" : r.action, r.error);
  }

  // The reply of this envelope reached its user: marked in the database with
  // the next commit (or after half a second of quiet).
  void confirmed(const std::string& envelope_id) { pipe.confirmed(platform::slack, envelope_id); }

  void respond(const pending_cmd& c, const execution& r) {
    if (r.duplicate) {
      log->info("envelope {} seen before (audit seq {}): not executed again", c.envelope_id, r.seq);
    }
    auto self = shared_from_this();
    const auto& rc = c.cmd;
    if (rc.ephemeral_ack) {
      auto payload = slack::ephemeral_reply(r.reply);
      if (send_ack(c.link, c.envelope_id, &payload)) {
        if (r.recorded) confirmed(c.envelope_id);
      } else if (r.recorded && !rc.response_url.empty()) {
        // The link died before the ack: the user still learns the outcome.
        asio::co_spawn(ex, [self, url = rc.response_url, text = r.reply, id = c.envelope_id]() {
          return self->reply_via_url(url, text, id);
        }, asio::detached);
      }
      return;
    }
    send_ack(c.link, c.envelope_id, nullptr);  // closes the modal / settles the click
    if (rc.from_modal) {
      asio::co_spawn(ex, [self, ch = rc.from.channel_id, user = rc.from.user_id, text = r.reply,
                          id = c.envelope_id, rec = r.recorded]() {
        return self->post_ephemeral(ch, user, text, rec ? id : std::string());
      }, asio::detached);
    } else if (!rc.response_url.empty()) {
      asio::co_spawn(ex, [self, url = rc.response_url, text = r.reply,
                          id = r.recorded ? c.envelope_id : std::string()]() {
        return self->reply_via_url(url, text, id);
      }, asio::detached);
    }
  }

  // ---- Web API helpers -----------------------------------------------------------
  struct api_outcome {
    enum class kind { ok, retry, failed } k = kind::failed;
    slack::api_result r;
    std::chrono::milliseconds retry_after{0};
    std::string error;
  };

  awaitable<api_outcome> call(net::http_client& client, const std::string& method,
                              const boost::json::object& args) {
    ++counters.api_calls;
    net::http_request req;
    req.target = api.prefix + method;
    req.content_type = "application/json; charset=utf-8";
    req.body = boost::json::serialize(args);
    req.bearer = secrets.bot_token;
    auto [ec, resp] = co_await client.request(std::move(req));
    api_outcome out;
    if (ec) {
      out.k = api_outcome::kind::retry;
      out.error = ec.message();
      out.retry_after = 2s;
    } else if (resp.status == 429) {
      ++counters.rate_limited;
      out.k = api_outcome::kind::retry;
      out.error = "ratelimited";
      out.retry_after = resp.retry_after ? std::chrono::duration_cast<std::chrono::milliseconds>(*resp.retry_after)
                                         : std::chrono::milliseconds(1000);
    } else if (resp.status >= 500) {
      out.k = api_outcome::kind::retry;
      out.error = "HTTP " + std::to_string(resp.status);
      out.retry_after = 2s;
    } else {
      out.r = slack::decode_api_response(resp.body);
      if (out.r.ok) out.k = api_outcome::kind::ok;
      else {
        out.error = out.r.error;
        out.k = transient_error(out.r.error) ? api_outcome::kind::retry : api_outcome::kind::failed;
        out.retry_after = 2s;
      }
    }
    if (out.k != api_outcome::kind::ok) {
      ++counters.api_errors;
      log->warn("{}: {}", method, out.error);
    }
    co_return out;
  }

  awaitable<void> open_modal(slack::open_reject_modal m, std::string response_url) {
    auto self = shared_from_this();
    auto args = slack::reject_modal(m.trigger_id, m.draft, m.rev, m.from.channel_id, cfg->limits.max_text);
    auto out = co_await call(*api_interactive, "views.open", args);
    if (out.k != api_outcome::kind::ok && !response_url.empty())
      co_await reply_via_url(response_url,
                             "Could not open the reject dialog (" + out.error + "). Use /reject " + m.draft +
                                 "@" + std::to_string(m.rev) + " REASON instead.",
                             "");
  }

  awaitable<void> post_ephemeral(std::string channel, std::string user, std::string text,
                                 std::string envelope_id) {
    auto self = shared_from_this();
    boost::json::object args = slack::plain_message(text);
    args["channel"] = channel;
    args["user"] = user;
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto out = co_await call(*api_interactive, "chat.postEphemeral", args);
      if (out.k == api_outcome::kind::ok) {
        if (!envelope_id.empty()) confirmed(envelope_id);
        co_return;
      }
      if (out.k == api_outcome::kind::failed) co_return;
      asio::steady_timer t(ex, out.retry_after);
      co_await t.async_wait(use_tuple);
    }
  }

  // POSTs an ephemeral message to a response_url (valid 30 min, 5 uses).
  awaitable<bool> reply_via_url(std::string url_text, std::string text, std::string envelope_id) {
    auto self = shared_from_this();
    auto u = net::parse_url(url_text);
    if (!u || !api.may_use(*u)) {
      log->warn("ignoring a response_url that is not https");
      co_return false;
    }
    auto& client = response_clients[u->origin()];
    if (!client) client = std::make_unique<net::http_client>(ex, *tls, *u);
    boost::json::object body = slack::response_url_reply(text);
    net::http_request req;
    req.target = u->target;
    req.content_type = "application/json; charset=utf-8";
    req.body = boost::json::serialize(body);
    auto [ec, resp] = co_await client->request(std::move(req));
    if (ec || resp.status >= 300) {
      log->warn("response_url reply failed: {}", ec ? ec.message() : "HTTP " + std::to_string(resp.status));
      co_return false;
    }
    if (!envelope_id.empty()) confirmed(envelope_id);
    co_return true;
  }

  // ---- the outbox: what runtime::outbox_worker asks of Slack ---------------------
  // chat.postMessage for new posts, chat.update for a card sent before (a
  // card that is gone is posted anew).
  awaitable<runtime::delivery> send(const outbox_post& p, std::optional<std::string> card_ts) override {
    auto self = shared_from_this();
    boost::json::object args;
    std::string method = "chat.postMessage";
    if (p.kind == post_kind::card || p.kind == post_kind::card_update) {
      // A card queued by a build before cards were values goes as its text.
      args = p.card ? slack::card_message(*p.card) : slack::plain_message(p.text);
      if (p.kind == post_kind::card_update && card_ts) {
        method = "chat.update";
        args["ts"] = *card_ts;
      }
    } else if (p.kind == post_kind::dm) {
      // chat.postMessage with the user ID as channel opens the app's DM.
      args = slack::page_dm_message(p.text, p.subject);
    } else {
      args = slack::mrkdwn_message(slack::render_mentions(p.text, p.mentions));
    }
    args["channel"] = p.platform_channel;
    auto out = co_await call(*api_posts, method, args);
    if (out.k == api_outcome::kind::failed && method == "chat.update" &&
        (out.error == "message_not_found" || out.error == "cant_update_message" ||
         out.error == "edit_window_closed")) {
      args.erase("ts");  // the card is gone: post the current state as a new card
      out = co_await call(*api_posts, "chat.postMessage", args);
    }
    runtime::delivery d;
    switch (out.k) {
      case api_outcome::kind::ok: {
        d.outcome = runtime::delivery::status::sent;
        d.result = method == "chat.update" ? std::string(args.at("ts").as_string()) : std::string();
        if (auto* v = out.r.body.if_contains("ts"); v && v->is_string()) d.result = std::string(v->get_string());
        break;
      }
      case api_outcome::kind::retry:
        d.outcome = runtime::delivery::status::retry;
        d.pause = out.retry_after;
        break;
      case api_outcome::kind::failed:
        d.outcome = runtime::delivery::status::failed;
        d.result = out.error;
        break;
    }
    co_return d;
  }

  // A direct message from the app: chat.postMessage to the user ID opens it.
  void report_failure(const outbox_post& p, const std::string& notice) override {
    const auto* person = cfg->find_person(p.requested_by);
    if (!person || person->slack.empty()) return;
    auto self = shared_from_this();
    boost::json::object args = slack::plain_message(notice);
    args["channel"] = person->slack;
    asio::co_spawn(ex, [self, args]() -> awaitable<void> {
      co_await self->call(*self->api_interactive, "chat.postMessage", args);
    }, asio::detached);
  }
};

slack_adapter::slack_adapter(asio::any_io_executor ex, std::shared_ptr<const conf::config> cfg,
                             runtime::command_pipeline& pipe, slack_secrets secrets)
    : impl_(std::make_shared<impl>(ex, std::move(cfg), pipe, std::move(secrets))) {}

slack_adapter::~slack_adapter() = default;

void slack_adapter::start() { impl_->start(); }

void slack_adapter::stop(std::function<void()> done) {
  impl_->flight.stop(impl_, impl_->links, impl_->outbox, std::move(done));
}

void slack_adapter::posts_enqueued() { impl_->outbox.wake(); }
void slack_adapter::reconfigure(std::shared_ptr<const conf::config> cfg) { impl_->cfg = std::move(cfg); }
runtime::adapter_status slack_adapter::status() const {
  return runtime::link_status(impl_->links, impl_->fsm.live_links());
}

void slack_adapter::metrics(runtime::metrics_text& out) const {
  const auto& c = impl_->counters;
  const int links = impl_->fsm.live_links();
  out.gauge("signoff_slack_up", "1 when a Socket Mode link is live.", links > 0 ? 1 : 0);
  out.gauge("signoff_slack_links", "Live Socket Mode links.", links);
  out.counter("signoff_slack_envelopes_total", "Socket Mode envelopes received.", c.envelopes);
  out.counter("signoff_slack_acks_total", "Envelope acks written.", c.acks);
  // The pipeline's group commits (kept under this name for dashboards).
  out.counter("signoff_slack_batches_total", "Grouped durable commits.", impl_->pipe.batches());
  out.counter("signoff_slack_links_opened_total", "Socket Mode links attempted.", impl_->links.counters().opened);
  out.counter("signoff_slack_link_failures_total", "Links that failed to open.", impl_->links.counters().open_failures);
  out.counter("signoff_slack_disconnects_total", "disconnect messages received.", c.disconnects);
  out.counter("signoff_slack_malformed_frames_total", "Frames that did not decode.", c.malformed_frames);
  out.counter("signoff_slack_api_calls_total", "Web API calls.", c.api_calls);
  out.counter("signoff_slack_api_errors_total", "Web API calls that failed.", c.api_errors);
  out.counter("signoff_slack_rate_limited_total", "HTTP 429 answers.", c.rate_limited);
  out.counter("signoff_slack_late_confirmations_total", "Replies confirmed after a restart.", c.late_confirmations);
}

}  // namespace signoff::adapters
