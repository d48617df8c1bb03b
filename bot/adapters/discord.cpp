#include "bot/adapters/discord.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <map>
#include <random>
#include <set>

#include "bot/core/text.hpp"
#include "bot/net/net.hpp"
#include "bot/protocol/discord/codec.hpp"
#include "bot/protocol/discord/gateway.hpp"
#include "bot/protocol/discord/rate_limit.hpp"
#include "bot/runtime/event.hpp"
#include "bot/runtime/late_confirm.hpp"
#include "bot/runtime/link_adapter.hpp"
#include "bot/runtime/link_driver.hpp"
#include "bot/runtime/outbox.hpp"
#include "bot/runtime/pipeline.hpp"

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

// Discord wants "DiscordBot ($url, $versionNumber)" on every REST request.
constexpr const char* user_agent = "DiscordBot (https://github.com/signoff-bot/signoff, " SIGNOFF_VERSION ")";

// Discord drops an interaction whose first callback is not in within 3 s.
// SPEC: defer when the decision cannot be durable within 2.5 s; deferring at
// 2 s leaves the deferral's own round trip inside Discord's 3 s.
constexpr auto defer_after = 2000ms;
constexpr auto callback_deadline = 2900ms;   // no first callback attempt after this
constexpr auto seen_keep = std::chrono::hours(24);
constexpr auto late_window = std::chrono::minutes(15);  // interaction tokens live 15 minutes
constexpr std::size_t callback_clients = 4;  // callbacks in parallel (each client is serial)

// Discord's JSON error code "Interaction has already been acknowledged":
// a callback repeated after a lost answer, or a replay after a resume.
constexpr int already_acknowledged = 40060;
constexpr int unknown_message = 10008;
// In a stored late-reply route, what follows this is the user to DM.
constexpr const char* late_dm_marker = "#dm=";
constexpr std::size_t late_dm_marker_size = 4;

}  // namespace

struct discord_adapter::impl : std::enable_shared_from_this<impl>, runtime::post_sender, runtime::link_protocol {
  // One interaction being executed and answered.
  struct pending_ix {
    explicit pending_ix(asio::any_io_executor e) : wake(e) {}
    std::string id, token;
    steady::time_point received;
    std::optional<execution> result;
    runtime::event wake;
  };

  asio::any_io_executor ex;
  std::shared_ptr<const conf::config> cfg;
  runtime::command_pipeline& pipe;
  discord_secrets secrets;
  std::shared_ptr<spdlog::logger> log;
  std::string application_id, guild_id;

  std::unique_ptr<net::tls_context> tls;
  net::api_base api;
  std::unique_ptr<net::http_client> api_gateway, api_posts;
  std::vector<std::unique_ptr<net::http_client>> api_callbacks;
  std::size_t next_callback = 0;
  discord::rest_limiter limiter;

  std::mt19937_64 rng{std::random_device{}()};
  discord::gateway fsm;
  runtime::link_driver links;
  runtime::in_flight flight;  // interactions read and not yet answered; SIGTERM's sequence
  runtime::outbox_worker outbox;
  std::map<std::string, std::string> dm_channels;  // user ID -> DM channel ID
  // Interactions this process took (the newest `taken_kept`): a replay of
  // one after a resume is neither executed (the pipeline's dedup would say
  // so too) nor answered a second time (Discord refuses a second callback).
  // A replay of one taken by an earlier process goes to the pipeline, which
  // answers with the first reply.
  std::set<std::string> taken;
  std::deque<std::string> taken_order;
  static constexpr std::size_t taken_kept = 10'000;

  // Late confirmations waiting to go to a user by DM (send_late_dms).
  struct late_slot {
    explicit late_slot(asio::any_io_executor e) : done(e) {}
    runtime::event done;
    bool ok = false;
  };
  struct late_text {
    std::string text;
    std::shared_ptr<late_slot> slot;
  };
  std::map<std::string, std::vector<late_text>> late_dms;  // user ID -> texts

  discord_counters counters;

  impl(asio::any_io_executor e, std::shared_ptr<const conf::config> c, runtime::command_pipeline& p,
       discord_secrets s)
      : ex(e), cfg(std::move(c)), pipe(p), secrets(std::move(s)),
        log(spdlog::default_logger()->clone("discord")),
        application_id(cfg->discord->application_id), guild_id(cfg->discord->guild_id),
        fsm(discord::gateway_options{}, secrets.token,
            [this] { return std::uniform_real_distribution<double>(0, 1)(rng); }),
        // Discord: at most 120 gateway sends per 60 s per connection.
        links(e, *this, log, runtime::link_options{"Gateway", link::send_budget(120, std::chrono::seconds(60))}),
        flight(e),
        // Discord allows 5 messages per 5 s per channel; the limiter keeps
        // the exact buckets, the pacer spreads a burst.
        outbox(e, p, platform::discord, std::chrono::milliseconds(1000), *this, log) {}

  // ---- set-up -------------------------------------------------------------
  void start() {
    const auto& dc = *cfg->discord;
    api = net::parse_api_base("discord.api_base", dc.api_base);
    tls = std::make_unique<net::tls_context>(dc.ca_file);
    api_gateway = std::make_unique<net::http_client>(ex, *tls, api.origin);
    api_posts = std::make_unique<net::http_client>(ex, *tls, api.origin);
    for (std::size_t i = 0; i < callback_clients; ++i)
      api_callbacks.push_back(std::make_unique<net::http_client>(ex, *tls, api.origin));
    auto self = shared_from_this();
    asio::co_spawn(ex, [self]() { return self->register_commands(); }, asio::detached);
    asio::co_spawn(ex, [self]() -> awaitable<void> {
      runtime::late_options o{platform::discord, late_window, seen_keep};
      runtime::late_reply_fn resend = [self](const unconfirmed_envelope& row, std::string text) {
        return self->followup(row.response_url, std::move(text));
      };
      self->counters.late_confirmations += co_await runtime::confirm_late(self->pipe, o, resend, self->log);
    }, asio::detached);
    outbox.start();
    links.start(self, fsm.start(now()));
  }

  // ---- REST -------------------------------------------------------------------
  struct rest_result {
    boost::system::error_code ec;
    unsigned status = 0;
    std::string body;
    std::optional<discord::api_error> error;  // Discord's {code, message} on a 4xx/5xx
    std::chrono::milliseconds retry_after{0};  // 429
    bool ok() const { return !ec && status >= 200 && status < 300; }
    // For logs and post.failed: never the URL (webhook and interaction
    // routes carry a token in their path).
    std::string describe() const {
      if (ec) return ec.message();
      std::string s = "HTTP " + std::to_string(status);
      if (error) s += ": " + error->message + " (" + std::to_string(error->code) + ")";
      return s;
    }
  };

  // One REST request. Built as a named value: g++ 12 destroys string
  // temporaries inside a co_await expression twice.
  struct rest_call {
    net::http_client* client = nullptr;
    std::string method, path, body;
    bool bot_auth = true;  // false for interaction and webhook routes (their token is in the path)
    std::string what;      // names the request in the log (never the path)
  };

  // One REST request within the rate limits: waits for the route's bucket,
  // sends, and teaches the limiter the answer's X-RateLimit-* headers.
  // Never retries by itself.
  awaitable<rest_result> rest(rest_call c) {
    auto self = shared_from_this();
    auto& client = *c.client;
    const std::string& method = c.method;
    const std::string& what = c.what;
    const std::string route = discord::route_key(method, c.path);
    if (auto at = limiter.ready_at(route, steady::now()); at > steady::now()) {
      asio::steady_timer t(ex, at);
      co_await t.async_wait(use_tuple);
    }
    limiter.sent(route, steady::now());
    ++counters.api_calls;
    net::http_request req;
    req.method = method;
    req.target = api.prefix + c.path;
    if (!c.body.empty()) req.content_type = "application/json";
    req.body = std::move(c.body);
    if (c.bot_auth) req.authorization = "Bot " + secrets.token;
    req.user_agent = user_agent;
    auto [ec, resp] = co_await client.request(std::move(req));
    rest_result out;
    out.ec = ec;
    if (!ec) {
      out.status = resp.status;
      out.body = std::move(resp.body);
      std::optional<discord::rate_limited> limited;
      if (out.status == 429) {
        ++counters.rate_limited;
        limited = discord::decode_rate_limited(out.body);
        double secs = limited ? limited->retry_after : 0.0;
        if (secs <= 0 && resp.retry_after) secs = static_cast<double>(resp.retry_after->count());
        if (secs <= 0) secs = 1.0;
        out.retry_after = std::chrono::milliseconds(static_cast<std::int64_t>(secs * 1000.0) + 1);
      }
      limiter.on_response(route, out.status, discord::read_rate_headers(resp.headers), limited, steady::now());
      if (out.status >= 400) out.error = discord::decode_api_error(out.body);
    }
    if (!out.ok()) {
      ++counters.api_errors;
      log->warn("{}: {}", what, out.describe());
    }
    co_return out;
  }

  net::http_client& callback_client() { return *api_callbacks[next_callback++ % api_callbacks.size()]; }

  // Bulk overwrite of the application commands (guild-scoped when
  // guild_id is set). Retried while Discord is unreachable or rate limits;
  // a refusal (bad definitions, bad token) is logged once.
  awaitable<void> register_commands() {
    auto self = shared_from_this();
    rest_call call{api_gateway.get(), "PUT", discord::commands_path(application_id, guild_id),
                   boost::json::serialize(discord::application_commands(cfg->limits.max_text)), true,
                   "registering application commands"};
    auto wait = 2s;
    while (!flight.stopping()) {
      auto r = co_await rest(call);
      if (r.ok()) {
        ++counters.commands_registered;
        log->info("application commands registered ({})", guild_id.empty() ? "global" : "guild " + guild_id);
        co_return;
      }
      if (!r.ec && r.status != 429 && r.status < 500) {
        log->error("Discord refused the application commands ({}); slash commands will not appear", r.describe());
        co_return;
      }
      asio::steady_timer t(ex, r.status == 429 ? std::chrono::duration_cast<steady::duration>(r.retry_after)
                                               : std::chrono::duration_cast<steady::duration>(wait));
      co_await t.async_wait(use_tuple);
      wait = std::min<std::chrono::seconds>(wait * 2, 300s);
    }
  }

  // ---- the Gateway link: what runtime::link_driver asks of Discord ---------------
  // A fresh session asks GET gateway/bot for its URL and identify budget; a
  // resume goes to the session's resume_gateway_url.
  awaitable<runtime::link_opened> open_transport(link::link_id id) override {
    auto self = shared_from_this();
    runtime::link_opened out;
    std::optional<std::string> target = fsm.resume_url();
    if (!target) target = co_await gateway_url(id, out);
    if (!target) co_return out;
    auto u = net::parse_url(*target);
    if (!u || (u->scheme != "wss" && u->scheme != "ws")) {
      out.why = "gateway: no usable URL";
      co_return out;
    }
    if (!api.may_use(*u)) {
      out.why = "gateway: refusing a plain ws:// link";
      co_return out;
    }
    auto [ec, ws] = co_await net::ws_client::connect(ex, *tls, *u, net::timeouts{});
    if (ec) out.why = "gateway connect to " + u->host + ": " + ec.message();
    else out.ws = std::move(ws);
    co_return out;
  }
  awaitable<std::optional<std::string>> gateway_url(link::link_id id, runtime::link_opened& out) {
    rest_call call{api_gateway.get(), "GET", "gateway/bot", "", true, "GET gateway/bot"};
    auto r = co_await rest(call);
    if (!r.ok()) {
      out.why = "GET gateway/bot: " + r.describe();
      out.fatal = r.status == 401;  // the token is refused: retrying cannot help
      co_return std::nullopt;
    }
    auto g = discord::decode_gateway_bot(r.body);
    if (!g) {
      out.why = "GET gateway/bot: no usable answer";
      co_return std::nullopt;
    }
    std::string why;
    auto url = fsm.on_gateway_bot(id, *g, now(), why);
    if (!url) out.why = why;
    co_return url;
  }
  std::vector<link::action> on_connected(link::link_id id, time_point t) override { return fsm.on_connected(id, t); }
  std::vector<link::action> on_open_failed(link::link_id id, const std::string& why, bool fatal,
                                           time_point t) override {
    return fsm.on_open_failed(id, why, fatal, t);
  }
  std::vector<link::action> on_closed(link::link_id id, const std::string& why, std::uint16_t code,
                                      time_point t) override {
    return fsm.on_closed(id, code, why, t);
  }
  std::vector<link::action> on_timer(time_point t) override { return fsm.on_timer(t); }
  std::vector<link::action> on_stop() override { return fsm.stop(); }

  std::vector<link::action> on_frame(link::link_id id, const std::string& text, time_point t) override {
    auto d = discord::decode_payload(text);
    if (auto* err = std::get_if<discord::decode_error>(&d)) {
      ++counters.malformed_frames;
      log->warn("link {}: ignoring a malformed frame: {}", id, err->message);
      return {};
    }
    const auto& p = std::get<discord::payload>(d);
    auto acts = fsm.on_payload(id, p, t);
    if (p.op == 0 && p.t == "INTERACTION_CREATE") on_interaction(p.d);
    else if (p.op == 0 && (p.t == "READY" || p.t == "RESUMED")) log->info("link {}: {}", id, p.t);
    return acts;
  }

  // ---- interactions ------------------------------------------------------------
  void on_interaction(const boost::json::value& d) {
    ++counters.interactions;
    auto r = discord::interpret_interaction(d);
    if (auto* err = std::get_if<discord::decode_error>(&r)) {
      // Without an ID, a token and a user nothing can be answered or
      // attributed: Discord never sends such an interaction.
      ++counters.malformed_interactions;
      log->warn("ignoring an interaction that does not decode: {}", err->message);
      return;
    }
    auto& ix = std::get<discord::interaction>(r);
    if (!taken.insert(ix.id).second) {
      ++counters.replays;
      log->info("interaction {} seen before (a replay): not executed or answered again", ix.id);
      return;
    }
    taken_order.push_back(ix.id);
    if (taken_order.size() > taken_kept) {
      taken.erase(taken_order.front());
      taken_order.pop_front();
    }
    std::visit(overloaded{
                   [&](const discord::run_command& rc) { submit(ix, rc.line); },
                   [&](const discord::open_reject_modal& m) {
                     auto self = shared_from_this();
                     auto body = boost::json::serialize(
                         discord::callback_reject_modal(m.draft, m.rev, cfg->limits.max_text));
                     asio::co_spawn(ex, [self, id = ix.id, token = ix.token, body]() -> awaitable<void> {
                       const auto received = steady::now();
                       co_await self->callback(id, token, body, received);
                     }, asio::detached);
                   },
                   [&](const discord::ignore_interaction& ig) {
                     log->debug("interaction {} (type {}) ignored: {}", ix.id, ix.type, ig.why);
                   },
               },
               ix.intent);
  }

  void submit(const discord::interaction& ix, const std::string& line) {
    flight.begin();
    actor who;
    who.platform = platform::discord;
    who.workspace = ix.from.guild_id;
    who.channel = ix.from.channel_id;
    who.platform_user = ix.from.user_id;
    who.envelope = ix.id;
    // Where a late confirmation after a crash goes: the follow-up webhook,
    // and (after '#', never sent) the user to DM when the webhook is
    // refused, which it is when the crash came before the first callback.
    std::string followup_url = api.origin.origin() + api.prefix + discord::followup_path(application_id, ix.token) +
                               late_dm_marker + ix.from.user_id;
    auto px = std::make_shared<pending_ix>(ex);
    px->id = ix.id;
    px->token = ix.token;
    px->received = steady::now();
    auto self = shared_from_this();
    pipe.submit(incoming{std::move(who), line, std::move(followup_url), {}}, [self, px](execution r) {
      if (!r.recorded)
        self->log->error("database could not record {}: {}", r.action.empty() ? "a command" : r.action, r.error);
      if (r.duplicate) self->log->info("interaction {} seen before (audit seq {}): not executed again", px->id, r.seq);
      if (r.posts_enqueued > 0) self->outbox.wake();
      px->result = std::move(r);
      px->wake.notify();
    });
    asio::co_spawn(ex, [self, px]() { return self->answer(px); }, asio::detached);
  }

  // Answers one interaction: the reply as the first callback once the
  // decision is durable; or, when that takes longer than defer_after, a
  // deferred (ephemeral) callback first and the reply as an edit of the
  // original response.
  awaitable<void> answer(std::shared_ptr<pending_ix> px) {
    auto self = shared_from_this();
    co_await px->wake.wait_until(px->received + defer_after);
    bool delivered = false;
    if (px->result) {
      auto body = boost::json::serialize(discord::callback_reply(px->result->reply));
      delivered = co_await callback(px->id, px->token, body, px->received);
    } else {
      ++counters.deferred;
      auto body = boost::json::serialize(discord::callback_deferred());
      const bool deferred = co_await callback(px->id, px->token, body, px->received);
      while (!px->result) co_await px->wake.wait();
      // The edit is retried a few times on a network error, a 5xx or a
      // 429 (the token lives 15 minutes); what still fails stays
      // unconfirmed, for the next start's late confirmation.
      for (int attempt = 0; deferred && !delivered && attempt < 4; ++attempt) {
        rest_call call{&callback_client(), "PATCH", discord::original_path(application_id, px->token),
                       boost::json::serialize(discord::webhook_message(px->result->reply, false)), false,
                       "editing a deferred response"};
        auto r = co_await rest(call);
        delivered = r.ok();
        if (delivered || !(r.ec || r.status >= 500 || r.status == 429)) break;
        asio::steady_timer t(ex, r.status == 429 ? std::chrono::duration_cast<steady::duration>(r.retry_after)
                                                 : std::chrono::duration_cast<steady::duration>(1s * (attempt + 1)));
        co_await t.async_wait(use_tuple);
      }
    }
    if (delivered && px->result->recorded) pipe.confirmed(platform::discord, px->id);
    flight.end();
  }

  // The first callback of an interaction, retried on a network error or a
  // 5xx while Discord's 3 s allow it. "Already acknowledged" means an
  // earlier attempt (or an earlier run, for a replay) got there.
  awaitable<bool> callback(std::string id, std::string token, std::string body, steady::time_point received) {
    auto self = shared_from_this();
    for (;;) {
      ++counters.callbacks;
      rest_call call{&callback_client(), "POST", discord::callback_path(id, token), body, false,
                     "interaction " + id + " callback"};
      auto r = co_await rest(call);
      if (r.ok()) co_return true;
      if (r.error && r.error->code == already_acknowledged) co_return true;
      const bool transient = r.ec || r.status >= 500 || r.status == 429;
      auto wait = r.status == 429 ? r.retry_after : std::chrono::milliseconds(100);
      if (!transient || steady::now() + wait > received + callback_deadline) {
        ++counters.callback_failures;
        co_return false;
      }
      asio::steady_timer t(ex, wait);
      co_await t.async_wait(use_tuple);
    }
  }

  // A late confirmation: a follow-up message through the interaction's
  // webhook. Discord refuses the webhook of an interaction that never got
  // its first callback (the crash came before it: 404 Unknown Webhook), and
  // after the token's 15 minutes; then the user gets the same words by DM.
  // `route` is the one stored with the execution.
  awaitable<bool> followup(std::string route, std::string text) {
    auto self = shared_from_this();
    const std::string prefix = api.origin.origin() + api.prefix;
    std::string user;
    if (auto at = route.find(late_dm_marker); at != std::string::npos) {
      user = route.substr(at + late_dm_marker_size);
      route.resize(at);
    }
    if (route.rfind(prefix, 0) != 0) {
      log->warn("ignoring a late-reply URL that is not on discord.api_base");
      co_return false;
    }
    rest_call call{&callback_client(), "POST", route.substr(prefix.size()),
                   boost::json::serialize(discord::webhook_message(text, true)), false, "follow-up message"};
    auto r = co_await rest(call);
    if (r.ok()) co_return true;
    if (user.empty() || r.ec || r.status == 429 || r.status >= 500) co_return false;  // the next start tries again
    // By DM: a crash can leave many of one person's commands unanswered;
    // they go together, in as few messages as Discord's limit allows, not
    // as a burst of DMs that their channel's bucket would refuse.
    auto slot = std::make_shared<late_slot>(ex);
    auto& batch = late_dms[user];
    const bool first = batch.empty();
    batch.push_back({std::move(text), slot});
    if (first) asio::co_spawn(ex, [self, user]() { return self->send_late_dms(user); }, asio::detached);
    co_await slot->done.wait();
    co_return slot->ok;
  }

  // One person's late confirmations, gathered for a moment, then sent as
  // few DMs as fit in Discord's 2,000 characters each; a 429 waits and
  // tries again. Each waiter learns whether its text went out.
  awaitable<void> send_late_dms(std::string user) {
    auto self = shared_from_this();
    asio::steady_timer gather(ex, 300ms);
    co_await gather.async_wait(use_tuple);
    auto batch = std::move(late_dms[user]);
    late_dms.erase(user);
    std::string dm;
    auto opened = co_await dm_channel(user, dm);
    std::size_t i = 0;
    while (i < batch.size()) {
      // As many whole confirmations as fit (a single long one is cut).
      std::size_t j = i;
      std::string content;
      while (j < batch.size() &&
             (j == i || code_points(content) + 2 + code_points(batch[j].text) <= discord::content_max)) {
        content += (j == i ? "" : "\n\n") + batch[j].text;
        ++j;
      }
      bool ok = false;
      for (int attempt = 0; opened.ok() && !ok && attempt < 5; ++attempt) {
        rest_call direct{api_posts.get(), "POST", "channels/" + dm + "/messages",
                         boost::json::serialize(discord::plain_message(content)), true, "late confirmation by DM"};
        auto sent = co_await rest(direct);
        ok = sent.ok();
        if (ok || !(sent.ec || sent.status == 429 || sent.status >= 500)) break;
        asio::steady_timer t(ex, sent.status == 429 ? std::chrono::duration_cast<steady::duration>(sent.retry_after)
                                                    : std::chrono::duration_cast<steady::duration>(1s));
        co_await t.async_wait(use_tuple);
      }
      for (; i < j; ++i) {
        batch[i].slot->ok = ok;
        batch[i].slot->done.notify();
      }
    }
  }

  // ---- the outbox: what runtime::outbox_worker asks of Discord ----------------------
  // The DM channel with `user_id` (POST users/@me/channels, then cached):
  // its ID in `channel`, or the failed answer.
  awaitable<rest_result> dm_channel(std::string user_id, std::string& channel) {
    auto self = shared_from_this();
    rest_result r;
    if (auto it = dm_channels.find(user_id); it != dm_channels.end()) {
      channel = it->second;
      r.status = 200;
      co_return r;
    }
    rest_call call{api_posts.get(), "POST", "users/@me/channels",
                   boost::json::serialize(discord::dm_channel_request(user_id)), true, "opening a DM channel"};
    r = co_await rest(call);
    if (!r.ok()) co_return r;
    auto id = discord::object_id(r.body);
    if (!id) {
      r.status = 502;  // an answer without an ID: retried like a server error
      co_return r;
    }
    channel = dm_channels[user_id] = *id;
    co_return r;
  }

  static runtime::delivery outcome_of(const rest_result& r) {
    return runtime::delivery_of(static_cast<bool>(r.ec), r.status, r.retry_after,
                                r.ok() ? discord::object_id(r.body).value_or("") : std::string(), r.describe());
  }

  awaitable<runtime::delivery> send(const outbox_post& p, std::optional<std::string> card_id) override {
    auto self = shared_from_this();
    std::string channel = p.platform_channel;
    boost::json::object msg;
    if (p.kind == post_kind::card || p.kind == post_kind::card_update) {
      msg = p.card ? discord::card_message(*p.card) : discord::plain_message(p.text);
    } else if (p.kind == post_kind::dm) {
      // platform_channel is the user ID: Discord needs the DM channel first.
      std::string dm;
      auto r = co_await dm_channel(p.platform_channel, dm);
      if (!r.ok()) {
        auto d = outcome_of(r);
        if (d.outcome == runtime::delivery::status::failed) d.result = "opening the DM channel: " + d.result;
        co_return d;
      }
      channel = dm;
      msg = discord::page_dm_message(p.text, p.subject);
    } else {
      msg = discord::mention_message(p.text, p.mentions);
    }
    const auto body = boost::json::serialize(msg);
    if (p.kind == post_kind::card_update && card_id) {
      rest_call update{api_posts.get(), "PATCH", "channels/" + channel + "/messages/" + *card_id, body, true,
                       "updating card " + p.subject};
      auto r = co_await rest(update);
      if (!(r.error && r.error->code == unknown_message)) {
        auto d = outcome_of(r);
        if (d.outcome == runtime::delivery::status::sent && d.result.empty()) d.result = *card_id;
        co_return d;
      }
      // The card is gone (deleted by someone): post the current state anew.
    }
    // Create Message's idempotency key: the same outbox entry sent again
    // (a retry, or a redelivery after a crash mid-send) within Discord's few
    // minutes comes back as the message already made, not a second post.
    // Derived from the entry, so it is the same in the next process; the
    // hash keeps two databases posting with one bot apart (25 chars at most).
    msg["nonce"] = sha256_hex(std::to_string(p.id) + "/" + std::to_string(p.created_at.time_since_epoch().count()) +
                              "/" + p.platform_channel)
                       .substr(0, 20);
    msg["enforce_nonce"] = true;
    rest_call post{api_posts.get(), "POST", "channels/" + channel + "/messages", boost::json::serialize(msg), true,
                   "posting " + std::string(to_string(p.kind)) + " " + p.subject};
    auto r = co_await rest(post);
    co_return outcome_of(r);
  }

  void report_failure(const outbox_post& p, const std::string& notice) override {
    const auto* person = cfg->find_person(p.requested_by);
    if (!person || person->discord.empty()) return;
    auto self = shared_from_this();
    asio::co_spawn(ex, [self, user = person->discord, notice]() -> awaitable<void> {
      std::string dm;
      auto opened = co_await self->dm_channel(user, dm);
      if (!opened.ok()) co_return;
      rest_call call{self->api_posts.get(), "POST", "channels/" + dm + "/messages",
                     boost::json::serialize(discord::plain_message(notice)), true, "reporting a failed post"};
      co_await self->rest(call);
    }, asio::detached);
  }
};

discord_adapter::discord_adapter(asio::any_io_executor ex, std::shared_ptr<const conf::config> cfg,
                                 runtime::command_pipeline& pipe, discord_secrets secrets)
    : impl_(std::make_shared<impl>(ex, std::move(cfg), pipe, std::move(secrets))) {}

discord_adapter::~discord_adapter() = default;

void discord_adapter::start() { impl_->start(); }

void discord_adapter::stop(std::function<void()> done) {
  impl_->flight.stop(impl_, impl_->links, impl_->outbox, std::move(done));
}

void discord_adapter::posts_enqueued() { impl_->outbox.wake(); }
void discord_adapter::reconfigure(std::shared_ptr<const conf::config> cfg) { impl_->cfg = std::move(cfg); }

runtime::adapter_status discord_adapter::status() const {
  auto s = runtime::link_status(impl_->links, impl_->fsm.live_links());
  s.extra["session"] = impl_->fsm.session_id().empty() ? "none" : (impl_->fsm.ready() ? "ready" : "resumable");
  return s;
}

void discord_adapter::metrics(runtime::metrics_text& out) const {
  const auto& c = impl_->counters;
  const int links = impl_->fsm.live_links();
  out.gauge("signoff_discord_up", "1 when the Gateway session is ready.", impl_->fsm.ready() ? 1 : 0);
  out.gauge("signoff_discord_links", "Open Gateway links.", links);
  out.counter("signoff_discord_interactions_total", "INTERACTION_CREATE dispatches received.", c.interactions);
  out.counter("signoff_discord_malformed_frames_total", "Gateway frames that did not decode.", c.malformed_frames);
  out.counter("signoff_discord_malformed_interactions_total", "Interactions without an ID, token or user.",
              c.malformed_interactions);
  out.counter("signoff_discord_replays_total", "Interactions delivered again after a resume, not executed again.",
              c.replays);
  out.counter("signoff_discord_callbacks_total", "Interaction callback requests.", c.callbacks);
  out.counter("signoff_discord_deferred_total", "Interactions answered with a deferral first.", c.deferred);
  out.counter("signoff_discord_callback_failures_total", "Interactions whose first callback failed.",
              c.callback_failures);
  out.counter("signoff_discord_identifies_total", "Identify payloads sent.",
              static_cast<std::uint64_t>(impl_->fsm.identifies()));
  out.counter("signoff_discord_resumes_total", "Resume payloads sent.", static_cast<std::uint64_t>(impl_->fsm.resumes()));
  out.counter("signoff_discord_links_opened_total", "Gateway links attempted.", impl_->links.counters().opened);
  out.counter("signoff_discord_link_failures_total", "Gateway links that failed to open.",
              impl_->links.counters().open_failures);
  out.counter("signoff_discord_api_calls_total", "REST requests.", c.api_calls);
  out.counter("signoff_discord_api_errors_total", "REST requests that failed.", c.api_errors);
  out.counter("signoff_discord_rate_limited_total", "HTTP 429 answers.", c.rate_limited);
  out.counter("signoff_discord_late_confirmations_total", "Replies confirmed after a restart.", c.late_confirmations);
  out.counter("signoff_discord_command_registrations_total", "Successful bulk overwrites of the commands.",
              c.commands_registered);
}

}  // namespace signoff::adapters
