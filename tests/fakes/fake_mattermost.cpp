// The loopback fake of Mattermost (see fake_mattermost.hpp for the contract
// and the server sources each rule follows).
//
// Threads: links and connection IDs (`webconn`) are io-only (fake_server's
// thread). The world (users, channels, posts, dialogs), the records the test
// reads (calls, errors, counters) and injected faults sit behind `mu` with
// one condition variable. An event is built under `mu` (a snapshot of the
// post) and delivered to the connection IDs on the io thread; `mu` is never
// held across run_sync().
#include "fakes/fake_mattermost.hpp"

#include "fakes/fake_server.hpp"
#include "support/http_get.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>

namespace signoff::test {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;
using link_ptr = fake_server::link_ptr;
using request = fake_server::request;
using answer = fake_server::answer;

constexpr auto tok = asio::as_tuple(asio::use_awaitable);
constexpr auto auth_check_interval = 5s;  // web_conn.go authCheckInterval
constexpr const char* server_version = "9.11.0";

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string{};
}

// Runes, as Go's utf8.RuneCountInString counts them.
std::size_t runes(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80 ? 1 : 0;
  return n;
}

bool valid_id(std::string_view s) {  // model.IsValidId
  return s.size() == 26 && s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") == std::string_view::npos;
}

bool alnum(std::string_view s) {  // the action route's {action_id:[A-Za-z0-9]+}
  return !s.empty() &&
         s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == std::string_view::npos;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

std::optional<std::string> unbase64(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return std::nullopt;
  std::string out(3 * in.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  std::size_t len = static_cast<std::size_t>(n);
  if (in.back() == '=') --len;
  if (in.size() >= 2 && in[in.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string hmac(const std::string& key, std::string_view msg) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t i = 0;
  for (;;) {
    auto j = s.find(sep, i);
    out.emplace_back(s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (j == std::string_view::npos) return out;
    i = j + 1;
  }
}

std::vector<std::string> split_path(std::string_view p) {
  std::vector<std::string> out;
  for (auto& part : split(p, '/'))
    if (!part.empty()) out.push_back(pct_decode(part));
  return out;
}

std::string query_param(const std::string& query, std::string_view name) {
  for (const auto& kv : split(query, '&')) {
    auto eq = kv.find('=');
    if (kv.substr(0, eq) == name) return eq == std::string::npos ? std::string{} : pct_decode(kv.substr(eq + 1));
  }
  return {};
}
bool has_query_param(const std::string& query, std::string_view name) {
  for (const auto& kv : split(query, '&'))
    if (kv.substr(0, kv.find('=')) == name) return true;
  return false;
}

std::optional<std::int64_t> parse_int(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size() || s.find_first_not_of("0123456789", i) != std::string::npos) return std::nullopt;
  return std::stoll(s);
}

// "http://127.0.0.1:PORT/path" (or localhost): the port and target, nullopt otherwise.
std::optional<std::pair<std::uint16_t, std::string>> loopback_url(const std::string& url) {
  for (std::string_view host : {"http://127.0.0.1:", "http://localhost:"}) {
    if (!url.starts_with(host)) continue;
    std::string rest = url.substr(host.size());
    auto slash = rest.find('/');
    auto port = parse_int(rest.substr(0, slash));
    if (!port || *port <= 0 || *port > 65535) return std::nullopt;
    return std::make_pair(static_cast<std::uint16_t>(*port), slash == std::string::npos ? "/" : rest.substr(slash));
  }
  return std::nullopt;
}

// ---- the world --------------------------------------------------------------------

struct user_rec {
  std::string id, username;
  bool is_bot = false;
};

struct channel_rec {
  std::string id, name, display_name, type = "O", team_id;
  std::set<std::string> members;
  std::int64_t create_at = 0, last_post_at = 0;
  std::int64_t total_msg_count = 0;
};

struct stored_post {
  fake_mattermost::post_rec r;
  std::int64_t update_at = 0, edit_at = 0;
};

// An event as built under `mu`: its frame is made when a connection writes it
// (web_conn.go writePump gives the seq then).
struct event {
  std::string name, data, broadcast;  // serialised JSON
  std::string timed_post;             // post_as's post: its first write is recorded (event_written_at)
  std::string frame(std::int64_t seq) const {
    return R"({"event":")" + name + R"(","data":)" + data + R"(,"broadcast":)" + broadcast + R"(,"seq":)" +
           std::to_string(seq) + "}";
  }
};
using event_ptr = std::shared_ptr<const event>;

// One connection ID: the server's WebConn, which outlives its socket
// (web_conn.go: connectionID, Sequence, send, deadQueue, active; web_hub.go
// keeps inactive ones for reuse).
struct webconn {
  std::string id;                           // connection_id (26 chars); a lossy resume renames it
  std::int64_t sequence = 0;                // seq of the next event written (wc.Sequence)
  std::deque<std::pair<std::int64_t, std::string>> dead;  // the last dead_queue events written: seq, frame
  std::deque<event_ptr> send;               // not written yet: socket gone (inactive) or zombie
  std::weak_ptr<fake_server::link> link;    // the socket carrying it; empty while inactive
  bool active = false;                      // a socket carries it
  steady::time_point inactive_since{};
};
using webconn_ptr = std::shared_ptr<webconn>;

// One socket (fake_server::link::state): what the server knows of it before
// and after authentication.
struct ws_link {
  bool authed = false;                 // session attached (upgrade header or challenge)
  webconn_ptr conn;                    // registered in the hub once authenticated
  std::int64_t last_client_seq = 0;    // the client's last request seq (must increase)
  steady::time_point last_pong;        // pongWaitTime counts from here
};
ws_link& link_of(const link_ptr& l) { return *static_cast<ws_link*>(l->state.get()); }

struct injected {
  std::string prefix;
  unsigned status = 0;  // fail_next
  int seconds = 0;      // rate_limit_next
  int count = 1;
};

std::string normal_prefix(std::string p) { return p.empty() || p[0] == '/' ? p : "/" + p; }

// Calls f(action object) for each props.attachments[].actions[] entry.
template <class F>
void for_each_action(json::value& props, F f) {
  auto* o = props.if_object();
  auto* atts = o ? o->if_contains("attachments") : nullptr;
  if (!atts || !atts->is_array()) return;
  for (auto& att : atts->get_array()) {
    auto* acts = att.is_object() ? att.get_object().if_contains("actions") : nullptr;
    if (!acts || !acts->is_array()) continue;
    for (auto& a : acts->get_array())
      if (a.is_object()) f(a.get_object());
  }
}

}  // namespace

struct fake_mattermost::impl final : fake_server::handler {
  options opt;
  std::string trigger_key;  // signs trigger IDs (Mattermost signs them with its own key)

  // ---- io-only ----
  std::map<std::string, webconn_ptr> conns;  // by connection ID: active and inactive

  // ---- shared, under mu ----
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::mt19937_64 rng;
  std::string token;
  std::map<std::string, user_rec> users;
  std::map<std::string, channel_rec> channels;
  std::vector<stored_post> all_posts;          // oldest first
  std::map<std::string, std::size_t> post_index;
  std::map<std::string, std::int64_t> replies_of;  // root post ID -> replies (post_json's reply_count)
  std::map<std::string, steady::time_point> written_at;  // post_as's posts: first write of "posted"
  std::deque<bot_post> bot_queue;              // POST posts by the bot, for next_bot_post
  std::map<std::string, std::string> trigger_channels;  // trigger ID -> channel of the click
  std::deque<dialog> open_dialogs;
  std::string last_integration_body;           // what click() / submit_dialog() last sent
  std::vector<std::string> errors;
  std::vector<api_call> call_log;
  std::vector<injected> limits, failures;
  steady::time_point blocked_until{};          // after a 429: requests before this are refused
  // When that 429 went out: a request that was already on its way (sent
  // on another connection before the client could read the 429) is refused
  // too, but is the client's fault only when it arrives after this grace.
  steady::time_point blocked_at{};
  int live = 0, hello_count = 0, resume_count = 0;
  bool zombie = false, refuse = false;

  fake_server server;  // last: destroyed first

  static fake_server::options server_options(const options& o) {
    fake_server::options so;
    so.cert_pem = o.cert_pem;
    so.key_pem = o.key_pem;
    so.name = "fake_mattermost";
    so.max_message = 8192;  // model.SocketMaxMessageSizeKb: gorilla closes 1009 beyond it
    so.too_big_code = 1009;
    return so;
  }

  explicit impl(options o) : opt(std::move(o)), rng(std::random_device{}()), token(opt.token), server(server_options(opt), *this) {
    for (int i = 0; i < 4; ++i) trigger_key += std::to_string(rng());
    users[opt.bot_user_id] = {opt.bot_user_id, opt.bot_username, true};
    server.start();
  }

  void protocol_error(std::string what) {
    std::lock_guard lk(mu);
    errors.push_back(std::move(what));
    cv.notify_all();
  }
  void on_error(std::string what) override { protocol_error("websocket: " + what); }

  std::string new_id() {  // under mu; model.NewId's alphabet and length
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string s(26, 'a');
    for (auto& c : s) c = alphabet[rng() % 36];
    return s;
  }

  // ---- JSON shapes (under mu) ---------------------------------------------------
  json::object user_json(const user_rec& u) const {
    json::object o{{"id", u.id}, {"create_at", 1700000000000}, {"update_at", 1700000000000}, {"delete_at", 0},
                   {"username", u.username}, {"auth_data", ""}, {"auth_service", ""}, {"email", u.username + "@example.invalid"},
                   {"nickname", ""}, {"first_name", ""}, {"last_name", ""}, {"position", ""}, {"roles", "system_user"},
                   {"locale", "en"}, {"timezone", json::object{}}, {"disable_welcome_email", false}};
    if (u.is_bot) {
      o["is_bot"] = true;
      o["bot_description"] = "";
      o["roles"] = "system_user";
    }
    return o;
  }
  json::object channel_json(const channel_rec& c) const {
    return {{"id", c.id}, {"create_at", c.create_at}, {"update_at", c.create_at}, {"delete_at", 0},
            {"team_id", c.team_id}, {"type", c.type}, {"display_name", c.display_name}, {"name", c.name},
            {"header", ""}, {"purpose", ""}, {"last_post_at", c.last_post_at}, {"last_root_post_at", c.last_post_at},
            {"total_msg_count", c.total_msg_count}, {"extra_update_at", 0}, {"creator_id", ""},
            {"group_constrained", nullptr}, {"shared", nullptr}, {"policy_id", nullptr}};
  }
  // Kept as a count: a scan of every post here made long runs quadratic.
  std::int64_t reply_count(const std::string& root) const {
    auto it = replies_of.find(root);
    return it == replies_of.end() ? 0 : it->second;
  }
  json::object post_json(const stored_post& p) const {
    return {{"id", p.r.id}, {"create_at", p.r.create_at}, {"update_at", p.update_at}, {"edit_at", p.edit_at},
            {"delete_at", 0}, {"is_pinned", false}, {"user_id", p.r.user_id}, {"channel_id", p.r.channel_id},
            {"root_id", p.r.root_id}, {"original_id", ""}, {"message", p.r.message}, {"type", ""},
            {"props", p.r.props.is_object() ? p.r.props : json::value(json::object{})}, {"hashtags", ""},
            {"pending_post_id", ""}, {"reply_count", reply_count(p.r.root_id.empty() ? p.r.id : p.r.root_id)},
            {"last_reply_at", 0}, {"participants", nullptr}, {"metadata", json::object{}}};
  }
  static std::string broadcast_json(const std::string& channel_id, const std::string& user_id = "") {
    return json::serialize(json::object{{"omit_users", nullptr}, {"user_id", user_id}, {"channel_id", channel_id},
                                        {"team_id", ""}, {"connection_id", ""}, {"omit_connection_id", ""}});
  }
  // "posted" or "post_edited" for `p`, or null when the bot is not in its channel.
  event_ptr post_event(const std::string& name, const stored_post& p) const {
    auto c = channels.find(p.r.channel_id);
    if (c == channels.end() || !c->second.members.count(opt.bot_user_id)) return nullptr;
    auto e = std::make_shared<event>();
    e->name = name;
    json::object d{{"post", json::serialize(post_json(p))}};
    if (name == "posted") {
      auto u = users.find(p.r.user_id);
      std::string sender = "@" + (u == users.end() ? p.r.user_id : u->second.username);
      d["channel_display_name"] = c->second.type == "D" ? sender : c->second.display_name;
      d["channel_name"] = c->second.name;
      d["channel_type"] = c->second.type;
      d["sender_name"] = sender;
      d["set_online"] = true;
      d["team_id"] = c->second.team_id;
    }
    e->data = json::serialize(d);
    e->broadcast = broadcast_json(p.r.channel_id);
    return e;
  }

  // A user's post event whose write time is kept: the moment the bot could
  // first read the command (a benchmark's latency starts here).
  struct timed_frame final : fake_server::outgoing {
    impl& m;
    std::string post_id, frame;
    timed_frame(impl& owner, std::string id, std::string f) : m(owner), post_id(std::move(id)), frame(std::move(f)) {}
    std::string_view text() const override { return frame; }
    void written(steady::time_point at) override {
      std::lock_guard lk(m.mu);
      m.written_at.emplace(post_id, at);  // a second link's write keeps the first
    }
  };

  // ---- connection IDs (io thread) ----------------------------------------------------
  void publish_counts() {
    int n = 0;
    for (auto& l : server.links()) n += l->usable() && l->state && link_of(l).authed ? 1 : 0;
    std::lock_guard lk(mu);
    live = n;
    cv.notify_all();
  }
  bool is_zombie() const {
    std::lock_guard lk(mu);
    return zombie;
  }

  // Writes what is queued for `c` when a live, non-zombie socket carries it.
  void flush(webconn& c) {
    auto l = c.link.lock();
    if (!c.active || !l || !l->usable() || is_zombie()) return;
    while (!c.send.empty()) {
      std::string frame = c.send.front()->frame(c.sequence);
      c.dead.emplace_back(c.sequence, frame);
      while (c.dead.size() > opt.dead_queue) c.dead.pop_front();
      ++c.sequence;
      const std::string timed = c.send.front()->timed_post;
      c.send.pop_front();
      if (timed.empty()) server.send_text(l, std::move(frame));
      else server.send(l, std::make_shared<timed_frame>(*this, timed, std::move(frame)));
    }
  }

  bool expired(const webconn& c, steady::time_point now) const {
    return !c.active && now - c.inactive_since > opt.inactive_ttl;
  }

  // Queues `e` on every (bot) connection ID; one whose send queue overflows
  // is dropped for good (web_hub.go closeAndRemoveConn: a close frame with no code).
  void deliver(const event_ptr& e) {
    if (!e) return;
    auto now = steady::now();
    for (auto it = conns.begin(); it != conns.end();) {
      webconn& c = *it->second;
      if (expired(c, now)) {
        it = conns.erase(it);
        continue;
      }
      c.send.push_back(e);
      if (c.send.size() > opt.send_queue) {
        if (auto l = c.link.lock()) server.close(l, 1005);
        c.active = false;
        it = conns.erase(it);
        continue;
      }
      flush(c);
      ++it;
    }
  }

  webconn_ptr fresh_conn() {
    auto c = std::make_shared<webconn>();
    std::lock_guard lk(mu);
    c->id = new_id();
    return c;
  }

  event_ptr hello_event(const webconn& c) const {
    auto e = std::make_shared<event>();
    e->name = "hello";
    e->data = json::serialize(json::object{{"connection_id", c.id},
                                           {"server_hostname", "fake-mattermost"},
                                           {"server_version", std::string(server_version) + ".9.11.0.fakeconfighash.false"}});
    e->broadcast = broadcast_json("", opt.bot_user_id);
    return e;
  }

  // `l` now carries `c`. With `hello`, a fresh start: seq 0 is the hello,
  // what was queued follows; `replay_from` >= 0 replays the dead queue first.
  void attach(const link_ptr& l, const webconn_ptr& c, bool hello, std::int64_t replay_from = -1) {
    auto& s = link_of(l);
    s.authed = true;
    s.conn = c;
    c->link = l;
    c->active = true;
    conns[c->id] = c;
    // Counted before anything is sent on it: a test that sees the bot's
    // answer to a replayed event must also see the resume (counting after
    // the replay let the bot's reply win that race on a loaded machine).
    {
      std::lock_guard lk(mu);
      ++(hello ? hello_count : resume_count);
      cv.notify_all();
    }
    if (hello) {
      c->dead.clear();
      c->sequence = 0;
      c->send.push_front(hello_event(*c));
    } else if (replay_from >= 0 && !is_zombie()) {
      for (const auto& [seq, frame] : c->dead)
        if (seq >= replay_from) server.send_text(l, frame);
    }
    flush(*c);
    publish_counts();
  }

  // ---- websocket (io thread) ---------------------------------------------------------
  static bool ws_path(const std::string& p) { return p == "/api/v4/websocket" || p == "/api/v4/websocket/"; }

  std::optional<answer> on_upgrade(const request& req) override {
    if (!ws_path(req.path)) return error_answer(404, "api.context.404.app_error", "Sorry, we could not find the page.");
    std::lock_guard lk(mu);
    if (refuse) {
      answer a;
      a.status = 503;
      a.content_type = "text/plain; charset=utf-8";
      a.body = "503 Service Unavailable\n";
      return a;
    }
    return std::nullopt;
  }

  // The session of an Authorization header: 1 valid, 0 none, -1 wrong.
  int header_session(std::string_view auth) const {
    if (auth.empty()) return 0;
    std::lock_guard lk(mu);
    return starts_with_ci(auth, "Bearer ") && auth.substr(7) == token ? 1 : -1;
  }

  void on_open(const link_ptr& l, const request& req) override {
    auto s = std::make_shared<ws_link>();
    s->last_pong = steady::now();
    l->state = s;
    server.spawn(pinger(l));
    int session = header_session(req.header("Authorization"));
    if (session < 0) protocol_error("websocket upgrade with a wrong Bearer token (the link stays unauthenticated)");
    if (session <= 0) {
      server.spawn(auth_deadline(l));
      return;
    }
    std::string id = query_param(req.query, "connection_id");
    if (id.empty()) return attach(l, fresh_conn(), true);
    auto n = has_query_param(req.query, "sequence_number") ? parse_int(query_param(req.query, "sequence_number"))
                                                            : std::nullopt;
    if (!valid_id(id) || !n) {
      protocol_error("websocket upgrade with an invalid connection_id or sequence_number: closed");
      return server.kill(l);
    }
    if (*n == 0) protocol_error("websocket upgrade with a connection_id and sequence_number=0 (resets the numbering)");
    auto it = conns.find(id);
    // RemoveInactiveByConnectionID: only an inactive, unexpired ID is reused.
    if (it == conns.end() || it->second->active || expired(*it->second, steady::now()) || *n <= 0)
      return attach(l, fresh_conn(), true);
    webconn_ptr c = it->second;
    bool in_dead = std::any_of(c->dead.begin(), c->dead.end(), [&](const auto& d) { return d.first == *n; });
    if (in_dead) return attach(l, c, false, *n);
    if (*n == c->sequence) return attach(l, c, false);
    // Lossy: a new ID on the same queue, hello at seq 0, then the backlog.
    conns.erase(it);
    {
      std::lock_guard lk(mu);
      c->id = new_id();
    }
    attach(l, c, true);
  }

  asio::awaitable<void> auth_deadline(link_ptr l) {
    asio::steady_timer t(server.io(), auth_check_interval);
    co_await t.async_wait(tok);
    if (l->dead() || link_of(l).authed) co_return;
    protocol_error("websocket: not authenticated within 5 s: closed");
    server.kill(l);
  }

  // Ping frames every server_ping; no pong within 5/3 of it closes the socket.
  asio::awaitable<void> pinger(link_ptr l) {
    asio::steady_timer t(server.io());
    for (;;) {
      t.expires_after(opt.server_ping);
      co_await t.async_wait(tok);
      if (!l->usable()) co_return;
      if (is_zombie()) continue;
      if (steady::now() - link_of(l).last_pong > opt.server_ping * 5 / 3) {
        protocol_error("websocket: no pong to the server's pings: closed");
        server.kill(l);
        co_return;
      }
      server.send_ping(l);
    }
  }
  void on_pong(const link_ptr& l) override { link_of(l).last_pong = steady::now(); }

  void on_link_change(const link_ptr& l) override {
    if (l->state && (l->dead() || l->closing())) {
      auto& s = link_of(l);
      if (s.conn && s.conn->link.lock() == l) {
        s.conn->active = false;
        s.conn->link.reset();
        s.conn->inactive_since = steady::now();
      }
    }
    publish_counts();
  }

  void reply(const link_ptr& l, std::int64_t seq, json::value data) {
    json::object o{{"status", "OK"}};
    if (seq != 0) o["seq_reply"] = seq;
    if (!data.is_null()) o["data"] = std::move(data);
    server.send_text(l, json::serialize(o));
  }
  void reply_error(const link_ptr& l, std::int64_t seq, std::string_view id, std::string_view message, int status) {
    json::object o{{"status", "FAIL"}};
    if (seq != 0) o["seq_reply"] = seq;
    o["error"] = json::object{{"id", id}, {"message", message}, {"detailed_error", ""}, {"status_code", status}};
    server.send_text(l, json::serialize(o));
  }

  void on_text(const link_ptr& l, std::string_view text, steady::time_point) override {
    auto& s = link_of(l);
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    const json::value* seqv = o ? o->if_contains("seq") : nullptr;
    const json::value* actv = o ? o->if_contains("action") : nullptr;
    const json::value* datav = o ? o->if_contains("data") : nullptr;
    // json.Decoder into WebSocketRequest: a wrong type anywhere is a decode error, which closes the socket.
    if (!o || (seqv && !seqv->is_int64() && !seqv->is_null()) || (actv && !actv->is_string() && !actv->is_null()) ||
        (datav && !datav->is_object() && !datav->is_null())) {
      protocol_error("websocket: request is not a JSON WebSocketRequest: " + cut80(text) + ": closed");
      return server.kill(l);
    }
    std::int64_t seq = seqv && seqv->is_int64() ? seqv->get_int64() : 0;
    std::string action = actv && actv->is_string() ? std::string(actv->get_string()) : std::string{};
    if (seq > 0 && seq <= s.last_client_seq)
      protocol_error("websocket: request seq " + std::to_string(seq) + " not above " + std::to_string(s.last_client_seq));
    s.last_client_seq = std::max(s.last_client_seq, seq);
    if (action.empty()) {
      protocol_error("websocket: request without an action");
      return reply_error(l, seq, "api.web_socket_router.no_action.app_error", "No websocket action.", 400);
    }
    if (seq <= 0) {
      protocol_error("websocket: request with seq <= 0");
      return reply_error(l, seq, "api.web_socket_router.bad_seq.app_error", "Invalid sequence for WebSocket message.", 400);
    }
    if (action == "authentication_challenge") {
      if (s.authed) return;  // already has a session: ignored, no reply
      std::string t = datav && datav->is_object() ? str(datav->get_object(), "token") : std::string{};
      bool ok;
      {
        std::lock_guard lk(mu);
        ok = !t.empty() && t == token;
      }
      if (!ok) {
        protocol_error("websocket: authentication_challenge without the right token: closed");
        return server.kill(l);
      }
      attach(l, fresh_conn(), true);  // HubRegister queues hello first
      return reply(l, seq, nullptr);
    }
    if (!s.authed) {
      // not_authenticated goes through hub.SendMessage, which drops it for an unregistered link.
      protocol_error("websocket: action " + cut80(action) + " before authentication (the answer is dropped)");
      return;
    }
    if (action == "ping") {
      if (is_zombie()) return;
      return reply(l, seq, json::object{{"text", "pong"}, {"version", server_version}, {"server_time", unix_ms()},
                                        {"node_id", ""}});
    }
    static const std::set<std::string> known{"user_typing", "get_statuses", "get_statuses_by_ids", "presence",
                                             "user_update_active_status", "posted_notify_ack"};
    if (known.count(action)) {
      if (!is_zombie()) reply(l, seq, nullptr);
      return;
    }
    protocol_error("websocket: unknown action " + cut80(action));
    reply_error(l, seq, "api.web_socket_router.bad_action.app_error", "Unknown action.", 500);
  }

  // ---- REST (io thread) ---------------------------------------------------------------
  static answer json_answer(unsigned status, const json::value& body) {
    answer a;
    a.status = status;
    a.body = json::serialize(body);
    return a;
  }
  answer error_answer(unsigned status, std::string_view id, std::string_view message) {
    std::string rid;
    {
      std::lock_guard lk(mu);
      rid = new_id();
    }
    return json_answer(status, json::object{{"id", id}, {"message", message}, {"detailed_error", ""},
                                            {"request_id", rid}, {"status_code", status}});
  }
  answer forbidden() {
    return error_answer(403, "api.context.permissions.app_error", "You do not have the appropriate permissions.");
  }
  answer bad_body(std::string_view param) {
    return error_answer(400, "api.context.invalid_body_param.app_error",
                        "Invalid or missing " + std::string(param) + " in request body.");
  }

  asio::awaitable<answer> on_http(request req) override { co_return handle(req); }

  static std::string where(const api_call& c) { return "REST " + c.method + " " + cut80(c.path); }

  answer handle(const request& req) {
    api_call call;
    call.method = req.method;
    call.query = req.query;
    call.at = steady::now();
    call.authorization = std::string(req.header("Authorization"));
    static const std::string prefix = "/api/v4";
    if (!req.path.starts_with(prefix + "/")) {
      call.path = req.path;
      answer a = error_answer(404, "api.context.404.app_error", "Sorry, we could not find the page.");
      protocol_error("REST " + req.method + " " + cut80(req.path) + ": not under /api/v4");
      call.status = a.status;
      record(std::move(call));
      return a;
    }
    call.path = req.path.substr(prefix.size());
    if (!req.body.empty()) {
      boost::system::error_code ec;
      call.body = json::parse(req.body, ec);
      if (ec) call.body = nullptr;
    }
    answer a = checked(req, call);
    call.status = a.status;
    record(std::move(call));
    return a;
  }

  void record(api_call c) {
    std::lock_guard lk(mu);
    call_log.push_back(std::move(c));
    cv.notify_all();
  }

  static answer too_many(int seconds) {
    answer a;
    a.status = 429;
    a.content_type = "text/plain; charset=utf-8";
    a.body = "limit exceeded\n";
    a.headers.emplace_back("X-Ratelimit-Limit", "10");
    a.headers.emplace_back("X-Ratelimit-Remaining", "0");
    a.headers.emplace_back("X-Ratelimit-Reset", std::to_string(seconds));
    a.headers.emplace_back("Retry-After", std::to_string(seconds));
    return a;
  }

  // Authentication, the rate limiter and injected faults, then the route.
  answer checked(const request& req, const api_call& call) {
    auto p = split_path(call.path);
    if (p.size() == 2 && p[0] == "system" && p[1] == "ping" && req.method == "GET")
      return json_answer(200, json::object{{"status", "OK"}});
    int session = header_session(req.header("Authorization"));
    if (session <= 0) {
      protocol_error(where(call) + (session == 0 ? ": no Authorization header" : ": a wrong Bearer token"));
      return error_answer(401, "api.context.session_expired.app_error", "Invalid or expired session, please login again.");
    }
    auto now = steady::now();
    std::optional<injected> limit, fail;
    std::chrono::seconds left{};
    bool in_flight = false;
    {
      std::lock_guard lk(mu);
      if (now < blocked_until) {
        left = std::chrono::ceil<std::chrono::seconds>(blocked_until - now);
        in_flight = now < blocked_at + std::chrono::milliseconds(100);
      } else {
        for (auto it = limits.begin(); it != limits.end(); ++it)
          if (call.path.starts_with(it->prefix)) {
            limit = *it;
            if (--it->count <= 0) limits.erase(it);
            blocked_until = now + std::chrono::seconds(limit->seconds);
            blocked_at = now;
            break;
          }
        if (!limit)
          for (auto it = failures.begin(); it != failures.end(); ++it)
            if (call.path.starts_with(it->prefix)) {
              fail = *it;
              if (--it->count <= 0) failures.erase(it);
              break;
            }
      }
    }
    if (left.count() > 0) {
      if (!in_flight) protocol_error(where(call) + ": sent before the 429's reset had passed");
      return too_many(static_cast<int>(left.count()));
    }
    if (limit) return too_many(limit->seconds);
    if (fail) return error_answer(fail->status, "api.fake.injected_failure.app_error", "An injected failure.");
    return route(req, call, p);
  }

  answer not_found(const api_call& call) {
    protocol_error(where(call) + ": no such route");
    return error_answer(404, "api.context.404.app_error", "Sorry, we could not find the page.");
  }

  answer route(const request& req, const api_call& call, const std::vector<std::string>& p) {
    const std::string& m = req.method;
    auto is = [&](std::string_view method, std::initializer_list<const char*> shape) {
      if (m != method || p.size() != shape.size()) return false;
      std::size_t i = 0;
      for (const char* s : shape) {
        if (std::string_view(s) != "*" && p[i] != s) return false;
        ++i;
      }
      return true;
    };
    if (is("GET", {"users", "me"})) return get_user(opt.bot_user_id);
    if (is("GET", {"users", "me", "teams"})) return my_teams();
    if (is("GET", {"users", "me", "teams", "*", "channels"})) return my_channels(p[3]);
    if (is("POST", {"users", "ids"})) return users_by_ids(call);
    if (is("GET", {"users", "*"})) return get_user(p[1]);
    if (is("POST", {"channels", "direct"})) return direct_channel(call);
    if (is("GET", {"channels", "*"})) return get_channel(p[1]);
    if (is("GET", {"channels", "*", "posts"})) return channel_posts(p[1], req.query);
    if (is("POST", {"posts"})) return create_post(call);
    if (is("GET", {"posts", "*"})) return get_post(p[1]);
    if (is("PUT", {"posts", "*", "patch"})) return patch_post(p[1], call);
    if (is("POST", {"actions", "dialogs", "open"})) return open_dialog(call);
    return not_found(call);
  }

  answer get_user(const std::string& id) {
    std::unique_lock lk(mu);
    auto it = users.find(id);
    if (it != users.end()) return json_answer(200, user_json(it->second));
    lk.unlock();
    return error_answer(404, "app.user.missing_account.const", "Unable to find the user.");
  }

  answer users_by_ids(const api_call& call) {
    if (!call.body.is_array()) return bad_body("user_ids");
    json::array out;
    std::lock_guard lk(mu);
    for (const auto& v : call.body.get_array())
      if (v.is_string())
        if (auto it = users.find(std::string(v.get_string())); it != users.end()) out.push_back(user_json(it->second));
    return json_answer(200, out);
  }

  answer my_teams() {
    json::object t{{"id", opt.team_id}, {"create_at", 1700000000000}, {"update_at", 1700000000000}, {"delete_at", 0},
                   {"display_name", opt.team_name}, {"name", opt.team_name}, {"description", ""}, {"email", ""},
                   {"type", "O"}, {"company_name", ""}, {"allowed_domains", ""}, {"invite_id", ""},
                   {"allow_open_invite", false}, {"policy_id", nullptr}};
    return json_answer(200, json::array{t});
  }

  answer my_channels(const std::string& team) {
    if (team != opt.team_id) return forbidden();
    json::array out;
    std::lock_guard lk(mu);
    for (const auto& [id, c] : channels)
      if (c.members.count(opt.bot_user_id) && (c.team_id == team || c.team_id.empty())) out.push_back(channel_json(c));
    return json_answer(200, out);
  }

  answer get_channel(const std::string& id) {
    std::unique_lock lk(mu);
    auto it = channels.find(id);
    if (it == channels.end() || !it->second.members.count(opt.bot_user_id)) {
      lk.unlock();
      return forbidden();
    }
    return json_answer(200, channel_json(it->second));
  }

  // Under mu: the DM channel of two users, made (both members) on first use.
  channel_rec& dm_locked(const std::string& a, const std::string& b) {
    std::string name = std::min(a, b) + "__" + std::max(a, b);
    for (auto& [id, c] : channels)
      if (c.type == "D" && c.name == name) return c;
    channel_rec c;
    c.id = new_id();
    c.name = name;
    c.type = "D";
    c.create_at = unix_ms();
    c.members = {a, b};
    return channels[c.id] = c;
  }

  answer direct_channel(const api_call& call) {
    const json::array* ids = call.body.if_array();
    if (!ids || ids->size() != 2 || !(*ids)[0].is_string() || !(*ids)[1].is_string()) return bad_body("user_ids");
    std::string a((*ids)[0].get_string()), b((*ids)[1].get_string());
    std::unique_lock lk(mu);
    if (a != opt.bot_user_id && b != opt.bot_user_id) {
      lk.unlock();
      protocol_error(where(call) + ": the bot is not one of the two users");
      return error_answer(400, "api.channel.create_direct_channel.invalid_user.app_error",
                          "The bot must be one of the channel's two users.");
    }
    if (!users.count(a) || !users.count(b)) {
      lk.unlock();
      return error_answer(400, "api.channel.create_direct_channel.invalid_user.app_error", "Invalid user ID for direct channel creation.");
    }
    return json_answer(201, channel_json(dm_locked(a, b)));
  }

  answer get_post(const std::string& id) {
    std::unique_lock lk(mu);
    auto it = post_index.find(id);
    if (it != post_index.end()) {
      const auto& p = all_posts[it->second];
      auto c = channels.find(p.r.channel_id);
      if (c != channels.end() && c->second.members.count(opt.bot_user_id)) return json_answer(200, post_json(p));
    }
    lk.unlock();
    return error_answer(404, "app.post.get.app_error", "Unable to get the post.");
  }

  answer channel_posts(const std::string& id, const std::string& query) {
    std::unique_lock lk(mu);
    auto c = channels.find(id);
    if (c == channels.end() || !c->second.members.count(opt.bot_user_id)) {
      lk.unlock();
      return forbidden();
    }
    auto since = parse_int(query_param(query, "since"));
    auto per_page = parse_int(query_param(query, "per_page")).value_or(60);
    auto page = parse_int(query_param(query, "page")).value_or(0);
    std::vector<const stored_post*> picked;
    for (auto it = all_posts.rbegin(); it != all_posts.rend(); ++it)  // newest first
      if (it->r.channel_id == id && (!since || it->update_at > *since)) picked.push_back(&*it);
    if (!since) {
      std::size_t from = static_cast<std::size_t>(std::max<std::int64_t>(0, page) * std::max<std::int64_t>(1, per_page));
      std::size_t to = std::min(picked.size(), from + static_cast<std::size_t>(std::max<std::int64_t>(1, per_page)));
      picked = from < picked.size() ? std::vector<const stored_post*>(picked.begin() + static_cast<std::ptrdiff_t>(from),
                                                                      picked.begin() + static_cast<std::ptrdiff_t>(to))
                                    : std::vector<const stored_post*>{};
    }
    json::array order;
    json::object posts;
    for (const auto* p : picked) {
      order.push_back(json::value(p->r.id));
      posts[p->r.id] = post_json(*p);
    }
    return json_answer(200, json::object{{"order", std::move(order)}, {"posts", std::move(posts)},
                                         {"next_post_id", ""}, {"prev_post_id", ""}, {"has_next", false}});
  }

  // Action IDs of props.attachments[].actions[]: a missing one gets an ID
  // (model.Post.GenerateActionIds); one outside [A-Za-z0-9] is a protocol error.
  void check_actions(json::value& props, const std::string& where_) {
    for_each_action(props, [&](json::object& a) {
      std::string id = str(a, "id");
      if (id.empty()) {
        std::lock_guard lk(mu);
        a["id"] = new_id();
      } else if (!alnum(id)) {
        protocol_error(where_ + ": action id \"" + cut80(id) + "\" is not [A-Za-z0-9] (the button cannot be clicked)");
      }
    });
  }

  std::optional<answer> message_problem(const json::object& body, const api_call& call) {
    auto* m = body.if_contains("message");
    if (m && !m->is_string()) return bad_body("message");
    if (m && runes(m->get_string()) > opt.message_max) {
      protocol_error(where(call) + ": message over " + std::to_string(opt.message_max) + " characters");
      return error_answer(400, "model.post.is_valid.message_length.app_error", "Invalid Message property for post.");
    }
    auto* pr = body.if_contains("props");
    if (pr && !pr->is_object() && !pr->is_null()) return bad_body("props");
    return std::nullopt;
  }

  answer create_post(const api_call& call) {
    const json::object* body = call.body.if_object();
    if (!body) return bad_body("post");
    std::string cid = str(*body, "channel_id"), root = str(*body, "root_id");
    if (!valid_id(cid)) return bad_body("channel_id");
    if (auto bad = message_problem(*body, call)) return *bad;
    json::value props = body->if_contains("props") && body->at("props").is_object() ? body->at("props") : json::object{};
    check_actions(props, where(call));
    event_ptr e;
    json::object out;
    {
      std::unique_lock lk(mu);
      auto c = channels.find(cid);
      if (c == channels.end() || !c->second.members.count(opt.bot_user_id)) {
        lk.unlock();
        return forbidden();
      }
      if (!root.empty()) {
        auto r = post_index.find(root);
        if (r == post_index.end() || all_posts[r->second].r.channel_id != cid || !all_posts[r->second].r.root_id.empty()) {
          lk.unlock();
          protocol_error(where(call) + ": root_id " + cut80(root) + " is not a root post of that channel");
          return error_answer(400, "api.post.create_post.root_id.app_error", "Invalid RootId parameter.");
        }
      }
      props.get_object()["from_bot"] = "true";
      const stored_post& p = store_post(opt.bot_user_id, cid, str(*body, "message"), root, std::move(props));
      e = post_event("posted", p);
      out = post_json(p);
      bot_post b{p.r, call.at, std::nullopt};
      if (auto w = written_at.find(root); !root.empty() && w != written_at.end()) b.latency = call.at - w->second;
      bot_queue.push_back(std::move(b));
      cv.notify_all();
    }
    deliver(e);
    return json_answer(201, out);
  }

  // Under mu: a new post, stored and counted.
  const stored_post& store_post(const std::string& user, const std::string& cid, std::string message,
                                const std::string& root, json::value props) {
    stored_post p;
    p.r.id = new_id();
    p.r.channel_id = cid;
    p.r.user_id = user;
    p.r.root_id = root;
    p.r.message = std::move(message);
    p.r.props = std::move(props);
    p.r.create_at = std::max(unix_ms(), all_posts.empty() ? 0 : all_posts.back().r.create_at + 1);  // distinct, increasing
    p.update_at = p.r.create_at;
    auto& c = channels.at(cid);
    c.last_post_at = p.r.create_at;
    ++c.total_msg_count;
    post_index[p.r.id] = all_posts.size();
    if (!root.empty()) ++replies_of[root];
    all_posts.push_back(std::move(p));
    cv.notify_all();
    return all_posts.back();
  }

  // Under mu: a new message and/or props on `p`, as an edit.
  void edit_locked(stored_post& p, const std::optional<std::string>& message, const json::value* props) {
    auto now = std::max(unix_ms(), p.update_at + 1);
    if (message && *message != p.r.message) {
      p.r.message = *message;
      p.edit_at = now;
    }
    if (props) {
      json::value kept = props->is_object() ? *props : json::value(json::object{});
      if (p.r.props.is_object() && p.r.props.get_object().if_contains("from_bot"))
        kept.get_object()["from_bot"] = p.r.props.get_object().at("from_bot");
      p.r.props = std::move(kept);
    }
    p.update_at = now;
    ++p.r.patches;
    cv.notify_all();
  }

  answer patch_post(const std::string& id, const api_call& call) {
    const json::object* body = call.body.if_object();
    if (!body) return bad_body("post");
    if (auto bad = message_problem(*body, call)) return *bad;
    json::value props;
    const json::value* propsp = nullptr;
    if (auto* pr = body->if_contains("props"); pr && pr->is_object()) {
      props = *pr;
      check_actions(props, where(call));
      propsp = &props;
    }
    event_ptr e;
    json::object out;
    {
      std::unique_lock lk(mu);
      auto it = post_index.find(id);
      if (it == post_index.end()) {
        lk.unlock();
        return error_answer(404, "app.post.get.app_error", "Unable to get the post.");
      }
      stored_post& p = all_posts[it->second];
      if (p.r.user_id != opt.bot_user_id) {
        lk.unlock();
        protocol_error(where(call) + ": patch of a post the bot did not write");
        return forbidden();
      }
      std::optional<std::string> msg;
      if (auto* m = body->if_contains("message"); m && m->is_string()) msg = std::string(m->get_string());
      edit_locked(p, msg, propsp);
      e = post_event("post_edited", p);
      out = post_json(p);
    }
    deliver(e);
    return json_answer(200, out);
  }

  // ---- trigger IDs and dialogs ---------------------------------------------------------
  std::string make_trigger(const std::string& user_id, const std::string& channel_id) {
    std::lock_guard lk(mu);
    std::string plain = new_id() + ":" + user_id + ":" + std::to_string(unix_ms());
    std::string t = base64(plain + ":" + base64(hmac(trigger_key, plain)));
    trigger_channels[t] = channel_id;
    return t;
  }

  // The user of a trigger ID, or the reason it is refused.
  std::pair<std::string, std::string> check_trigger(const std::string& t) {
    auto plain = unbase64(t);
    auto parts = plain ? split(*plain, ':') : std::vector<std::string>{};
    if (parts.size() != 4) return {"", "interactive_message.decode_trigger_id.base64_decode_failed"};
    std::string signed_part = parts[0] + ":" + parts[1] + ":" + parts[2];
    auto sig = unbase64(parts[3]);
    if (!sig || *sig != hmac(trigger_key, signed_part))
      return {"", "interactive_message.decode_trigger_id.verify_signature_failed"};
    auto at = parse_int(parts[2]);
    if (!at || unix_ms() - *at > opt.trigger_lifetime.count()) return {"", "interactive_message.decode_trigger_id.expired"};
    return {parts[1], ""};
  }

  answer open_dialog(const api_call& call) {
    const json::object* body = call.body.if_object();
    if (!body) return bad_body("dialog");
    std::string t = str(*body, "trigger_id");
    auto [user, why] = check_trigger(t);
    if (!why.empty()) {
      protocol_error(where(call) + ": trigger_id refused (" + why + ")");
      return error_answer(400, why, "Invalid trigger ID.");
    }
    const json::value* dv = body->if_contains("dialog");
    const json::object* d = dv ? dv->if_object() : nullptr;
    if (str(*body, "url").empty() || !d) {
      protocol_error(where(call) + ": no url or dialog");
      return bad_body(d ? "url" : "dialog");
    }
    if (str(*d, "title").empty()) {
      protocol_error(where(call) + ": a dialog without a title");
      return error_answer(400, "interactive_message.dialog.title.app_error", "Invalid dialog title.");
    }
    dialog out;
    out.user_id = user;
    out.url = str(*body, "url");
    out.callback_id = str(*d, "callback_id");
    out.state = str(*d, "state");
    out.title = str(*d, "title");
    out.submit_label = str(*d, "submit_label");
    out.trigger_id = t;
    out.elements = d->if_contains("elements") ? d->at("elements") : json::value(json::array{});
    std::lock_guard lk(mu);
    out.channel_id = trigger_channels.count(t) ? trigger_channels[t] : std::string{};
    open_dialogs.push_back(std::move(out));
    cv.notify_all();
    return json_answer(200, json::object{{"status", "OK"}});
  }

  // The server's own request to an integration URL (recorded for last_action_request()).
  action_result integrate(const std::string& url, const std::string& body);

  // Broadcasts `e` from any thread (the io thread delivers it).
  void deliver_from_any(const event_ptr& e) {
    if (!e) return;
    server.run_sync([&] { deliver(e); });
  }
};

// ---- public API ------------------------------------------------------------------

fake_mattermost::fake_mattermost() : fake_mattermost(options{}) {}
fake_mattermost::fake_mattermost(options o) : impl_(std::make_unique<impl>(std::move(o))) {}
fake_mattermost::~fake_mattermost() = default;

std::uint16_t fake_mattermost::port() const { return impl_->server.port(); }
std::string fake_mattermost::url() const { return "https://localhost:" + impl_->server.port_text(); }

void fake_mattermost::add_user(const std::string& id, const std::string& username, bool is_bot) {
  std::lock_guard lk(impl_->mu);
  impl_->users[id] = {id, username, is_bot};
}

void fake_mattermost::add_channel(const std::string& id, const std::string& name, bool bot_member) {
  impl& m = *impl_;
  std::lock_guard lk(m.mu);
  channel_rec c;
  c.id = id;
  c.name = name;
  c.display_name = name;
  c.team_id = m.opt.team_id;
  c.create_at = unix_ms();
  for (const auto& [uid, u] : m.users)
    if (uid != m.opt.bot_user_id || bot_member) c.members.insert(uid);
  m.channels[id] = std::move(c);
}

std::string fake_mattermost::post_as(const std::string& user_id, const std::string& channel_id,
                                     const std::string& message, const std::string& root_id) {
  impl& m = *impl_;
  event_ptr e;
  std::string id;
  {
    std::lock_guard lk(m.mu);
    if (!m.channels.count(channel_id)) throw std::invalid_argument("fake_mattermost::post_as: unknown channel");
    json::value props = json::object{};
    if (auto u = m.users.find(user_id); u != m.users.end() && u->second.is_bot) props.get_object()["from_bot"] = "true";
    const auto& p = m.store_post(user_id, channel_id, message, root_id, std::move(props));
    id = p.r.id;
    if (auto made = m.post_event("posted", p)) {
      auto timed = std::make_shared<event>(*made);
      timed->timed_post = id;
      e = std::move(timed);
    }
  }
  m.deliver_from_any(e);
  return id;
}

std::optional<fake_mattermost::bot_post> fake_mattermost::next_bot_post(std::chrono::milliseconds timeout) {
  std::unique_lock lk(impl_->mu);
  if (!impl_->cv.wait_for(lk, timeout, [&] { return !impl_->bot_queue.empty(); })) return std::nullopt;
  bot_post b = std::move(impl_->bot_queue.front());
  impl_->bot_queue.pop_front();
  return b;
}

std::optional<std::chrono::steady_clock::time_point> fake_mattermost::event_written_at(const std::string& post_id) const {
  std::lock_guard lk(impl_->mu);
  auto it = impl_->written_at.find(post_id);
  if (it == impl_->written_at.end()) return std::nullopt;
  return it->second;
}

std::string fake_mattermost::dm_channel_of(const std::string& user_id) {
  std::lock_guard lk(impl_->mu);
  return impl_->dm_locked(impl_->opt.bot_user_id, user_id).id;
}

std::vector<fake_mattermost::post_rec> fake_mattermost::posts(const std::string& channel_id) const {
  std::lock_guard lk(impl_->mu);
  std::vector<post_rec> out;
  for (const auto& p : impl_->all_posts)
    if (channel_id.empty() || p.r.channel_id == channel_id) out.push_back(p.r);
  return out;
}

std::vector<fake_mattermost::post_rec> fake_mattermost::bot_posts(const std::string& channel_id) const {
  std::lock_guard lk(impl_->mu);
  std::vector<post_rec> out;
  for (const auto& p : impl_->all_posts)
    if ((channel_id.empty() || p.r.channel_id == channel_id) && p.r.user_id == impl_->opt.bot_user_id) out.push_back(p.r);
  return out;
}

std::optional<fake_mattermost::post_rec> fake_mattermost::wait_bot_post(
    const std::function<bool(const post_rec&)>& pred, std::chrono::milliseconds timeout) const {
  std::unique_lock lk(impl_->mu);
  std::optional<post_rec> found;
  impl_->cv.wait_for(lk, timeout, [&] {
    for (const auto& p : impl_->all_posts)
      if (p.r.user_id == impl_->opt.bot_user_id && pred(p.r)) {
        found = p.r;
        return true;
      }
    return false;
  });
  return found;
}

std::optional<fake_mattermost::post_rec> fake_mattermost::wait_reply(const std::string& root_id,
                                                                     std::chrono::milliseconds timeout) const {
  return wait_bot_post([&](const post_rec& p) { return p.root_id == root_id; }, timeout);
}

std::optional<fake_mattermost::post_rec> fake_mattermost::wait_dm(const std::string& user_id,
                                                                  std::chrono::milliseconds timeout,
                                                                  std::size_t nth) const {
  impl& m = *impl_;
  std::string name = std::min(m.opt.bot_user_id, user_id) + "__" + std::max(m.opt.bot_user_id, user_id);
  std::unique_lock lk(m.mu);
  std::optional<post_rec> found;
  m.cv.wait_for(lk, timeout, [&] {
    std::string cid;
    for (const auto& [id, c] : m.channels)
      if (c.type == "D" && c.name == name) cid = id;
    std::size_t k = 0;
    for (const auto& p : m.all_posts)
      if (!cid.empty() && p.r.channel_id == cid && p.r.user_id == m.opt.bot_user_id && k++ == nth) {
        found = p.r;
        return true;
      }
    return false;
  });
  return found;
}

std::optional<fake_mattermost::post_rec> fake_mattermost::find_post(const std::string& id) const {
  std::lock_guard lk(impl_->mu);
  auto it = impl_->post_index.find(id);
  if (it == impl_->post_index.end()) return std::nullopt;
  return impl_->all_posts[it->second].r;
}

namespace {

// The bot's answer to an integration request, as the server reads it.
fake_mattermost::action_result integration_post(const std::string& url, const std::string& body) {
  fake_mattermost::action_result out;
  auto target = loopback_url(url);
  if (!target) {
    out.error = "the integration URL is not reachable (the fake posts to http://127.0.0.1 or localhost only)";
    return out;
  }
  auto r = http_post(target->first, target->second, "application/json", body);
  out.status = r.status;
  out.body = r.body;
  if (r.status == 0) {
    out.error = "no answer from the integration";
    return out;
  }
  if (r.status < 200 || r.status > 299) {
    out.error = "the integration answered status " + std::to_string(r.status);
    return out;
  }
  return out;
}

}  // namespace

fake_mattermost::action_result fake_mattermost::impl::integrate(const std::string& url, const std::string& body) {
  {
    std::lock_guard lk(mu);
    last_integration_body = body;
  }
  return integration_post(url, body);
}

std::string fake_mattermost::last_action_request() const {
  std::lock_guard lk(impl_->mu);
  return impl_->last_integration_body;
}

fake_mattermost::action_result fake_mattermost::click(const std::string& user_id, const std::string& post_id,
                                                      const std::string& action_id) {
  impl& m = *impl_;
  json::object payload;
  std::string url;
  {
    std::lock_guard lk(m.mu);
    auto it = m.post_index.find(post_id);
    std::optional<json::object> button;
    if (it != m.post_index.end() && alnum(action_id))
      for_each_action(m.all_posts[it->second].r.props, [&](json::object& a) {
        if (!button && str(a, "id") == action_id) button = a;
      });
    if (!button) {
      action_result r;
      r.error = "404: no such post or button";
      return r;
    }
    auto* integ = button->if_contains("integration");
    const json::object* io = integ ? integ->if_object() : nullptr;
    url = io ? str(*io, "url") : std::string{};
    const json::value* ctx = io ? io->if_contains("context") : nullptr;
    payload["context"] = ctx && ctx->is_object() ? *ctx : json::value(json::object{});
    const auto& p = m.all_posts[it->second].r;
    const auto& c = m.channels.at(p.channel_id);
    auto u = m.users.find(user_id);
    payload["user_id"] = user_id;
    payload["user_name"] = u == m.users.end() ? user_id : u->second.username;
    payload["channel_id"] = p.channel_id;
    payload["channel_name"] = c.name;
    payload["team_id"] = c.team_id;
    payload["team_domain"] = c.team_id.empty() ? std::string{} : m.opt.team_name;
    payload["post_id"] = post_id;
    payload["type"] = "button";
    payload["data_source"] = "";
  }
  {
    // make_trigger locks mu itself
    std::string cid(payload["channel_id"].get_string());
    payload["trigger_id"] = m.make_trigger(user_id, cid);
  }
  action_result r = m.integrate(url, json::serialize(payload));
  if (!r.error.empty() || r.body.empty()) return r;
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (!o) {
    r.error = "the integration's answer is not a JSON object";
    return r;
  }
  r.ephemeral_text = str(*o, "ephemeral_text");
  auto* upd = o->if_contains("update");
  if (!upd || !upd->is_object()) return r;
  // UpdatePost with the answer's post: message and props replaced (from_bot kept).
  const json::object& u = upd->get_object();
  json::value props = u.if_contains("props") && u.at("props").is_object() ? u.at("props") : json::value(json::object{});
  event_ptr e;
  {
    std::lock_guard lk(m.mu);
    auto& p = m.all_posts[m.post_index.at(post_id)];
    m.edit_locked(p, str(u, "message"), &props);
    e = m.post_event("post_edited", p);
  }
  r.updated = true;
  m.deliver_from_any(e);
  return r;
}

std::optional<fake_mattermost::dialog> fake_mattermost::wait_dialog(const std::string& user_id,
                                                                    std::chrono::milliseconds timeout) {
  std::unique_lock lk(impl_->mu);
  std::optional<dialog> found;
  impl_->cv.wait_for(lk, timeout, [&] {
    auto& q = impl_->open_dialogs;
    for (auto it = q.begin(); it != q.end(); ++it)
      if (it->user_id == user_id) {
        found = *it;
        q.erase(it);
        return true;
      }
    return false;
  });
  return found;
}

fake_mattermost::action_result fake_mattermost::submit_dialog(
    const dialog& d, const std::vector<std::pair<std::string, std::string>>& values, bool cancelled) {
  json::object submission;
  if (!cancelled)
    for (const auto& [k, v] : values) submission[k] = v;
  json::object body{{"type", "dialog_submission"}, {"callback_id", d.callback_id}, {"state", d.state},
                    {"user_id", d.user_id}, {"channel_id", d.channel_id},
                    {"team_id", impl_->opt.team_id}, {"submission", std::move(submission)}, {"cancelled", cancelled}};
  action_result r = impl_->integrate(d.url, json::serialize(body));
  if (!r.error.empty() || r.body.empty() || cancelled) return r;
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (!o) {
    r.error = "the integration's answer is not a JSON object";
    return r;
  }
  if (auto* errs = o->if_contains("errors"); errs && errs->is_object() && !errs->get_object().empty())
    r.error = "field errors: " + json::serialize(*errs);
  else if (std::string e = str(*o, "error"); !e.empty())
    r.error = e;
  if (!r.error.empty()) {  // the dialog stays open
    std::lock_guard lk(impl_->mu);
    impl_->open_dialogs.push_back(d);
    impl_->cv.notify_all();
  }
  return r;
}

fake_mattermost::action_result fake_mattermost::raw_post(const std::string& url, const std::string& body) {
  action_result r = integration_post(url, body);
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (!ec && v.is_object()) r.ephemeral_text = str(v.get_object(), "ephemeral_text");
  return r;
}

int fake_mattermost::connections() const {
  std::lock_guard lk(impl_->mu);
  return impl_->live;
}
int fake_mattermost::hellos() const {
  std::lock_guard lk(impl_->mu);
  return impl_->hello_count;
}
int fake_mattermost::resumes() const {
  std::lock_guard lk(impl_->mu);
  return impl_->resume_count;
}
bool fake_mattermost::wait_connected(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock lk(impl_->mu);
  return impl_->cv.wait_for(lk, timeout, [&] { return impl_->hello_count + impl_->resume_count >= n; });
}

void fake_mattermost::drop_links() { impl_->server.drop_all(); }
void fake_mattermost::close_links(std::uint16_t code) { impl_->server.close_all(code); }

void fake_mattermost::forget_connections() {
  impl& m = *impl_;
  m.server.drop_all();
  m.server.run_sync([&] { m.conns.clear(); });
}

void fake_mattermost::zombie(bool on) {
  impl& m = *impl_;
  {
    std::lock_guard lk(m.mu);
    m.zombie = on;
  }
  m.server.answer_pings(!on);
  if (!on)
    m.server.run_sync([&] {
      // The pong wait starts again: the zombie sent no pings to be answered.
      for (auto& l : m.server.links())
        if (l->state) link_of(l).last_pong = steady::now();
      for (auto& [id, c] : m.conns) m.flush(*c);
    });
}

void fake_mattermost::refuse_connections(bool on) {
  std::lock_guard lk(impl_->mu);
  impl_->refuse = on;
}

void fake_mattermost::send_raw(const std::string& frame) { impl_->server.send_all(frame); }

void fake_mattermost::rate_limit_next(const std::string& prefix, int seconds, int count) {
  std::lock_guard lk(impl_->mu);
  impl_->limits.push_back({normal_prefix(prefix), 429, seconds, count});
}

void fake_mattermost::fail_next(const std::string& prefix, unsigned status, int count) {
  std::lock_guard lk(impl_->mu);
  impl_->failures.push_back({normal_prefix(prefix), status, 0, count});
}

void fake_mattermost::set_token(const std::string& token) {
  std::lock_guard lk(impl_->mu);
  impl_->token = token;
}

std::vector<fake_mattermost::api_call> fake_mattermost::calls(const std::string& path_prefix) const {
  std::string p = normal_prefix(path_prefix);
  std::lock_guard lk(impl_->mu);
  std::vector<api_call> out;
  for (const auto& c : impl_->call_log)
    if (c.path.starts_with(p)) out.push_back(c);
  return out;
}

bool fake_mattermost::wait_calls(const std::string& path_prefix, std::size_t n, std::chrono::milliseconds timeout) const {
  std::string p = normal_prefix(path_prefix);
  std::unique_lock lk(impl_->mu);
  return impl_->cv.wait_for(lk, timeout, [&] {
    std::size_t k = 0;
    for (const auto& c : impl_->call_log)
      if (c.path.starts_with(p)) ++k;
    return k >= n;
  });
}

std::vector<std::string> fake_mattermost::protocol_errors() const {
  std::lock_guard lk(impl_->mu);
  return impl_->errors;
}

}  // namespace signoff::test
