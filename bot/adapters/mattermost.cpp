#include "bot/adapters/mattermost.hpp"

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
#include "bot/protocol/mattermost/codec.hpp"
#include "bot/protocol/mattermost/session.hpp"
#include "bot/runtime/event.hpp"
#include "bot/runtime/late_confirm.hpp"
#include "bot/runtime/link_adapter.hpp"
#include "bot/runtime/link_driver.hpp"
#include "bot/runtime/outbox.hpp"
#include "bot/runtime/pipeline.hpp"

namespace signoff::adapters {
namespace {

namespace asio = boost::asio;
namespace mm = signoff::mattermost;
using asio::awaitable;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

time_point now() { return clock_now(); }
std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_now().time_since_epoch()).count();
}

// Deliveries are remembered for a day (the dedup window): a catch-up never
// reaches further back, or a post could run twice.
constexpr auto seen_keep = std::chrono::hours(24);
// Clocks differ (ours, the Mattermost server's): a catch-up starts this much
// before the last post seen; the dedup makes the overlap harmless.
constexpr std::int64_t catch_up_margin_ms = 120'000;
// A click's answer is the HTTP response Mattermost waits for (30 s by
// default); the listener's deadline is 10 s. Past this the click is answered
// "on its way" and the reply follows by DM.
constexpr auto click_answer_within = 7s;
// A click whose trigger is older than this (or this far in the future: a
// skewed clock) is refused as stale: a replay.
constexpr std::int64_t click_fresh_ms = 120'000;
constexpr std::size_t taken_kept = 10'000;
constexpr std::size_t reply_clients = 2;

// Where a late confirmation goes, stored with each execution: the thread of
// the command, or the person's DM.
constexpr std::string_view route_thread = "mattermost-thread:";  // CHANNEL ":" ROOT
constexpr std::string_view route_dm = "mattermost-dm:";          // USER

}  // namespace

struct mattermost_adapter::impl : std::enable_shared_from_this<impl>, runtime::post_sender, runtime::link_protocol {
  asio::any_io_executor ex;
  std::shared_ptr<const conf::config> cfg;
  runtime::command_pipeline& pipe;
  mattermost_secrets secrets;
  std::shared_ptr<spdlog::logger> log;

  // One HTTP client per lane of work, each serial. A request takes its lane
  // before it looks at the rate-limit pause, so a request queued behind
  // another never goes out after a 429 it did not wait for.
  struct lane {
    std::unique_ptr<net::http_client> client;
    bool busy = false;
    std::deque<std::shared_ptr<runtime::event>> waiting;
  };
  std::unique_ptr<net::tls_context> tls;
  net::api_base api;
  lane api_link, api_posts, api_actions;
  std::vector<lane> api_replies;
  std::size_t next_reply = 0;
  // Mattermost rate-limits per user (the bot), not per route: after a 429
  // nothing goes before this.
  steady::time_point paused_until{};

  std::mt19937_64 rng{std::random_device{}()};
  mm::session fsm;
  runtime::link_driver links;
  runtime::in_flight flight;
  runtime::outbox_worker outbox;

  std::string bot_user_id, bot_username;
  std::map<std::string, std::string> dm_channels;  // user ID -> DM channel ID
  std::set<std::string> opening_dm;                // users whose DM channel is being opened
  std::map<std::string, std::string> usernames;    // user ID -> username (mentions)
  // Posts this process took (a resumed stream and a catch-up may both bring
  // one): the newest taken_kept.
  std::set<std::string> taken;
  std::deque<std::string> taken_order;
  // Click triggers seen (replays within the freshness window are refused).
  std::map<std::string, std::int64_t> triggers;
  // The newest post seen (create_at, the server's clock): where a catch-up
  // starts. 0 until the first hello set it.
  std::int64_t last_seen_ms = 0;
  bool catching_up = false, catch_up_again = false;
  // create_at of the command posts read and not yet recorded: the saved
  // stream position never passes the oldest of them.
  std::multiset<std::int64_t> unrecorded;
  std::int64_t saved_position = 0;

  mattermost_counters counters;

  impl(asio::any_io_executor e, std::shared_ptr<const conf::config> c, runtime::command_pipeline& p,
       mattermost_secrets s)
      : ex(e), cfg(std::move(c)), pipe(p), secrets(std::move(s)),
        log(spdlog::default_logger()->clone("mattermost")),
        fsm(mm::session_options{}, secrets.token, [this] { return std::uniform_real_distribution<double>(0, 1)(rng); }),
        links(e, *this, log, runtime::link_options{"websocket", {}}),
        flight(e),
        // Mattermost's default limit is 10 requests per second per user;
        // the pacer keeps one channel to one post a second.
        outbox(e, p, platform::mattermost, std::chrono::milliseconds(1000), *this, log) {}

  const conf::mattermost_section& section() const { return *cfg->mattermost; }
  mm::button_style style() const {
    return mm::button_style{section().trigger, section().actions_url, secrets.actions_secret};
  }

  // ---- set-up -------------------------------------------------------------------
  void start() {
    std::string base = section().url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    api = net::parse_api_base("mattermost.url", base + "/api/v4/");
    tls = std::make_unique<net::tls_context>(section().ca_file);
    for (lane* l : {&api_link, &api_posts, &api_actions}) l->client = std::make_unique<net::http_client>(ex, *tls, api.origin);
    api_replies.resize(reply_clients);
    for (auto& l : api_replies) l.client = std::make_unique<net::http_client>(ex, *tls, api.origin);
    auto self = shared_from_this();
    asio::co_spawn(ex, [self]() -> awaitable<void> {
      runtime::late_options o{platform::mattermost, seen_keep, seen_keep};
      runtime::late_reply_fn resend = [self](const unconfirmed_envelope& row, std::string text) {
        return self->late_reply(row.response_url, std::move(text));
      };
      self->counters.late_confirmations += co_await runtime::confirm_late(self->pipe, o, resend, self->log);
    }, asio::detached);
    outbox.start();
    links.start(self, fsm.start(now()));
    asio::co_spawn(ex, [self]() { return self->save_positions(); }, asio::detached);
  }

  // The stream position (where a restart's catch-up starts): the newest post
  // seen, held back to before the oldest command not yet recorded, and not
  // moved while a catch-up is still taking older posts. Saved every 2 s when
  // it moved, in a commit of its own.
  std::int64_t safe_position() const {
    std::int64_t p = last_seen_ms;
    if (!unrecorded.empty()) p = std::min(p, *unrecorded.begin() - 1);
    return p;
  }
  awaitable<void> save_positions() {
    auto self = shared_from_this();
    while (!flight.stopping()) {
      asio::steady_timer t(ex, 2s);
      co_await t.async_wait(use_tuple);
      if (catching_up || flight.stopping()) continue;
      const auto p = safe_position();
      if (p <= saved_position) continue;
      if (co_await pipe.save_stream_position(platform::mattermost, std::to_string(p))) saved_position = p;
    }
  }

  // ---- REST ---------------------------------------------------------------------
  struct rest_result {
    boost::system::error_code ec;
    unsigned status = 0;
    std::string body;
    std::optional<mm::api_error> error;
    std::chrono::milliseconds retry_after{0};  // 429
    bool ok() const { return !ec && status >= 200 && status < 300; }
    bool transient() const { return ec || status == 429 || status >= 500; }
    std::string describe() const {
      if (ec) return ec.message();
      std::string s = "HTTP " + std::to_string(status);
      if (error && !error->message.empty()) s += ": " + error->message;
      if (error && !error->id.empty()) s += " (" + error->id + ")";
      return s;
    }
  };
  // One REST request, built as a named value: g++ 12 destroys class
  // temporaries inside a co_await expression twice.
  struct rest_call {
    lane* via = nullptr;
    std::string method, path, body;  // path relative to /api/v4/
    std::string what;                // names the request in the log
  };

  awaitable<rest_result> rest(rest_call c) {
    auto self = shared_from_this();
    lane& l = *c.via;
    while (l.busy) {
      auto turn = std::make_shared<runtime::event>(ex);
      l.waiting.push_back(turn);
      co_await turn->wait();
    }
    l.busy = true;
    auto out = co_await rest_on(l, std::move(c));
    l.busy = false;
    if (!l.waiting.empty()) {
      l.waiting.front()->notify();
      l.waiting.pop_front();
    }
    co_return out;
  }

  awaitable<rest_result> rest_on(lane& l, rest_call c) {
    auto self = shared_from_this();
    while (paused_until > steady::now()) {
      asio::steady_timer t(ex, paused_until);
      co_await t.async_wait(use_tuple);
    }
    ++counters.api_calls;
    net::http_request req;
    req.method = c.method;
    req.target = api.prefix + c.path;
    if (!c.body.empty()) req.content_type = "application/json";
    req.body = std::move(c.body);
    req.bearer = secrets.token;
    auto [ec, resp] = co_await l.client->request(std::move(req));
    rest_result out;
    out.ec = ec;
    if (!ec) {
      out.status = resp.status;
      out.body = std::move(resp.body);
      if (out.status == 429) {
        ++counters.rate_limited;
        out.retry_after = mm::retry_after(resp.headers);
        paused_until = std::max(paused_until, steady::now() + out.retry_after);
      }
      if (out.status >= 400) out.error = mm::decode_api_error(out.body);
    }
    if (!out.ok()) {
      ++counters.api_errors;
      log->warn("{}: {}", c.what, out.describe());
    }
    co_return out;
  }

  // A request retried on network errors, 5xx and 429 (waiting out
  // Retry-After), `attempts` times at most.
  awaitable<rest_result> rest_retried(rest_call c, int attempts) {
    auto self = shared_from_this();
    rest_result r;
    for (int i = 0; i < attempts; ++i) {
      r = co_await rest(c);
      if (r.ok() || !r.transient() || flight.stopping()) break;
      if (r.status != 429) {
        asio::steady_timer t(ex, std::chrono::milliseconds(500) * (1 << std::min(i, 4)));
        co_await t.async_wait(use_tuple);
      }
    }
    co_return r;
  }

  bool links_disabled() const { return links.state() == link::state::disabled; }
  lane& reply_lane() { return api_replies[next_reply++ % api_replies.size()]; }

  // ---- the websocket link: what runtime::link_driver asks of Mattermost ----------
  // Each link first asks users/me: the bot's user ID, and a refused token is
  // found here (401: nothing is retried) rather than as a closed socket.
  awaitable<runtime::link_opened> open_transport(link::link_id id) override {
    auto self = shared_from_this();
    runtime::link_opened out;
    rest_call me{&api_link, "GET", "users/me", "", "GET users/me"};
    auto r = co_await rest(me);
    if (!r.ok()) {
      out.why = "GET users/me: " + r.describe();
      out.fatal = r.status == 401 || r.status == 403;
      co_return out;
    }
    auto user = mm::decode_user(r.body);
    if (!user || user->id.empty()) {
      out.why = "GET users/me: no user ID in the answer";
      co_return out;
    }
    if (bot_user_id != user->id) log->info("signed in as @{} ({})", user->username, user->id);
    bot_user_id = user->id;
    bot_username = user->username;
    net::url u = api.origin;
    u.scheme = api.origin.tls() ? "wss" : "ws";
    u.target = fsm.target();
    const std::string auth = "Bearer " + secrets.token;
    auto [ec, ws] = co_await net::ws_client::connect(ex, *tls, u, net::timeouts{}, 1 << 20, auth);
    if (ec) out.why = "websocket connect to " + u.host + ": " + ec.message();
    else out.ws = std::move(ws);
    (void)id;
    co_return out;
  }
  std::vector<link::action> on_connected(link::link_id id, time_point t) override { return fsm.on_connected(id, t); }
  std::vector<link::action> on_open_failed(link::link_id id, const std::string& why, bool fatal,
                                           time_point t) override {
    return fsm.on_open_failed(id, why, fatal, t);
  }
  std::vector<link::action> on_closed(link::link_id id, const std::string& why, std::uint16_t code,
                                      time_point t) override {
    return fsm.on_closed(id, why, code, t);
  }
  std::vector<link::action> on_timer(time_point t) override { return fsm.on_timer(t); }
  std::vector<link::action> on_stop() override { return fsm.stop(); }

  std::vector<link::action> on_frame(link::link_id id, const std::string& text, time_point t) override {
    auto d = mm::decode_frame(text);
    if (auto* err = std::get_if<mm::decode_error>(&d)) {
      ++counters.malformed_frames;
      log->warn("link {}: ignoring a malformed frame: {}", id, err->message);
      return {};
    }
    mm::frame f = std::holds_alternative<mm::event>(d) ? mm::frame(std::move(std::get<mm::event>(d)))
                                                       : mm::frame(std::move(std::get<mm::reply>(d)));
    auto fx = fsm.on_frame(id, f, t);
    if (fx.catch_up) start_catch_up(fx.first_hello);
    if (fx.deliver) {
      const auto& ev = std::get<mm::event>(f);
      ++counters.events;
      if (ev.name == "posted") on_posted(ev.data);
    }
    return std::move(fx.actions);
  }

  // ---- commands -------------------------------------------------------------------
  void on_posted(const boost::json::object& data) {
    auto r = mm::decode_posted(data);
    if (auto* err = std::get_if<mm::decode_error>(&r)) {
      ++counters.malformed_posts;
      log->warn("ignoring a posted event that does not decode: {}", err->message);
      return;
    }
    auto& p = std::get<mm::posted>(r);
    consider(p.p, p.team_id);
  }

  // A post from the stream or a catch-up: a command, or nothing.
  void consider(const mm::post& p, const std::string& team_id) {
    last_seen_ms = std::max(last_seen_ms, p.create_at);
    auto c = mm::command_of(p, section().trigger, bot_user_id);
    if (auto* no = std::get_if<mm::not_command>(&c)) {
      ++counters.ignored_posts;
      log->debug("post {} is not a command: {}", p.id, no->why);
      return;
    }
    if (!taken.insert(p.id).second) {
      ++counters.replays;
      log->debug("post {} taken already: not executed again", p.id);
      return;
    }
    taken_order.push_back(p.id);
    if (taken_order.size() > taken_kept) {
      taken.erase(taken_order.front());
      taken_order.pop_front();
    }
    submit(p, team_id, std::get<mm::as_command>(c).line);
  }

  // Where the reply to a post goes: read-only commands to the author by DM
  // (a Mattermost channel has no ephemeral replies a bot may send by
  // default), everything else threaded under the command. A late
  // confirmation after a crash always goes by DM: the thread has moved on.
  static std::string thread_route(const mm::post& p) {
    const std::string& root = p.root_id.empty() ? p.id : p.root_id;
    return std::string(route_thread) + p.channel_id + ":" + root;
  }

  void submit(const mm::post& p, const std::string& team_id, const std::string& line) {
    ++counters.commands;
    flight.begin();
    actor who;
    who.platform = platform::mattermost;
    who.workspace = team_id;
    who.channel = p.channel_id;
    who.platform_user = p.user_id;
    who.envelope = p.id;
    incoming in{std::move(who), line, std::string(route_dm) + p.user_id, {}};
    auto self = shared_from_this();
    const std::string post_id = p.id;
    const std::string thread = thread_route(p), dm = std::string(route_dm) + p.user_id;
    const auto created = unrecorded.insert(p.create_at);
    pipe.submit(std::move(in), [self, post_id, thread, dm, created](execution r) {
      self->unrecorded.erase(created);
      if (!r.recorded)
        self->log->error("database could not record {}: {}", r.action.empty() ? "a command" : r.action, r.error);
      if (r.posts_enqueued > 0) self->outbox.wake();
      if (r.duplicate) {
        // Executed before (a replay after a resume, a catch-up overlap, a
        // restart): its reply went then, or goes by late confirmation.
        ++self->counters.replays;
        self->log->info("post {} executed before (audit seq {}): not executed or answered again", post_id, r.seq);
        self->flight.end();
        return;
      }
      const std::string route = r.read_only ? dm : thread;
      asio::co_spawn(self->ex, [self, post_id, route, r = std::move(r)]() -> awaitable<void> {
        const bool ok = co_await self->send_reply(route, r.reply);
        if (ok && r.recorded) self->pipe.confirmed(platform::mattermost, post_id);
        self->flight.end();
      }, asio::detached);
    });
  }

  // Posts `text` along `route` (a thread or a DM); true once Mattermost
  // took it.
  awaitable<bool> send_reply(std::string route, std::string text) {
    auto self = shared_from_this();
    std::string channel, root;
    if (route.rfind(route_thread, 0) == 0) {
      auto rest_of = route.substr(route_thread.size());
      auto colon = rest_of.find(':');
      if (colon == std::string::npos) co_return false;
      channel = rest_of.substr(0, colon);
      root = rest_of.substr(colon + 1);
    } else if (route.rfind(route_dm, 0) == 0) {
      // A DM channel needs the bot's own user ID (users/me, asked by the
      // link): late confirmations at start wait for it.
      while (bot_user_id.empty() && !flight.stopping() && !links_disabled()) {
        asio::steady_timer t(ex, 200ms);
        co_await t.async_wait(use_tuple);
      }
      auto opened = co_await dm_channel(route.substr(route_dm.size()), channel);
      if (!opened.ok()) {
        ++counters.reply_failures;
        co_return false;
      }
    } else {
      log->warn("ignoring a reply route that is not Mattermost's");
      co_return false;
    }
    // Text people wrote (a draft shown back) must not ping anyone.
    const std::string message = mm::render_mentions(text, {}, {});
    rest_call call{&reply_lane(), "POST", "posts", boost::json::serialize(mm::post_body(channel, message, root)),
                   "posting a reply"};
    auto r = co_await rest_retried(call, 5);
    if (r.ok()) ++counters.replies;
    else ++counters.reply_failures;
    co_return r.ok();
  }

  awaitable<bool> late_reply(std::string route, std::string text) { return send_reply(std::move(route), std::move(text)); }

  // ---- catch-up: posts made while the event stream was lost -------------------------
  void start_catch_up(bool first) {
    if (catching_up) {
      catch_up_again = true;
      return;
    }
    catching_up = true;
    auto self = shared_from_this();
    asio::co_spawn(ex, [self, first]() -> awaitable<void> {
      bool again = true;
      bool at_start = first;
      while (again && !self->flight.stopping()) {
        self->catch_up_again = false;
        co_await self->catch_up(at_start);
        at_start = false;
        again = self->catch_up_again;
      }
      self->catching_up = false;
    }, asio::detached);
  }

  // Fetches the posts created since the last one seen in every channel the
  // bot is a member of, and takes the commands among them. At start the last
  // one seen is the newest delivery the database remembers (so commands typed
  // while signoff was down run once it is back), never further back than the
  // dedup window; with nothing remembered (a new database) there is nothing
  // to catch up.
  awaitable<void> catch_up(bool at_start) {
    auto self = shared_from_this();
    std::int64_t since = 0;
    // Deliveries are forgotten after seen_keep: an hour less, so clocks
    // that disagree cannot bring back a post whose record is gone.
    const std::int64_t floor =
        now_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(seen_keep - std::chrono::hours(1)).count();
    if (at_start && last_seen_ms == 0) {
      // Where the last process got to; databases from before stream
      // positions were saved: its newest Mattermost command.
      std::optional<std::int64_t> from;
      if (auto saved = co_await pipe.stream_position(platform::mattermost)) {
        try {
          from = std::stoll(*saved);
        } catch (const std::exception&) {
          log->warn("ignoring an unreadable saved stream position");
        }
      }
      if (!from) {
        if (auto seen = co_await pipe.last_delivery_seen(platform::mattermost))
          from = std::chrono::duration_cast<std::chrono::milliseconds>(seen->time_since_epoch()).count();
      }
      if (!from) {
        log->info("no Mattermost stream position saved (a new database): nothing to catch up");
        // Saved at once: a crash in the next seconds must not lose what is
        // posted meanwhile.
        last_seen_ms = std::max(last_seen_ms, now_ms());
        const auto p = safe_position();
        if (co_await pipe.save_stream_position(platform::mattermost, std::to_string(p))) saved_position = p;
        co_return;
      }
      since = *from;
    } else {
      since = last_seen_ms;
    }
    since = std::max(since - catch_up_margin_ms, floor);
    ++counters.catch_ups;
    rest_call teams_call{&api_link, "GET", "users/me/teams", "", "catch-up: GET users/me/teams"};
    auto teams = co_await rest_retried(teams_call, 5);
    if (!teams.ok()) co_return;
    std::size_t found = 0;
    for (const auto& team : mm::decode_team_ids(teams.body)) {
      rest_call chans_call{&api_link, "GET", "users/me/teams/" + team + "/channels", "",
                           "catch-up: GET the bot's channels"};
      auto chans = co_await rest_retried(chans_call, 5);
      if (!chans.ok()) continue;
      for (const auto& ch : mm::decode_channels(chans.body)) {
        if (ch.last_post_at != 0 && ch.last_post_at < since) continue;
        rest_call posts_call{&api_link, "GET", "channels/" + ch.id + "/posts?since=" + std::to_string(since), "",
                             "catch-up: GET channel posts"};
        auto posts = co_await rest_retried(posts_call, 5);
        if (!posts.ok()) continue;
        for (const auto& p : mm::decode_post_list(posts.body)) {
          if (p.create_at < since) continue;  // an older post edited since
          const auto before = counters.commands;
          consider(p, ch.team_id.empty() ? team : ch.team_id);
          found += counters.commands - before;
        }
      }
    }
    counters.caught_up += found;
    if (found > 0) log->info("catch-up: {} command(s) posted while the event stream was lost", found);
  }

  // ---- the outbox: what runtime::outbox_worker asks of Mattermost ------------------
  awaitable<rest_result> dm_channel(std::string user_id, std::string& channel) {
    auto self = shared_from_this();
    rest_result r;
    if (auto it = dm_channels.find(user_id); it != dm_channels.end()) {
      channel = it->second;
      r.status = 200;
      co_return r;
    }
    if (bot_user_id.empty()) {
      r.ec = asio::error::try_again;  // users/me has not answered yet
      co_return r;
    }
    // One open per person at a time: a burst of first DMs to someone (a
    // page and its reply) waits for the first open instead of repeating it.
    while (opening_dm.count(user_id)) {
      asio::steady_timer t(ex, 20ms);
      co_await t.async_wait(use_tuple);
    }
    if (auto it = dm_channels.find(user_id); it != dm_channels.end()) {
      channel = it->second;
      r.status = 200;
      co_return r;
    }
    opening_dm.insert(user_id);
    rest_call call{&api_posts, "POST", "channels/direct",
                   boost::json::serialize(mm::direct_channel_body(bot_user_id, user_id)), "opening a DM channel"};
    r = co_await rest(call);
    opening_dm.erase(user_id);
    if (!r.ok()) co_return r;
    auto id = mm::object_id(r.body);
    if (!id) {
      r.status = 502;
      co_return r;
    }
    channel = dm_channels[user_id] = *id;
    co_return r;
  }

  // Usernames of the people a post mentions (Mattermost pings by @username).
  awaitable<void> learn_usernames(const std::vector<mention>& people) {
    auto self = shared_from_this();
    boost::json::array wanted;
    for (const auto& m : people)
      if (!m.platform_id.empty() && !usernames.count(m.platform_id)) wanted.emplace_back(m.platform_id);
    if (wanted.empty()) co_return;
    rest_call call{&api_posts, "POST", "users/ids", boost::json::serialize(wanted), "looking up usernames"};
    auto r = co_await rest(call);
    if (!r.ok()) co_return;  // "@id" stays: the post still goes
    for (auto& u : mm::decode_users(r.body)) usernames[u.id] = u.username;
  }

  static runtime::delivery outcome_of(const rest_result& r) {
    return runtime::delivery_of(static_cast<bool>(r.ec), r.status, r.retry_after,
                                r.ok() ? mm::object_id(r.body).value_or("") : std::string(), r.describe());
  }

  awaitable<runtime::delivery> send(const outbox_post& p, std::optional<std::string> card_id) override {
    auto self = shared_from_this();
    std::string channel = p.platform_channel;
    boost::json::object body;
    const auto st = style();
    const bool card = p.kind == post_kind::card || p.kind == post_kind::card_update;
    if (p.kind == post_kind::card_update && card_id) {
      boost::json::object patch;
      if (p.card) {
        patch = mm::card_patch(*p.card, st);
      } else {
        patch = mm::post_body(channel, mm::render_mentions(p.text, {}, {}));
        patch.erase("channel_id");
      }
      rest_call update{&api_posts, "PUT", "posts/" + *card_id + "/patch", boost::json::serialize(patch),
                       "updating card " + p.subject};
      auto r = co_await rest(update);
      if (r.status != 404) {
        auto d = outcome_of(r);
        if (d.outcome == runtime::delivery::status::sent && d.result.empty()) d.result = *card_id;
        co_return d;
      }
      // The card is gone (deleted by someone): post the current state anew.
    }
    if (card) {
      body = p.card ? mm::card_post(channel, *p.card, st) : mm::post_body(channel, mm::render_mentions(p.text, {}, {}));
    } else if (p.kind == post_kind::dm) {
      // platform_channel is the user ID: the DM channel comes first.
      std::string dm;
      auto r = co_await dm_channel(p.platform_channel, dm);
      if (!r.ok()) {
        auto d = outcome_of(r);
        if (d.outcome == runtime::delivery::status::failed) d.result = "opening the DM channel: " + d.result;
        co_return d;
      }
      channel = dm;
      body = mm::page_post(channel, mm::render_mentions(p.text, {}, {}), p.subject, st);
    } else {
      co_await learn_usernames(p.mentions);
      body = mm::post_body(channel, mm::render_mentions(p.text, p.mentions, usernames));
    }
    // Mattermost drops a second post with the same pending_post_id from
    // the same user within a short while: a retry of this entry (or its
    // redelivery after a crash mid-send) is not posted twice. Derived from
    // the entry, so it is the same in the next process.
    body["pending_post_id"] = bot_user_id + ":" +
                              sha256_hex(std::to_string(p.id) + "/" +
                                         std::to_string(p.created_at.time_since_epoch().count()) + "/" + channel)
                                  .substr(0, 26);
    rest_call post{&api_posts, "POST", "posts", boost::json::serialize(body),
                   "posting " + std::string(to_string(p.kind)) + " " + p.subject};
    auto r = co_await rest(post);
    co_return outcome_of(r);
  }

  void report_failure(const outbox_post& p, const std::string& notice) override {
    const auto* person = cfg->find_person(p.requested_by);
    if (!person || person->mattermost.empty()) return;
    auto self = shared_from_this();
    asio::co_spawn(ex, [self, route = std::string(route_dm) + person->mattermost, notice]() -> awaitable<void> {
      co_await self->send_reply(route, notice);
    }, asio::detached);
  }

  // ---- buttons: POST /mattermost/actions ---------------------------------------------
  // Runs `line` for the person behind `user_id` through the pipeline; the
  // execution, or nullopt when it was not durable within `within` (the
  // reply then follows by DM).
  struct click_wait {
    explicit click_wait(asio::any_io_executor e) : wake(e) {}
    std::optional<execution> result;
    runtime::event wake;
    bool answered = false;  // the HTTP answer went without the reply
  };
  awaitable<std::optional<execution>> run_click(std::string user_id, std::string channel_id, std::string team_id,
                                                std::string envelope, std::string line, std::string refusal) {
    auto self = shared_from_this();
    flight.begin();
    actor who;
    who.platform = platform::mattermost;
    who.workspace = std::move(team_id);
    who.channel = std::move(channel_id);
    who.platform_user = user_id;
    who.envelope = envelope;
    const std::string route = std::string(route_dm) + user_id;
    incoming in{std::move(who), std::move(line), route, std::move(refusal)};
    auto w = std::make_shared<click_wait>(ex);
    pipe.submit(std::move(in), [self, w, envelope, route](execution r) {
      if (!r.recorded) self->log->error("database could not record a click: {}", r.error);
      if (r.posts_enqueued > 0) self->outbox.wake();
      if (w->answered) {
        // Too late for the HTTP answer: the reply goes by DM.
        asio::co_spawn(self->ex, [self, envelope, route, r]() -> awaitable<void> {
          const bool ok = co_await self->send_reply(route, r.reply);
          if (ok && r.recorded && !r.duplicate && !envelope.empty()) self->pipe.confirmed(platform::mattermost, envelope);
          self->flight.end();
        }, asio::detached);
        return;
      }
      w->result = std::move(r);
      w->wake.notify();
    });
    co_await w->wake.wait_until(steady::now() + click_answer_within);
    if (!w->result) {
      w->answered = true;
      co_return std::nullopt;
    }
    if (w->result->recorded && !w->result->duplicate && !envelope.empty())
      pipe.confirmed(platform::mattermost, envelope);
    flight.end();
    co_return std::move(w->result);
  }

  static net::http_reply json_reply(unsigned status, std::string body) {
    return net::http_reply{status, "application/json", std::move(body)};
  }

  // Why a click does not check out, or '' when it does.
  std::string click_problem(const mm::click& c) {
    if (secrets.actions_secret.empty()) return "buttons are not enabled ([mattermost] actions_url is not set)";
    if (!mm::tags_equal(c.tag, mm::action_tag(secrets.actions_secret, c.action, c.subject)))
      return "the button's signature does not check out (a forged or altered click)";
    auto trig = mm::decode_trigger_id(c.trigger_id);
    if (!trig || trig->user_id != c.user_id) return "the click's trigger does not belong to the clicking user";
    const auto age = now_ms() - trig->millis;
    if (age > click_fresh_ms || age < -click_fresh_ms) return "the click is stale (a replay?)";
    // Forget triggers that can no longer pass the freshness check.
    for (auto it = triggers.begin(); it != triggers.end();)
      it = now_ms() - it->second > 2 * click_fresh_ms ? triggers.erase(it) : std::next(it);
    if (!triggers.emplace(c.trigger_id, trig->millis).second) return "the click was replayed";
    return {};
  }

  static std::string line_for(const std::string& action, const std::string& subject) {
    if (action == "approve" || action == "reject" || action == "ack") return "/" + action + " " + subject;
    return "/signoff " + action + " " + subject;
  }

  awaitable<net::http_reply> on_action(std::string body) {
    auto self = shared_from_this();
    auto req = mm::decode_action_request(body);
    if (auto* err = std::get_if<mm::decode_error>(&req)) {
      log->warn("ignoring a request on /mattermost/actions that is neither a click nor a dialog: {}", err->message);
      co_return json_reply(400, boost::json::serialize(boost::json::object{{"error", "not a Mattermost action"}}));
    }
    if (auto* c = std::get_if<mm::click>(&req)) co_return co_await on_click(*c);
    co_return co_await on_dialog(std::get<mm::dialog_submission>(req));
  }

  awaitable<net::http_reply> on_click(mm::click c) {
    auto self = shared_from_this();
    ++counters.clicks;
    const std::string line = line_for(c.action, c.subject);
    std::string problem = click_problem(c);
    if (problem.empty() && c.action == "reject") co_return co_await open_reject_dialog(c);
    if (problem.empty() && c.action != "approve" && c.action != "ack") problem = "unknown button " + c.action;
    auto r = co_await run_click(c.user_id, c.channel_id, c.team_id, c.trigger_id, line, problem);
    if (r && r->duplicate) {
      // The trigger ran before (in an earlier process): a replay.
      problem = "the click was replayed";
      r = co_await run_click(c.user_id, c.channel_id, c.team_id, c.trigger_id, line, problem);
    }
    if (!problem.empty()) {
      ++counters.clicks_refused;
      log->warn("refused a click on /mattermost/actions: {}", problem);
      co_return json_reply(403, mm::action_response("Refused: " + problem + "."));
    }
    if (!r) co_return json_reply(200, mm::action_response("Recording your decision; the answer follows by direct message."));
    co_return json_reply(200, mm::action_response(r->reply));
  }

  // Reject asks for the reason in an interactive dialog; its state binds the
  // clicking user, since a submission's state comes back from their client.
  awaitable<net::http_reply> open_reject_dialog(mm::click c) {
    auto self = shared_from_this();
    const std::string state =
        mm::dialog_state_text(c.subject, c.post_id, mm::dialog_tag(secrets.actions_secret, c.subject, c.user_id));
    rest_call call{&api_actions, "POST", "actions/dialogs/open",
                   boost::json::serialize(mm::dialog_open_body(c.trigger_id, section().actions_url, c.subject, state,
                                                               cfg->limits.max_text)),
                   "opening the reject dialog"};
    auto r = co_await rest(call);  // the trigger lives 3 s: no retry
    if (!r.ok())
      co_return json_reply(200, mm::action_response("Could not open the reason dialog: type " + section().trigger +
                                                    " reject " + c.subject + " REASON"));
    ++counters.dialogs;
    co_return json_reply(200, mm::action_response(""));
  }

  awaitable<net::http_reply> on_dialog(mm::dialog_submission d) {
    auto self = shared_from_this();
    ++counters.dialog_submissions;
    if (d.cancelled) co_return json_reply(200, "{}");
    auto st = mm::parse_dialog_state(d.state);
    std::string problem;
    std::string subject = st ? st->subject : std::string("?");
    if (secrets.actions_secret.empty()) problem = "buttons are not enabled ([mattermost] actions_url is not set)";
    else if (!st || !mm::tags_equal(st->tag, mm::dialog_tag(secrets.actions_secret, st->subject, d.user_id)))
      problem = "the dialog's signature does not check out for this user (a forged or altered submission)";
    std::string line = "/reject " + subject + " " + d.reason;
    auto r = co_await run_click(d.user_id, d.channel_id, d.team_id, "", line, problem);
    if (!problem.empty()) {
      ++counters.clicks_refused;
      log->warn("refused a dialog submission on /mattermost/actions: {}", problem);
      co_return json_reply(403, boost::json::serialize(boost::json::object{{"error", "Refused: " + problem + "."}}));
    }
    if (!r) co_return json_reply(200, "{}");  // the reply follows by DM
    if (r->outcome == outcome::invalid) co_return json_reply(200, mm::dialog_field_error("reason", r->reply));
    // The decision is durable; the card updates through the outbox, and the
    // answer goes to the clicker by DM (a dialog answer carries no text).
    const std::string route = std::string(route_dm) + d.user_id;
    asio::co_spawn(ex, [self, route, reply = r->reply]() -> awaitable<void> {
      co_await self->send_reply(route, reply);
    }, asio::detached);
    co_return json_reply(200, "{}");
  }
};

mattermost_adapter::mattermost_adapter(asio::any_io_executor ex, std::shared_ptr<const conf::config> cfg,
                                       runtime::command_pipeline& pipe, mattermost_secrets secrets)
    : impl_(std::make_shared<impl>(ex, std::move(cfg), pipe, std::move(secrets))) {}

mattermost_adapter::~mattermost_adapter() = default;

void mattermost_adapter::start() { impl_->start(); }

void mattermost_adapter::stop(std::function<void()> done) {
  impl_->flight.stop(impl_, impl_->links, impl_->outbox, std::move(done));
}

void mattermost_adapter::posts_enqueued() { impl_->outbox.wake(); }
void mattermost_adapter::reconfigure(std::shared_ptr<const conf::config> cfg) { impl_->cfg = std::move(cfg); }

void mattermost_adapter::serve_http(net::http_server& http) {
  if (impl_->cfg->mattermost->actions_url.empty()) return;
  std::weak_ptr<impl> weak = impl_;
  http.route_post("/mattermost/actions", [weak](std::string body) -> asio::awaitable<net::http_reply> {
    auto self = weak.lock();
    if (!self || self->flight.stopping())
      co_return net::http_reply{503, "application/json", "{\"error\":\"signoff is stopping\"}"};
    co_return co_await self->on_action(std::move(body));
  });
}

runtime::adapter_status mattermost_adapter::status() const {
  auto s = runtime::link_status(impl_->links, impl_->fsm.live_links());
  s.extra["connection"] = impl_->fsm.connection_id().empty() ? "none" : "resumable";
  return s;
}

void mattermost_adapter::metrics(runtime::metrics_text& out) const {
  const auto& c = impl_->counters;
  out.gauge("signoff_mattermost_up", "1 when the websocket link serves.", impl_->fsm.connected() ? 1 : 0);
  out.gauge("signoff_mattermost_links", "Open websocket links.", impl_->fsm.live_links());
  out.counter("signoff_mattermost_events_total", "Websocket events received in order.", c.events);
  out.counter("signoff_mattermost_malformed_frames_total", "Websocket frames that did not decode.", c.malformed_frames);
  out.counter("signoff_mattermost_malformed_posts_total", "posted events whose post did not decode.", c.malformed_posts);
  out.counter("signoff_mattermost_commands_total", "Posts taken as commands.", c.commands);
  out.counter("signoff_mattermost_ignored_posts_total", "Posts that are not commands (no trigger, own, bots).",
              c.ignored_posts);
  out.counter("signoff_mattermost_replays_total", "Command posts seen again, not executed again.", c.replays);
  out.counter("signoff_mattermost_replies_total", "Replies posted.", c.replies);
  out.counter("signoff_mattermost_reply_failures_total", "Replies that could not be posted.", c.reply_failures);
  out.counter("signoff_mattermost_catch_ups_total", "Catch-ups on posts made while events were lost.", c.catch_ups);
  out.counter("signoff_mattermost_caught_up_total", "Commands found by catch-ups.", c.caught_up);
  out.counter("signoff_mattermost_clicks_total", "Button clicks received.", c.clicks);
  out.counter("signoff_mattermost_clicks_refused_total", "Clicks and dialog submissions refused.", c.clicks_refused);
  out.counter("signoff_mattermost_dialogs_total", "Reject dialogs opened.", c.dialogs);
  out.counter("signoff_mattermost_dialog_submissions_total", "Dialog submissions received.", c.dialog_submissions);
  out.counter("signoff_mattermost_hellos_total", "Fresh websocket connections (hello).",
              static_cast<std::uint64_t>(impl_->fsm.fresh_hellos()));
  out.counter("signoff_mattermost_resumes_total", "Links resumed without loss.",
              static_cast<std::uint64_t>(impl_->fsm.resumes()));
  out.counter("signoff_mattermost_links_opened_total", "Websocket links attempted.", impl_->links.counters().opened);
  out.counter("signoff_mattermost_link_failures_total", "Websocket links that failed to open.",
              impl_->links.counters().open_failures);
  out.counter("signoff_mattermost_api_calls_total", "REST requests.", c.api_calls);
  out.counter("signoff_mattermost_api_errors_total", "REST requests that failed.", c.api_errors);
  out.counter("signoff_mattermost_rate_limited_total", "HTTP 429 answers.", c.rate_limited);
  out.counter("signoff_mattermost_late_confirmations_total", "Replies confirmed after a restart.", c.late_confirmations);
}

}  // namespace signoff::adapters
