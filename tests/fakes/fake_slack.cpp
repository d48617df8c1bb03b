// The loopback fake of Slack (see fake_slack.hpp for the contract).
//
// Threads: one io_context on one thread owns every socket, the links, the
// pending-envelope table and the ticket set ("io-only" below). Everything the
// test thread reads (calls, messages, views, acks, counters) sits behind `mu`
// with one condition variable. The hot path (slash_command -> envelope write
// -> ack) takes one lock on each side: the test thread appends to `outbox`
// (and posts a drain only when none is queued), the io thread appends the ack
// under `mu`. Trigger IDs and response URLs carry a keyed hash of what they
// stand for, so the fake keeps no per-envelope registry of them.
// The TLS, HTTP and websocket plumbing is tests/fakes/fake_server.
#include "fakes/fake_slack.hpp"

#include "fakes/fake_server.hpp"

#include "bot/core/text.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace signoff::test {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto tok = asio::as_tuple(asio::use_awaitable);
using request = fake_server::request;
using link_ptr = fake_server::link_ptr;

constexpr std::string_view app_id = "A0TEST";
constexpr std::string_view bot_user = "U0BOT";
constexpr std::string_view bot_id = "B0BOT";
constexpr std::string_view team_domain = "fake-team";
constexpr std::string_view verification_token = "fakeverificationtoken";
constexpr auto trigger_lifetime = 3s;          // Slack: a trigger_id expires after 3 s
constexpr int response_url_uses = 5;           // Slack: up to 5 posts per response_url
constexpr std::size_t acked_kept = 4096;       // acked envelopes kept for redeliver()
constexpr std::size_t max_message = 1 << 20;   // largest client frame accepted

// JSON string literal, escaping "/" as Slack's servers do ("https:\/\/..."),
// which also checks that clients use a real JSON parser.
void append_json(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '/': out += "\\/"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// What Slack does to what people type before it sends it to an app: '&', '<'
// and '>' in slash-command text and in input values arrive as "&amp;",
// "&lt;" and "&gt;" (api.slack.com/reference/surfaces/formatting#escaping).
// Written out here rather than borrowed from signoff's codec: the fake
// stands for Slack, not for the code under test.
std::string slack_escaped(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

// FNV-1a over a few fields: the keyed "MAC" of trigger IDs and response URLs
// (a fake needs unforgeable-by-accident, not cryptographic).
std::uint64_t mix(std::uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= 0xff;  // field separator
  h *= 1099511628211ull;
  return h;
}

std::string hex16(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> hex_decode(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::optional<std::uint64_t> to_u64(std::string_view s, int base = 10) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    int d = hex_digit(c);
    if (d < 0 || d >= base) return std::nullopt;
    v = v * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
  }
  return v;
}

// application/x-www-form-urlencoded (and query strings): every value a string.
void parse_form(std::string_view body, json::object& into) {
  while (!body.empty()) {
    auto amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string key = pct_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? std::string{} : pct_decode(pair.substr(eq + 1));
    into[key] = value;
  }
}

std::string arg_str(const json::object& a, std::string_view k) {
  auto* v = a.if_contains(k);
  if (!v) return {};
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_null()) return {};
  return json::serialize(*v);
}

// A JSON argument that form bodies carry as JSON-encoded text (blocks, view).
// Nullopt when absent; `bad` when present but not parseable.
std::optional<json::value> arg_json(const json::object& a, std::string_view k, bool& bad) {
  auto* v = a.if_contains(k);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) return *v;
  boost::system::error_code ec;
  auto parsed = json::parse(v->get_string(), ec);
  if (ec) {
    bad = true;
    return std::nullopt;
  }
  return parsed;
}

std::int64_t unix_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::int64_t unix_ms() { return unix_us() / 1000; }

std::string ts_text(std::int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(us / 1'000'000),
                static_cast<long long>(us % 1'000'000));
  return buf;
}

json::object user_object(std::string_view user_id, std::string_view team_id) {
  return {{"id", user_id}, {"username", "name-" + std::string(user_id)},
          {"name", "name-" + std::string(user_id)}, {"team_id", team_id}};
}

// The block_id and button text of the element `action_id` in `blocks`.
std::pair<std::string, std::string> find_action(const json::value& blocks, std::string_view action_id) {
  if (blocks.is_array()) {
    for (const auto& b : blocks.get_array()) {
      if (!b.is_object()) continue;
      const auto& bo = b.get_object();
      std::string block_id = arg_str(bo, "block_id");
      auto matches = [&](const json::value& e) -> std::optional<std::string> {
        if (!e.is_object() || arg_str(e.get_object(), "action_id") != action_id) return std::nullopt;
        std::string text;
        if (auto* t = e.get_object().if_contains("text"); t && t->is_object())
          text = arg_str(t->get_object(), "text");
        return text;
      };
      if (auto* els = bo.if_contains("elements"); els && els->is_array())
        for (const auto& e : els->get_array())
          if (auto t = matches(e)) return {block_id, *t};
      if (auto* acc = bo.if_contains("accessory"))
        if (auto t = matches(*acc)) return {block_id, *t};
    }
  }
  return {"actions", std::string(action_id)};
}

// The action_id of the input in block `block_id` of a view's blocks.
std::string input_action_id(const json::object& view_spec, std::string_view block_id) {
  if (auto* blocks = view_spec.if_contains("blocks"); blocks && blocks->is_array())
    for (const auto& b : blocks->get_array()) {
      if (!b.is_object() || arg_str(b.get_object(), "block_id") != block_id) continue;
      if (auto* el = b.get_object().if_contains("element"); el && el->is_object())
        return arg_str(el->get_object(), "action_id");
    }
  return std::string(block_id);
}

struct envelope_rec final : fake_server::outgoing {
  std::uint64_t seq = 0;
  std::string id;
  std::string frame;           // the first delivery, ready to write
  bool accepts_payload = false;
  // io-only from here on
  steady::time_point sent_at{};
  bool written_ = false, acked = false;
  std::string_view text() const override { return frame; }
  void written(steady::time_point at) override {
    written_ = true;
    sent_at = at;
  }
};
using envelope_ptr = std::shared_ptr<envelope_rec>;

// An envelope on its way to a link: `text` is a redelivery's frame, else env->frame.
struct delivery {
  envelope_ptr env;
  std::string text;
};

// What fake_slack keeps per link (fake_server::link::state).
struct slack_link {
  bool draining = false;       // told warning / refresh_requested: prefer other links
};
bool draining(const fake_server::link& l) { return static_cast<const slack_link*>(l.state.get())->draining; }

struct api_answer {
  unsigned status = 200;
  json::object body;
  std::string error;
  int retry_after = 0;
};

api_answer fail(std::string error) {
  api_answer a;
  a.body = {{"ok", false}, {"error", error}};
  a.error = std::move(error);
  return a;
}

}  // namespace

struct fake_slack::impl final : fake_server::handler {
  options opt;
  std::uint64_t key;                          // keys the hashes in IDs
  std::string port_text;
  std::atomic<std::uint64_t> seq{0};

  // ---- io-only ----
  std::size_t rr = 0;
  std::deque<delivery> waiting;               // envelopes while no link is live
  std::unordered_map<std::uint64_t, envelope_ptr> pending;  // by sequence number
  std::deque<std::uint64_t> acked_order;
  std::unordered_set<std::string> tickets;
  std::unordered_set<std::string> used_triggers;
  std::unordered_map<std::string, int> response_uses;
  std::vector<envelope_ptr> drained;          // the drain's swap buffer

  // ---- test thread -> io thread ----
  std::mutex out_mu;
  std::vector<envelope_ptr> outbox;
  bool drain_posted = false;

  // ---- shared, under mu ----
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  int live_links = 0, opened_links = 0;
  std::vector<ack> acks;
  std::size_t next_ack = 0;
  std::vector<std::string> protocol_errors;
  std::vector<api_call> calls;
  std::vector<message> messages;
  std::vector<view> views;
  std::map<std::string, std::deque<std::string>> fail_next;
  std::map<std::string, std::pair<int, int>> rate_limits;  // method -> {seconds, count}
  std::string refuse;
  std::chrono::milliseconds open_delay{0};
  std::int64_t last_ts_us = 0;
  std::uint64_t view_seq = 0;

  // Last: destroyed first, so no callback outlives the members above.
  fake_server server;

  static fake_server::options server_options(const options& o) {
    fake_server::options so;
    so.cert_pem = o.cert_pem;
    so.key_pem = o.key_pem;
    so.name = "fake_slack";
    so.max_message = max_message;
    return so;
  }

  explicit impl(options o)
      : opt(std::move(o)),
        key(std::random_device{}() * 0x9e3779b97f4a7c15ull ^ std::random_device{}()),
        server(server_options(opt), *this) {
    port_text = server.port_text();
    open_delay = opt.connections_open_delay;
    server.start();
  }

  void on_error(std::string what) override { protocol_error(std::move(what)); }

  template <class F>
  void run_sync(F&& f) {
    server.run_sync(std::function<void()>(std::forward<F>(f)));
  }

  void protocol_error(std::string what) {
    std::lock_guard lk(mu);
    protocol_errors.push_back(std::move(what));
    cv.notify_all();
  }

  // ---- IDs ---------------------------------------------------------------
  // UUID-shaped: this instance's 24-character prefix, then the sequence number
  // in 12 hex digits (so an ack's envelope_id maps back without a lookup).
  std::string id_prefix = [this] {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-8%03llx-", static_cast<unsigned long long>(key >> 32),
                  static_cast<unsigned long long>((key >> 16) & 0xffff),
                  static_cast<unsigned long long>((key >> 4) & 0xfff), static_cast<unsigned long long>(key & 0xfff));
    return std::string(buf);
  }();
  std::string envelope_id(std::uint64_t n) const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string id = id_prefix;
    for (int i = 11; i >= 0; --i) id += digits[(n >> (4 * i)) & 15];
    return id;
  }
  std::optional<std::uint64_t> seq_of(std::string_view envelope) const {
    if (envelope.size() != id_prefix.size() + 12 || !envelope.starts_with(id_prefix)) return std::nullopt;
    std::string_view hex = envelope.substr(id_prefix.size());
    if (hex.find_first_not_of("0123456789abcdef") != std::string_view::npos) return std::nullopt;
    return to_u64(hex, 16);
  }
  std::string response_path(std::uint64_t n) const {
    std::string s = std::to_string(n);
    return "/response/" + opt.team_id + "/" + s + "/" + hex16(mix(mix(key, "response"), s));
  }
  std::string response_url(std::uint64_t n) const {
    return "https://localhost:" + port_text + response_path(n);
  }
  std::string trigger_id(std::uint64_t n, std::string_view user) const {
    std::string s = std::to_string(n), ms = std::to_string(unix_ms());
    return s + "." + ms + "." + to_hex(user) + hex16(mix(mix(mix(key, s), ms), user));
  }
  struct trigger_info {
    std::string user;
    std::int64_t issued_ms = 0;
  };
  std::optional<trigger_info> parse_trigger(std::string_view t) const {
    auto d1 = t.find('.');
    if (d1 == std::string_view::npos) return std::nullopt;
    auto d2 = t.find('.', d1 + 1);
    if (d2 == std::string_view::npos) return std::nullopt;
    std::string_view s = t.substr(0, d1), ms = t.substr(d1 + 1, d2 - d1 - 1), rest = t.substr(d2 + 1);
    if (rest.size() < 16) return std::nullopt;
    auto user = hex_decode(rest.substr(0, rest.size() - 16));
    auto issued = to_u64(ms);
    if (!user || !issued || !to_u64(s)) return std::nullopt;
    if (hex16(mix(mix(mix(key, s), ms), *user)) != rest.substr(rest.size() - 16)) return std::nullopt;
    return trigger_info{*user, static_cast<std::int64_t>(*issued)};
  }

  // ---- envelopes (test thread) ---------------------------------------------
  envelope_ptr new_envelope(std::string_view type, bool accepts, std::uint64_t n) const {
    auto e = std::make_shared<envelope_rec>();
    e->seq = n;
    e->id = envelope_id(n);
    e->accepts_payload = accepts;
    e->frame.reserve(1024);
    e->frame += R"({"envelope_id":")";
    e->frame += e->id;
    e->frame += R"(","type":")";
    e->frame += type;
    e->frame += R"(","accepts_response_payload":)";
    e->frame += accepts ? "true" : "false";
    e->frame += R"(,"payload":)";
    return e;
  }

  // Completes an envelope begun by new_envelope() with `payload`; returns its ID.
  std::string submit(envelope_ptr e, const json::object& payload) {
    e->frame += json::serialize(payload);
    e->frame += '}';
    std::string id = e->id;
    submit(std::move(e));
    return id;
  }

  void submit(envelope_ptr e) {
    bool post = false;
    {
      std::lock_guard lk(out_mu);
      outbox.push_back(std::move(e));
      if (!drain_posted) post = drain_posted = true;
    }
    if (post) asio::post(server.io(), [this] { drain(); });
  }

  // ---- io thread: dispatch and links --------------------------------------
  void drain() {
    {
      std::lock_guard lk(out_mu);
      drained.swap(outbox);
      drain_posted = false;
    }
    for (auto& e : drained) {
      pending.emplace(e->seq, e);
      dispatch(delivery{std::move(e), {}});
    }
    drained.clear();
  }

  const link_ptr* pick_link() {
    // Round robin over usable links, preferring those not told to go away.
    const auto& links = server.links();
    for (int pass = 0; pass < 2; ++pass)
      for (std::size_t i = 0; i < links.size(); ++i) {
        auto& l = links[(rr + i) % links.size()];
        if (l->usable() && (pass == 1 || !draining(*l))) {
          rr = (rr + i + 1) % links.size();
          return &l;
        }
      }
    return nullptr;
  }

  void send(const link_ptr& l, delivery d) { server.send(l, std::move(d.env), std::move(d.text)); }

  void dispatch(delivery d) {
    if (const link_ptr* l = pick_link())
      send(*l, std::move(d));
    else
      waiting.push_back(std::move(d));  // like Slack, hold it until a link is up
  }

  void publish_counts() {
    int n = 0;
    for (auto& l : server.links()) n += l->usable() ? 1 : 0;
    std::lock_guard lk(mu);
    live_links = n;
    cv.notify_all();
  }
  void on_link_change(const link_ptr&) override { publish_counts(); }

  std::string hello_frame(int num_connections) const {
    return R"({"type":"hello","num_connections":)" + std::to_string(num_connections) +
           R"(,"debug_info":{"host":"applink-fake","build_number":1,"approximate_connection_time":18060},)"
           R"("connection_info":{"app_id":")" + std::string(app_id) + R"("}})";
  }
  static std::string disconnect_frame(std::string_view reason) {
    std::string f = R"({"type":"disconnect","reason":)";
    append_json(f, reason);
    f += R"(,"debug_info":{"host":"applink-fake"}})";
    return f;
  }

  asio::awaitable<void> close_later(link_ptr l, std::chrono::milliseconds after) {
    asio::steady_timer t(server.io(), after);
    co_await t.async_wait(tok);
    server.close(l, 1000);
  }

  // Slack refuses a used or unknown ticket at the HTTP upgrade.
  std::optional<fake_server::answer> on_upgrade(const request& req) override {
    json::object query;
    parse_form(req.query, query);
    if (req.path.starts_with("/link") && tickets.erase(arg_str(query, "ticket")) == 1) return std::nullopt;
    return json_answer(401, {{"ok", false}, {"error", "invalid_ticket"}}, true);
  }

  void on_open(const link_ptr& l, const request&) override {
    l->state = std::make_shared<slack_link>();
    std::size_t open_count = 0;
    for (auto& other : server.links()) open_count += (other != l && other->usable()) ? 1 : 0;
    {
      std::lock_guard lk(mu);
      ++opened_links;
    }
    if (open_count >= opt.max_connections) {
      server.send_text(l, disconnect_frame("too_many_websockets"));
      server.close(l, 1000);
      return;
    }
    // Live from the moment hello is queued: the queue keeps hello ahead of
    // anything sent later, and the client may read it before our write
    // completes.
    server.send_text(l, hello_frame(static_cast<int>(open_count) + 1));
    while (!waiting.empty()) {
      send(l, std::move(waiting.front()));
      waiting.pop_front();
    }
    publish_counts();
  }

  void on_text(const link_ptr&, std::string_view text, steady::time_point read_at) override {
    on_client_frame(text, read_at);
  }

  void on_client_frame(std::string_view text, steady::time_point read_at) {
    // Parsed in a stack arena: only an ack's payload is kept (copied out).
    unsigned char scratch[4096];
    json::monotonic_resource arena(scratch, sizeof scratch);
    boost::system::error_code ec;
    json::value v = json::parse(text, ec, &arena);
    json::object* o = ec ? nullptr : v.if_object();
    const json::value* idv = o ? o->if_contains("envelope_id") : nullptr;
    if (!idv || !idv->is_string()) {
      protocol_error("unexpected frame from the client (not an ack): " + cut80(text));
      return;
    }
    std::string_view id = idv->get_string();
    auto n = seq_of(id);
    auto it = n ? pending.find(*n) : pending.end();
    if (it == pending.end()) {
      protocol_error("ack for an unknown envelope_id " + cut80(id));
      return;
    }
    envelope_rec& e = *it->second;
    if (!e.written_ || e.acked) {
      protocol_error((e.acked ? "second ack for envelope " : "ack before the envelope was sent: ") + std::string(id));
      return;
    }
    ack a;
    a.latency = read_at - e.sent_at;
    a.late = a.latency > opt.ack_deadline;
    a.envelope_id = e.id;
    e.acked = true;
    std::string error;
    if (auto* p = o->if_contains("payload")) {
      if (!e.accepts_payload && !(p->is_object() && p->get_object().empty()))
        error = "ack payload for envelope " + a.envelope_id + ", which has accepts_response_payload: false";
      a.payload = json::value(*p, json::storage_ptr{});  // out of the arena
    }
    acked_order.push_back(e.seq);
    while (acked_order.size() > acked_kept) {
      auto old = pending.find(acked_order.front());
      if (old != pending.end() && old->second->acked) pending.erase(old);
      acked_order.pop_front();
    }
    std::lock_guard lk(mu);
    acks.push_back(std::move(a));
    if (!error.empty()) protocol_errors.push_back(std::move(error));
    cv.notify_all();
  }

  // ---- HTTP ------------------------------------------------------------------
  static fake_server::answer json_answer(unsigned status, const json::object& body, bool close = false) {
    fake_server::answer a;
    a.status = status;
    a.body = json::serialize(body);
    a.close = close;
    return a;
  }

  asio::awaitable<fake_server::answer> on_http(request req) override {
    if (req.path.starts_with("/api/")) {
      std::string method = req.path.substr(5);
      co_return co_await handle_api(req, method);
    }
    if (req.path.starts_with("/response/")) co_return handle_response_url(req);
    co_return json_answer(404, {{"ok", false}, {"error", "not_found"}});
  }

  fake_server::answer handle_response_url(const request& req) {
    std::string_view path = req.path;
    api_call call;
    call.method = "response_url";
    call.at = steady::now();
    call.target = "https://localhost:" + port_text + std::string(path);
    unsigned status = 200;
    json::object body{{"ok", true}};
    // /response/<team>/<seq>/<mac>
    std::string_view rest = path.substr(std::string_view("/response/").size());
    auto s1 = rest.find('/');
    auto s2 = s1 == std::string_view::npos ? s1 : rest.find('/', s1 + 1);
    std::optional<std::uint64_t> n;
    if (s2 != std::string_view::npos) n = to_u64(rest.substr(s1 + 1, s2 - s1 - 1));
    boost::system::error_code ec;
    json::value v = json::parse(req.body, ec);
    if (!ec && v.is_object()) call.args = v.get_object();
    if (req.method != "POST" || !n || response_path(*n) != path) {
      status = 404;
      call.error = "invalid_url";
    } else if (ec || !v.is_object()) {
      status = 400;
      call.error = "invalid_payload";
    } else if (++response_uses[std::string(path)] > response_url_uses) {
      status = 404;
      call.error = "used_url";
    }
    if (!call.error.empty()) body = {{"ok", false}, {"error", call.error}};
    call.status = status;
    record(std::move(call));
    return json_answer(status, body);
  }

  void record(api_call call) {
    std::lock_guard lk(mu);
    calls.push_back(std::move(call));
    cv.notify_all();
  }

  asio::awaitable<fake_server::answer> handle_api(const request& req, std::string method) {
    api_call call;
    call.method = std::string(method);
    call.at = steady::now();
    call.target = "https://localhost:" + port_text + req.target;
    json::object args;
    std::string body_error;
    bool json_body = false;
    parse_form(req.query, args);
    std::string_view ctype = req.header("Content-Type");
    if (!req.body.empty()) {
      if (starts_with_ci(ctype, "application/json")) {
        json_body = true;
        boost::system::error_code ec;
        json::value v = json::parse(req.body, ec);
        if (ec || !v.is_object())
          body_error = "invalid_json";
        else
          for (auto& kv : v.get_object()) args[kv.key()] = kv.value();
      } else if (starts_with_ci(ctype, "application/x-www-form-urlencoded")) {
        parse_form(req.body, args);
      } else {
        body_error = ctype.empty() ? "missing_post_type" : "invalid_post_type";
      }
    }
    std::string token;
    std::string_view auth = req.header("Authorization");
    if (starts_with_ci(auth, "Bearer ")) token = std::string(auth.substr(7));
    if (auto* t = args.if_contains("token")) {
      // Slack takes a token argument from forms and query strings, never from a JSON body.
      if (token.empty() && !json_body && t->is_string()) token = std::string(t->get_string());
      args.erase("token");
    }
    call.token = token;
    call.args = args;

    if (method == "apps.connections.open") {
      std::chrono::milliseconds delay;
      {
        std::lock_guard lk(mu);
        delay = open_delay;
      }
      if (delay.count() > 0) {
        asio::steady_timer t(server.io(), delay);
        co_await t.async_wait(tok);
      }
    }
    api_answer a = body_error.empty() ? answer(method, args, token) : fail(body_error);
    call.status = a.status;
    call.error = a.error;
    record(std::move(call));
    fake_server::answer res = json_answer(a.status, a.body);
    if (a.retry_after > 0) res.headers.emplace_back("Retry-After", std::to_string(a.retry_after));
    co_return res;
  }

  // The app's direct message channel with a user: stable per user.
  static std::string dm_channel(const std::string& user_id) { return "D" + user_id.substr(1); }

  std::string next_ts() {
    std::lock_guard lk(mu);
    last_ts_us = std::max(unix_us(), last_ts_us + 1);
    return ts_text(last_ts_us);
  }

  json::object message_json(const message& m) const {
    json::object o{{"type", "message"}, {"user", bot_user}, {"bot_id", bot_id}, {"app_id", app_id},
                   {"team", opt.team_id}, {"text", m.text}, {"ts", m.ts}};
    if (!m.blocks.is_null()) o["blocks"] = m.blocks;
    return o;
  }

  api_answer answer(std::string_view method, const json::object& args, const std::string& token) {
    static const std::unordered_set<std::string_view> known = {
        "apps.connections.open", "auth.test", "chat.postMessage", "chat.update", "chat.postEphemeral", "views.open"};
    if (!known.contains(method)) return fail("unknown_method");
    if (token.empty()) return fail("not_authed");
    if (method == "apps.connections.open") {
      if (!token.starts_with("xapp-")) return fail("not_allowed_token_type");
      if (token != opt.app_token) return fail("invalid_auth");
    } else {
      if (token.starts_with("xapp-")) return fail("not_allowed_token_type");
      if (token != opt.bot_token) return fail("invalid_auth");
    }
    {
      std::lock_guard lk(mu);
      std::string m(method);
      if (auto it = rate_limits.find(m); it != rate_limits.end() && it->second.second > 0) {
        api_answer a = fail("ratelimited");
        a.status = 429;
        a.retry_after = it->second.first;
        if (--it->second.second == 0) rate_limits.erase(it);
        return a;
      }
      if (auto it = fail_next.find(m); it != fail_next.end() && !it->second.empty()) {
        api_answer a = fail(it->second.front());
        it->second.pop_front();
        if (it->second.empty()) fail_next.erase(it);
        return a;
      }
    }
    if (method == "apps.connections.open") return connections_open();
    if (method == "auth.test") {
      api_answer a;
      a.body = {{"ok", true}, {"url", "https://" + std::string(team_domain) + ".slack.com/"},
                {"team", "Fake Team"}, {"user", "signoff"}, {"team_id", opt.team_id},
                {"user_id", bot_user}, {"bot_id", bot_id}, {"is_enterprise_install", false}};
      return a;
    }
    if (method == "chat.postMessage") return post_message(args);
    if (method == "chat.update") return update_message(args);
    if (method == "chat.postEphemeral") return post_ephemeral(args);
    return open_view(args);
  }

  api_answer connections_open() {
    {
      std::lock_guard lk(mu);
      if (!refuse.empty()) return fail(refuse);
    }
    std::uint64_t n = ++seq;
    std::uint64_t r = mix(key, std::to_string(n));
    char ticket[40];
    std::snprintf(ticket, sizeof ticket, "%08llx-%04llx-%04llx-%04llx-%012llx",
                  static_cast<unsigned long long>(r >> 32), static_cast<unsigned long long>((r >> 16) & 0xffff),
                  static_cast<unsigned long long>(r & 0xffff), static_cast<unsigned long long>((r >> 48) & 0xffff),
                  static_cast<unsigned long long>(n & 0xffffffffffffull));
    tickets.insert(ticket);
    api_answer a;
    a.body = {{"ok", true},
              {"url", "wss://localhost:" + port_text + "/link/?ticket=" + ticket + "&app_id=" + std::string(app_id)}};
    return a;
  }

  // text / blocks of a post: {text, blocks, error}
  struct content {
    std::string text;
    json::value blocks;
    std::string error;
  };
  static content read_content(const json::object& args, bool required) {
    content c;
    bool bad = false;
    c.text = arg_str(args, "text");
    if (auto b = arg_json(args, "blocks", bad)) c.blocks = std::move(*b);
    if (bad || (!c.blocks.is_null() && !c.blocks.is_array())) c.error = "invalid_blocks";
    else if (required && c.text.empty() && (!c.blocks.is_array() || c.blocks.get_array().empty())) c.error = "no_text";
    return c;
  }

  api_answer post_message(const json::object& args) {
    message m;
    m.channel = arg_str(args, "channel");
    if (m.channel.empty()) return fail("channel_not_found");
    // A user ID (U…, W… on Enterprise Grid) as channel posts to the app's
    // direct message with that user, and the answer names the DM channel
    // (D…), as Slack does (api.slack.com/methods/chat.postMessage#app_home).
    if (m.channel[0] == 'U' || m.channel[0] == 'W') m.channel = dm_channel(m.channel);
    content c = read_content(args, true);
    if (!c.error.empty()) return fail(c.error);
    m.text = std::move(c.text);
    m.blocks = std::move(c.blocks);
    m.ts = next_ts();
    api_answer a;
    a.body = {{"ok", true}, {"channel", m.channel}, {"ts", m.ts}, {"message", message_json(m)}};
    std::lock_guard lk(mu);
    messages.push_back(std::move(m));
    cv.notify_all();
    return a;
  }

  api_answer update_message(const json::object& args) {
    std::string channel = arg_str(args, "channel"), ts = arg_str(args, "ts");
    if (channel.empty()) return fail("channel_not_found");
    content c = read_content(args, true);
    if (!c.error.empty()) return fail(c.error);
    std::lock_guard lk(mu);
    auto it = std::find_if(messages.begin(), messages.end(),
                           [&](const message& m) { return m.channel == channel && m.ts == ts; });
    if (it == messages.end()) return fail("message_not_found");
    it->text = std::move(c.text);
    if (!c.blocks.is_null()) it->blocks = std::move(c.blocks);
    ++it->updates;
    api_answer a;
    a.body = {{"ok", true}, {"channel", channel}, {"ts", ts}, {"text", it->text}, {"message", message_json(*it)}};
    cv.notify_all();
    return a;
  }

  api_answer post_ephemeral(const json::object& args) {
    if (arg_str(args, "channel").empty()) return fail("channel_not_found");
    if (arg_str(args, "user").empty()) return fail("user_not_in_channel");
    content c = read_content(args, true);
    if (!c.error.empty()) return fail(c.error);
    api_answer a;
    a.body = {{"ok", true}, {"message_ts", next_ts()}};
    return a;
  }

  api_answer open_view(const json::object& args) {
    std::string trigger = arg_str(args, "trigger_id");
    auto t = parse_trigger(trigger);
    if (!t) return fail("invalid_trigger_id");
    if (used_triggers.contains(trigger)) return fail("exchanged_trigger_id");
    if (unix_ms() - t->issued_ms > std::chrono::milliseconds(trigger_lifetime).count())
      return fail("expired_trigger_id");
    bool bad = false;
    auto spec = arg_json(args, "view", bad);
    if (bad || !spec || !spec->is_object()) return fail("invalid_arguments");
    used_triggers.insert(trigger);
    view v;
    v.trigger_id = trigger;
    v.user_id = t->user;
    v.spec = spec->get_object();
    v.callback_id = arg_str(v.spec, "callback_id");
    v.private_metadata = arg_str(v.spec, "private_metadata");
    json::object shown = v.spec;
    {
      std::lock_guard lk(mu);
      char id[16];
      std::snprintf(id, sizeof id, "V%09llu", static_cast<unsigned long long>(++view_seq));
      v.view_id = id;
    }
    shown["id"] = v.view_id;
    shown["team_id"] = opt.team_id;
    shown["state"] = json::object{{"values", json::object{}}};
    shown["hash"] = ts_text(unix_us());
    shown["root_view_id"] = v.view_id;
    shown["app_id"] = app_id;
    shown["bot_id"] = bot_id;
    api_answer a;
    a.body = {{"ok", true}, {"view", std::move(shown)}};
    std::lock_guard lk(mu);
    views.push_back(std::move(v));
    cv.notify_all();
    return a;
  }
};

// ---- public API ---------------------------------------------------------------

fake_slack::fake_slack() : fake_slack(options{}) {}
fake_slack::fake_slack(options o) : impl_(std::make_unique<impl>(std::move(o))) {}
fake_slack::~fake_slack() = default;

std::uint16_t fake_slack::port() const { return impl_->server.port(); }
std::string fake_slack::api_base() const { return "https://localhost:" + impl_->port_text + "/api/"; }

int fake_slack::connections() const {
  std::lock_guard lk(impl_->mu);
  return impl_->live_links;
}
int fake_slack::connections_opened() const {
  std::lock_guard lk(impl_->mu);
  return impl_->opened_links;
}
bool fake_slack::wait_connections(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock lk(impl_->mu);
  return impl_->cv.wait_for(lk, timeout, [&] { return impl_->live_links == n; });
}

std::string fake_slack::slash_command(const std::string& user_id, const std::string& channel_id,
                                      const std::string& command, const std::string& text) {
  impl& m = *impl_;
  std::uint64_t n = ++m.seq;
  envelope_ptr e = m.new_envelope("slash_commands", true, n);
  std::string& f = e->frame;
  f += R"({"token":")";
  f += verification_token;
  f += R"(","team_id":)";
  append_json(f, m.opt.team_id);
  f += R"(,"team_domain":")";
  f += team_domain;
  f += R"(","channel_id":)";
  append_json(f, channel_id);
  f += R"(,"channel_name":)";
  append_json(f, "name-" + channel_id);
  f += R"(,"user_id":)";
  append_json(f, user_id);
  f += R"(,"user_name":)";
  append_json(f, "name-" + user_id);
  f += R"(,"command":)";
  append_json(f, command);
  f += R"(,"text":)";
  append_json(f, slack_escaped(text));
  f += R"(,"api_app_id":")";
  f += app_id;
  f += R"(","is_enterprise_install":"false","response_url":)";
  append_json(f, m.response_url(n));
  f += R"(,"trigger_id":)";
  append_json(f, m.trigger_id(n, user_id));
  f += "}}";
  std::string id = e->id;
  m.submit(std::move(e));
  return id;
}

std::string fake_slack::block_action(const std::string& user_id, const std::string& channel_id,
                                     const std::string& action_id, const std::string& value,
                                     const std::string& message_ts) {
  impl& m = *impl_;
  json::object msg{{"type", "message"}, {"ts", message_ts}};
  json::value blocks;
  {
    std::lock_guard lk(m.mu);
    for (const auto& mm : m.messages)
      if (mm.channel == channel_id && mm.ts == message_ts) {
        msg = m.message_json(mm);
        blocks = mm.blocks;
      }
  }
  auto [block_id, button_text] = find_action(blocks, action_id);
  std::uint64_t n = ++m.seq;
  json::object payload{
      {"type", "block_actions"},
      {"user", user_object(user_id, m.opt.team_id)},
      {"api_app_id", app_id},
      {"token", verification_token},
      {"container",
       {{"type", "message"}, {"message_ts", message_ts}, {"channel_id", channel_id}, {"is_ephemeral", false}}},
      {"trigger_id", m.trigger_id(n, user_id)},
      {"team", {{"id", m.opt.team_id}, {"domain", team_domain}}},
      {"enterprise", nullptr},
      {"is_enterprise_install", false},
      {"channel", {{"id", channel_id}, {"name", "name-" + channel_id}}},
      {"message", std::move(msg)},
      {"state", {{"values", json::object{}}}},
      {"response_url", m.response_url(n)},
      {"actions", json::array{json::object{{"action_id", action_id},
                                           {"block_id", block_id},
                                           {"text", {{"type", "plain_text"}, {"text", button_text}, {"emoji", true}}},
                                           {"value", value},
                                           {"type", "button"},
                                           {"action_ts", ts_text(unix_us())}}}}};
  return m.submit(m.new_envelope("interactive", false, n), payload);
}

std::string fake_slack::view_submission(const std::string& user_id, const std::string& view_id,
                                        const std::vector<std::pair<std::string, std::string>>& values) {
  impl& m = *impl_;
  std::optional<view> v;
  {
    std::lock_guard lk(m.mu);
    for (const auto& vv : m.views)
      if (vv.view_id == view_id) v = vv;
  }
  if (!v) throw std::invalid_argument("fake_slack::view_submission: no view " + view_id + " was opened");
  json::object state;
  for (const auto& [block_id, value] : values)
    state[block_id] = json::object{{input_action_id(v->spec, block_id),
                                    json::object{{"type", "plain_text_input"}, {"value", slack_escaped(value)}}}};
  json::object shown = v->spec;
  shown["id"] = v->view_id;
  shown["team_id"] = m.opt.team_id;
  shown["type"] = "modal";
  shown["callback_id"] = v->callback_id;
  shown["private_metadata"] = v->private_metadata;
  shown["state"] = json::object{{"values", std::move(state)}};
  shown["hash"] = ts_text(unix_us());
  shown["root_view_id"] = v->view_id;
  shown["previous_view_id"] = nullptr;
  shown["app_id"] = app_id;
  shown["bot_id"] = bot_id;
  std::uint64_t n = ++m.seq;
  json::object payload{{"type", "view_submission"},
                       {"team", {{"id", m.opt.team_id}, {"domain", team_domain}}},
                       {"user", user_object(user_id, m.opt.team_id)},
                       {"api_app_id", app_id},
                       {"token", verification_token},
                       {"trigger_id", m.trigger_id(n, user_id)},
                       {"view", std::move(shown)},
                       {"response_urls", json::array{}},
                       {"is_enterprise_install", false},
                       {"enterprise", nullptr}};
  return m.submit(m.new_envelope("interactive", true, n), payload);
}

void fake_slack::redeliver(const std::string& envelope_id, int retry_attempt, const std::string& reason) {
  impl& m = *impl_;
  m.run_sync([&] {
    auto n = m.seq_of(envelope_id);
    auto it = n ? m.pending.find(*n) : m.pending.end();
    if (it == m.pending.end())
      throw std::invalid_argument("fake_slack::redeliver: unknown (or long acked) envelope " + envelope_id);
    envelope_ptr e = it->second;
    delivery d;
    d.text = e->frame.substr(0, e->frame.size() - 1);
    d.text += R"(,"retry_attempt":)" + std::to_string(retry_attempt) + R"(,"retry_reason":)";
    append_json(d.text, reason);
    d.text += '}';
    e->acked = false;  // a new delivery expects a new ack
    d.env = std::move(e);
    m.dispatch(std::move(d));
  });
}

std::optional<fake_slack::ack> fake_slack::wait_ack(const std::string& envelope_id,
                                                    std::chrono::milliseconds timeout) const {
  std::unique_lock lk(impl_->mu);
  std::optional<ack> found;
  impl_->cv.wait_for(lk, timeout, [&] {
    for (auto it = impl_->acks.rbegin(); it != impl_->acks.rend(); ++it)
      if (it->envelope_id == envelope_id) {
        found = *it;
        return true;
      }
    return false;
  });
  return found;
}

std::vector<fake_slack::ack> fake_slack::acks() const {
  std::lock_guard lk(impl_->mu);
  return impl_->acks;
}

std::optional<fake_slack::ack> fake_slack::next_ack(std::chrono::milliseconds timeout) {
  std::unique_lock lk(impl_->mu);
  if (!impl_->cv.wait_for(lk, timeout, [&] { return impl_->next_ack < impl_->acks.size(); })) return std::nullopt;
  return impl_->acks[impl_->next_ack++];
}

std::string fake_slack::response_url_of(const std::string& envelope_id) const {
  auto n = impl_->seq_of(envelope_id);
  return n ? impl_->response_url(*n) : std::string{};
}

std::vector<std::string> fake_slack::protocol_errors() const {
  std::lock_guard lk(impl_->mu);
  return impl_->protocol_errors;
}

void fake_slack::drop_links() { impl_->server.drop_all(); }
void fake_slack::close_links(std::uint16_t code) { impl_->server.close_all(code); }

void fake_slack::send_disconnect(const std::string& reason, std::optional<std::chrono::milliseconds> close_after) {
  impl& m = *impl_;
  m.run_sync([&] {
    bool graceful = reason == "warning" || reason == "refresh_requested";
    auto all = m.server.links();
    for (auto& l : all) {
      if (!l->usable()) continue;
      m.server.send_text(l, impl::disconnect_frame(reason));
      if (graceful) {
        // Slack keeps the old link about 10 s: time for the client to open a new one.
        static_cast<slack_link*>(l->state.get())->draining = true;
        m.server.spawn(m.close_later(l, close_after.value_or(std::chrono::milliseconds(10'000))));
      } else {
        m.server.close(l, 1000);
      }
    }
  });
}

void fake_slack::send_raw(const std::string& frame) { impl_->server.send_all(frame); }

void fake_slack::fail_next(const std::string& method, const std::string& error) {
  std::lock_guard lk(impl_->mu);
  impl_->fail_next[method].push_back(error);
}

void fake_slack::rate_limit_next(const std::string& method, int retry_after_seconds, int count) {
  std::lock_guard lk(impl_->mu);
  impl_->rate_limits[method] = {retry_after_seconds, count};
}

void fake_slack::set_connections_open_delay(std::chrono::milliseconds d) {
  std::lock_guard lk(impl_->mu);
  impl_->open_delay = d;
}

void fake_slack::refuse_connections(const std::string& error) {
  std::lock_guard lk(impl_->mu);
  impl_->refuse = error;
}

std::vector<fake_slack::api_call> fake_slack::calls(const std::string& method) const {
  std::lock_guard lk(impl_->mu);
  std::vector<api_call> out;
  for (const auto& c : impl_->calls)
    if (method.empty() || c.method == method) out.push_back(c);
  return out;
}

bool fake_slack::wait_calls(const std::string& method, std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lk(impl_->mu);
  return impl_->cv.wait_for(lk, timeout, [&] {
    std::size_t k = 0;
    for (const auto& c : impl_->calls)
      if (method.empty() || c.method == method) ++k;
    return k >= n;
  });
}

std::vector<fake_slack::message> fake_slack::messages(const std::string& channel) const {
  std::lock_guard lk(impl_->mu);
  std::vector<message> out;
  for (const auto& m : impl_->messages)
    if (channel.empty() || m.channel == channel) out.push_back(m);
  return out;
}

std::vector<fake_slack::view> fake_slack::opened_views() const {
  std::lock_guard lk(impl_->mu);
  return impl_->views;
}

}  // namespace signoff::test

namespace signoff::test {
std::string fake_slack::dm_channel_of(const std::string& user_id) { return impl::dm_channel(user_id); }
}  // namespace signoff::test
