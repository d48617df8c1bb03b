// The loopback fake of Discord (see fake_discord.hpp for the contract).
//
// Threads: the gateway sessions and links are io-only (fake_server's
// thread); everything the test thread reads (calls, messages, interactions,
// responses, counters, injected faults) sits behind `mu` with one condition
// variable. The test thread creates an interaction under `mu` and posts its
// dispatch to the io thread, so dispatches keep the order they were made in.
#include "fakes/fake_discord.hpp"

#include "fakes/fake_server.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <unordered_map>

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
constexpr std::uint64_t discord_epoch_ms = 1420070400000ull;  // 2015-01-01T00:00:00Z
constexpr int flag_ephemeral = 64;
constexpr std::int64_t privileged_intents = (1 << 1) | (1 << 8) | (1 << 15);  // members, presences, content
constexpr std::int64_t all_intents = (std::int64_t{1} << 26) - 1;
constexpr std::size_t gateway_sends_per_minute = 120;

// Gateway opcodes (Opcodes and Status Codes).
constexpr int op_dispatch = 0, op_heartbeat = 1, op_identify = 2, op_presence = 3, op_voice_state = 4,
              op_resume = 6, op_reconnect = 7, op_request_members = 8, op_invalid_session = 9, op_hello = 10,
              op_heartbeat_ack = 11, op_request_soundboard = 31;

std::uint64_t fnv(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex16(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::uint64_t unix_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// ISO 8601 as Discord writes message timestamps.
std::string iso_now() {
  auto ms = unix_ms();
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d000+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 20 && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string{};
}

// Characters as Discord counts them (code points), not bytes.
std::size_t chars(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80 ? 1 : 0;
  return n;
}

std::vector<std::string> split_path(std::string_view p) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < p.size()) {
    if (p[i] == '/') {
      ++i;
      continue;
    }
    auto j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    out.push_back(pct_decode(p.substr(i, j - i)));
    i = j;
  }
  return out;
}

// Discord's form-body errors: {"errors":{"a":{"0":{"b":{"_errors":[{code, message}]}}}}}.
void add_error(json::object& errors, const std::vector<std::string>& path, std::string_view code,
               std::string_view message) {
  json::object* at = &errors;
  for (const auto& k : path) {
    json::value& v = (*at)[k];
    if (!v.is_object()) v = json::object{};
    at = &v.get_object();
  }
  json::value& list = (*at)["_errors"];
  if (!list.is_array()) list = json::array{};
  list.get_array().push_back(json::object{{"code", code}, {"message", message}});
}

std::vector<std::string> child(std::vector<std::string> path, std::string k) {
  path.push_back(std::move(k));
  return path;
}

// A string field no longer than `max` (and present when `required`).
void check_text(const json::object& o, std::string_view key, std::size_t max, bool required,
                const std::vector<std::string>& path, json::object& errors, std::size_t min = 0) {
  auto* v = o.if_contains(key);
  auto here = child(path, std::string(key));
  if (!v || v->is_null()) {
    if (required) add_error(errors, here, "BASE_TYPE_REQUIRED", "This field is required");
    return;
  }
  if (!v->is_string()) {
    add_error(errors, here, "BASE_TYPE_STRING", "Could not interpret the value as string.");
    return;
  }
  std::size_t n = chars(v->get_string());
  if (n > max || n < min)
    add_error(errors, here, "BASE_TYPE_BAD_LENGTH",
              "Must be between " + std::to_string(min) + " and " + std::to_string(max) + " in length.");
}

// The message components of a message or an interaction response
// (Message Components): at most 5 action rows, each with up to 5 buttons or
// one select; custom_id <= 100 and unique, label <= 80.
void check_components(const json::value& comps, const std::vector<std::string>& path, json::object& errors) {
  if (!comps.is_array()) {
    add_error(errors, path, "BASE_TYPE_ARRAY", "Not an array.");
    return;
  }
  const auto& rows = comps.get_array();
  if (rows.size() > 5) add_error(errors, path, "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
  std::set<std::string> ids;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    auto rp = child(path, std::to_string(r));
    if (!rows[r].is_object() || !rows[r].get_object().if_contains("type") ||
        rows[r].get_object().at("type") != 1) {
      add_error(errors, child(rp, "type"), "UNION_TYPE_CHOICES", "Value of field \"type\" must be one of (1,).");
      continue;
    }
    auto* kids = rows[r].get_object().if_contains("components");
    if (!kids || !kids->is_array() || kids->get_array().empty()) {
      add_error(errors, child(rp, "components"), "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.");
      continue;
    }
    const auto& items = kids->get_array();
    if (items.size() > 5)
      add_error(errors, child(rp, "components"), "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
    for (std::size_t i = 0; i < items.size(); ++i) {
      auto ip = child(child(rp, "components"), std::to_string(i));
      if (!items[i].is_object()) {
        add_error(errors, ip, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
        continue;
      }
      const auto& c = items[i].get_object();
      auto* type = c.if_contains("type");
      std::int64_t t = type && type->is_int64() ? type->get_int64() : 0;
      if (t == 2) {
        auto* style = c.if_contains("style");
        std::int64_t s = style && style->is_int64() ? style->get_int64() : 0;
        if (s < 1 || s > 6) add_error(errors, child(ip, "style"), "BUTTON_COMPONENT_INVALID_STYLE", "Invalid style");
        check_text(c, "label", 80, false, ip, errors);
        if (s == 5) {
          check_text(c, "url", 512, true, ip, errors);
          if (c.if_contains("custom_id"))
            add_error(errors, child(ip, "custom_id"), "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                      "A custom id is not allowed on a link button");
        } else {
          check_text(c, "custom_id", 100, true, ip, errors, 1);
        }
      } else if (t == 3 || (t >= 5 && t <= 8)) {
        check_text(c, "custom_id", 100, true, ip, errors, 1);
        if (items.size() > 1)
          add_error(errors, child(rp, "components"), "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "The specified component exceeds the maximum width");
      } else {
        add_error(errors, child(ip, "type"), "UNION_TYPE_CHOICES", "Value of field \"type\" must be one of (2, 3, 5, 6, 7, 8).");
        continue;
      }
      std::string id = str(c, "custom_id");
      if (!id.empty() && !ids.insert(id).second)
        add_error(errors, child(ip, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED",
                  "Component custom id cannot be duplicated");
    }
  }
}

// content <= 2000, embeds <= 10 (title 256, description 4096, 25 fields,
// 6000 characters in all), components as above. Returns false when the
// message would be empty (Discord's 50006) and `need_some` is set.
bool check_message(const json::object& body, bool need_some, json::object& errors) {
  check_text(body, "content", 2000, false, {}, errors);
  bool some = !str(body, "content").empty();
  if (auto* e = body.if_contains("embeds"); e && !e->is_null()) {
    if (!e->is_array()) {
      add_error(errors, {"embeds"}, "BASE_TYPE_ARRAY", "Not an array.");
    } else {
      const auto& embeds = e->get_array();
      some = some || !embeds.empty();
      if (embeds.size() > 10) add_error(errors, {"embeds"}, "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.");
      std::size_t total = 0;
      for (std::size_t i = 0; i < embeds.size(); ++i) {
        std::vector<std::string> ep{"embeds", std::to_string(i)};
        if (!embeds[i].is_object()) {
          add_error(errors, ep, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
          continue;
        }
        const auto& em = embeds[i].get_object();
        check_text(em, "title", 256, false, ep, errors);
        check_text(em, "description", 4096, false, ep, errors);
        total += chars(str(em, "title")) + chars(str(em, "description"));
        if (auto* f = em.if_contains("fields"); f && f->is_array()) {
          if (f->get_array().size() > 25)
            add_error(errors, child(ep, "fields"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
          for (std::size_t k = 0; k < f->get_array().size(); ++k) {
            const auto& fv = f->get_array()[k];
            if (!fv.is_object()) continue;
            auto fp = child(child(ep, "fields"), std::to_string(k));
            check_text(fv.get_object(), "name", 256, true, fp, errors);
            check_text(fv.get_object(), "value", 1024, true, fp, errors);
            total += chars(str(fv.get_object(), "name")) + chars(str(fv.get_object(), "value"));
          }
        }
        if (auto* ft = em.if_contains("footer"); ft && ft->is_object()) total += chars(str(ft->get_object(), "text"));
      }
      if (total > 6000) add_error(errors, {"embeds"}, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000");
    }
  }
  if (auto* c = body.if_contains("components"); c && !c->is_null()) {
    check_components(*c, {"components"}, errors);
    some = some || (c->is_array() && !c->get_array().empty());
  }
  return some || !need_some;
}

// A modal (interaction callback type 9): custom_id, title <= 45, 1-5 rows
// each holding one text input (or, in the newer layout, label components
// holding one).
void check_modal(const json::object& d, json::object& errors) {
  check_text(d, "custom_id", 100, true, {"data"}, errors, 1);
  check_text(d, "title", 45, true, {"data"}, errors, 1);
  auto* comps = d.if_contains("components");
  if (!comps || !comps->is_array() || comps->get_array().empty() || comps->get_array().size() > 5) {
    add_error(errors, {"data", "components"}, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.");
    return;
  }
  for (std::size_t r = 0; r < comps->get_array().size(); ++r) {
    std::vector<std::string> rp{"data", "components", std::to_string(r)};
    const auto& row = comps->get_array()[r];
    const json::object* input = nullptr;
    if (row.is_object()) {
      const auto& ro = row.get_object();
      auto* t = ro.if_contains("type");
      if (t && *t == 1) {
        auto* kids = ro.if_contains("components");
        if (kids && kids->is_array() && kids->get_array().size() == 1 && kids->get_array()[0].is_object())
          input = &kids->get_array()[0].get_object();
      } else if (t && *t == 18) {
        check_text(ro, "label", 45, true, rp, errors, 1);
        auto* comp = ro.if_contains("component");
        if (comp && comp->is_object()) input = &comp->get_object();
      }
    }
    if (!input || !input->if_contains("type") || input->at("type") != 4) {
      add_error(errors, rp, "MODAL_ROW_INVALID", "A modal row holds exactly one text input");
      continue;
    }
    check_text(*input, "custom_id", 100, true, rp, errors, 1);
    if (row.get_object().at("type") == 1) check_text(*input, "label", 45, true, rp, errors, 1);
    auto* style = input->if_contains("style");
    if (!style || !(*style == 1 || *style == 2))
      add_error(errors, child(rp, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.");
    check_text(*input, "value", 4000, false, rp, errors);
    check_text(*input, "placeholder", 100, false, rp, errors);
  }
}

const std::regex& command_name_re() {
  static const std::regex re("^[-_a-z0-9]{1,32}$");
  return re;
}

// One entry of a command or option list: an object whose name matches
// Discord's pattern and is unique in its list; null when it is no object.
const json::object* named_entry(const json::value& v, const std::vector<std::string>& at, std::set<std::string>& names,
                                std::string_view dup_code, std::string_view dup_message, json::object& errors) {
  if (!v.is_object()) {
    add_error(errors, at, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
    return nullptr;
  }
  std::string name = str(v.get_object(), "name");
  if (!std::regex_match(name, command_name_re()))
    add_error(errors, child(at, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid");
  if (!names.insert(name).second) add_error(errors, child(at, "name"), dup_code, dup_message);
  return &v.get_object();
}

// Application command options (Application Commands): names as commands,
// descriptions 1-100, at most 25, required before optional, choices <= 25.
void check_options(const json::value& opts, const std::vector<std::string>& path, json::object& errors, int depth) {
  if (!opts.is_array()) {
    add_error(errors, path, "BASE_TYPE_ARRAY", "Not an array.");
    return;
  }
  const auto& list = opts.get_array();
  if (list.size() > 25) add_error(errors, path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
  bool seen_optional = false, seen_sub = false, seen_value = false;
  std::set<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto op = child(path, std::to_string(i));
    const json::object* entry = named_entry(list[i], op, names, "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                                            "Option name already exists", errors);
    if (!entry) continue;
    const auto& o = *entry;
    check_text(o, "description", 100, true, op, errors, 1);
    auto* tv = o.if_contains("type");
    std::int64_t t = tv && tv->is_int64() ? tv->get_int64() : 0;
    if (t < 1 || t > 11) {
      add_error(errors, child(op, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.");
      continue;
    }
    bool sub = t == 1 || t == 2;
    (sub ? seen_sub : seen_value) = true;
    if (sub && depth >= (t == 2 ? 1 : 2))
      add_error(errors, child(op, "type"), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Subcommands nest too deep");
    bool required = o.if_contains("required") && o.at("required") == true;
    if (!sub) {
      if (required && seen_optional)
        add_error(errors, child(op, "required"), "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                  "Required options must be placed before non-required options");
      if (!required) seen_optional = true;
    }
    if (auto* ch = o.if_contains("choices"); ch && ch->is_array() && ch->get_array().size() > 25)
      add_error(errors, child(op, "choices"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
    if (auto* nested = o.if_contains("options"); nested && !nested->is_null()) {
      if (!sub)
        add_error(errors, child(op, "options"), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Only subcommands have options");
      else
        check_options(*nested, child(op, "options"), errors, depth + 1);
    }
  }
  if (seen_sub && seen_value)
    add_error(errors, path, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
              "Sub-command and sub-command group option types are mutually exclusive to all other types");
}

// ---- records ---------------------------------------------------------------

struct interaction_rec {
  std::string id, token, channel_id, message_id;
  int type = 0;
  steady::time_point created;
  std::optional<steady::time_point> written;  // the dispatch's first write
  int callback = 0;                           // 0: not acknowledged yet
  bool final = false;
  fake_discord::response resp;
};
using interaction_ptr = std::shared_ptr<interaction_rec>;

// A dispatch frame; knows when it first went out (interaction deadlines count from there).
struct dispatch_out final : fake_server::outgoing {
  std::string type, d;           // the event name and its serialized data
  std::string frame;             // made when a session gives it a sequence number
  std::uint64_t seq = 0;
  interaction_ptr interaction;
  std::mutex* mu = nullptr;
  bool sent = false;             // io-only
  std::string_view text() const override { return frame; }
  void written(steady::time_point at) override {
    sent = true;
    if (!interaction) return;
    std::lock_guard lk(*mu);
    if (!interaction->written) interaction->written = at;
  }
};
using dispatch_ptr = std::shared_ptr<dispatch_out>;

struct session {
  std::string id;
  std::uint64_t seq = 0;
  std::deque<dispatch_ptr> log;  // replayable dispatches, oldest first
  std::weak_ptr<fake_server::link> link;  // bound once READY / RESUMED is queued
};
using session_ptr = std::shared_ptr<session>;

// A gateway link's state (fake_server::link::state).
struct conn {
  bool authed = false;           // Identify or Resume accepted
  bool bad_version = false;
  session_ptr sess;
  steady::time_point last_beat;
  std::deque<steady::time_point> sends;
};
conn& conn_of(const link_ptr& l) { return *static_cast<conn*>(l->state.get()); }

struct bucket {
  int remaining = 0;
  steady::time_point reset_at{};
  steady::time_point blocked_until{};  // after a 429: requests before this are a protocol error
};

struct injected_429 {
  std::string prefix;
  double retry_after = 1;
  bool global = false;
  int count = 1;
};
struct injected_fail {
  std::string prefix;
  unsigned status = 500;
  int code = 0;
  std::string message;
};

std::string normal_prefix(std::string p) { return p.empty() || p[0] == '/' ? p : "/" + p; }

}  // namespace

struct fake_discord::impl final : fake_server::handler {
  options opt;
  std::uint64_t key;
  std::atomic<std::uint64_t> increment{0};

  // ---- io-only ----
  std::map<std::string, session_ptr> sessions;
  session_ptr current;                      // where new dispatches go
  std::deque<dispatch_ptr> waiting;         // made before any session
  std::map<std::string, bucket> buckets;    // by bucket ID + major parameter
  steady::time_point global_blocked_until{};
  int replay_extra = 0;

  // ---- shared, under mu ----
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  int live = 0, identified = 0, resumed = 0, ready_sent = 0;
  bool zombie = false;
  std::vector<std::string> errors;
  std::vector<api_call> calls;
  std::vector<message> messages;
  std::unordered_map<std::string, interaction_ptr> interactions, by_token;
  std::vector<std::string> finals;
  std::size_t next_final = 0;
  std::vector<injected_429> limits;
  std::vector<injected_fail> failures;
  std::chrono::milliseconds gateway_delay{0};
  unsigned gateway_status = 200;
  int session_remaining;
  std::chrono::milliseconds session_reset_after{std::chrono::hours(24)};
  std::map<std::string, json::array> commands;          // guild ("" global) -> registered
  std::map<std::string, std::string> command_ids;       // guild + "/" + name -> id, kept across overwrites
  std::map<std::string, std::string> nonces;            // channel + nonce -> message id (enforce_nonce)

  fake_server server;  // last: destroyed first

  static fake_server::options server_options(const options& o) {
    fake_server::options so;
    so.cert_pem = o.cert_pem;
    so.key_pem = o.key_pem;
    so.name = "fake_discord";
    so.max_message = o.max_frame;
    so.too_big_code = 4002;  // Discord: a payload over 4096 bytes is a decode error
    return so;
  }

  explicit impl(options o)
      : opt(std::move(o)),
        key(std::random_device{}() * 0x9e3779b97f4a7c15ull ^ std::random_device{}()),
        session_remaining(opt.session_start_remaining),
        server(server_options(opt), *this) {
    server.start();
  }

  std::string origin() const { return "localhost:" + server.port_text(); }

  void protocol_error(std::string what) {
    std::lock_guard lk(mu);
    errors.push_back(std::move(what));
    cv.notify_all();
  }
  void on_error(std::string what) override { protocol_error("gateway " + what); }

  std::string snowflake() {
    std::uint64_t ms = unix_ms() - discord_epoch_ms;
    return std::to_string((ms << 22) | (1ull << 17) | (increment++ & 0xfff));
  }

  json::object bot_user() const {
    return {{"id", opt.bot_user_id}, {"username", "signoff"}, {"discriminator", "0"}, {"global_name", nullptr},
            {"avatar", nullptr}, {"bot", true}, {"public_flags", 0}};
  }
  static json::object user_object(const std::string& id) {
    return {{"id", id}, {"username", "user" + id.substr(id.size() > 4 ? id.size() - 4 : 0)},
            {"discriminator", "0"}, {"global_name", "User " + id}, {"avatar", nullptr}, {"public_flags", 0}};
  }

  // ---- gateway (io thread) ---------------------------------------------------
  void publish_counts() {
    int n = 0;
    for (auto& l : server.links()) n += l->usable() ? 1 : 0;
    std::lock_guard lk(mu);
    live = n;
    cv.notify_all();
  }
  void on_link_change(const link_ptr& l) override {
    if (l->state && (l->dead() || l->closing())) {
      auto& c = conn_of(l);
      if (c.sess && c.sess->link.lock() == l) c.sess->link.reset();
    }
    publish_counts();
  }

  std::optional<answer> on_upgrade(const request& req) override {
    if (req.path != "/" && req.path != "/resume" && req.path != "/resume/") return error_answer(404, 0, "404: Not Found");
    std::string q = "&" + req.query + "&";
    if (q.find("&encoding=json&") == std::string::npos && q.find("&encoding=") != std::string::npos) {
      protocol_error("gateway: only encoding=json is served (" + cut80(req.query) + ")");
      return error_answer(400, 0, "400: Bad Request");
    }
    if (q.find("&compress=") != std::string::npos) {
      protocol_error("gateway: transport compression asked for; the fake serves plain JSON");
      return error_answer(400, 0, "400: Bad Request");
    }
    return std::nullopt;
  }

  void on_open(const link_ptr& l, const request& req) override {
    auto c = std::make_shared<conn>();
    c->last_beat = steady::now();
    std::string q = "&" + req.query + "&";
    c->bad_version = q.find("&v=10&") == std::string::npos;
    l->state = c;
    if (c->bad_version) {
      protocol_error("gateway: connected without v=10 (" + cut80(req.query) + ")");
      server.close(l, 4012);
      return;
    }
    json::object hello{{"op", op_hello}, {"d", {{"heartbeat_interval", opt.heartbeat_interval.count()}}},
                       {"s", nullptr}, {"t", nullptr}};
    server.send_text(l, json::serialize(hello));
    server.spawn(watchdog(l));
    publish_counts();
  }

  // Discord closes a link whose heartbeats stop (interval x 1.5, plus slack).
  asio::awaitable<void> watchdog(link_ptr l) {
    auto limit = opt.heartbeat_interval * 3 / 2 + std::max<std::chrono::milliseconds>(opt.heartbeat_interval / 10, 100ms);
    auto tick = std::clamp<std::chrono::milliseconds>(opt.heartbeat_interval / 10, 10ms, 1000ms);
    asio::steady_timer t(server.io());
    for (;;) {
      t.expires_after(tick);
      co_await t.async_wait(tok);
      if (!l->usable()) co_return;
      if (steady::now() - conn_of(l).last_beat > limit) {
        protocol_error("gateway: no heartbeat for " + std::to_string(limit.count()) + " ms: closed 4000");
        server.close(l, 4000);
        co_return;
      }
    }
  }

  void on_client_close(const link_ptr& l, std::uint16_t code) override {
    // Gateway: closing with 1000 or 1001 invalidates the session.
    if (code != 1000 && code != 1001) return;
    auto& c = conn_of(l);
    if (!c.sess) return;
    sessions.erase(c.sess->id);
    if (current == c.sess) current.reset();
    c.sess.reset();
  }

  void refuse(const link_ptr& l, std::uint16_t code, const std::string& why) {
    protocol_error("gateway: " + why + ": closed " + std::to_string(code));
    server.close(l, code);
  }

  void send_op(const link_ptr& l, int opcode, json::value d) {
    json::object o{{"op", opcode}, {"d", std::move(d)}, {"s", nullptr}, {"t", nullptr}};
    server.send_text(l, json::serialize(o));
  }

  dispatch_ptr make_dispatch(std::string_view type, const json::value& d) {
    auto p = std::make_shared<dispatch_out>();
    p->mu = &mu;
    p->type = std::string(type);
    p->d = json::serialize(d);
    return p;
  }

  // Gives `d` the session's next sequence number (a dispatch carried over
  // from an older session gets a new one).
  void number(const session_ptr& s, dispatch_out& d) {
    d.seq = ++s->seq;
    d.frame = R"({"op":0,"d":)" + d.d + R"(,"s":)" + std::to_string(d.seq) + R"(,"t":")" + d.type + "\"}";
  }

  // Appends a dispatch to `s` and sends it when the session has a link.
  void append(const session_ptr& s, const dispatch_ptr& d) {
    number(s, *d);
    s->log.push_back(d);
    while (s->log.size() > 10000) s->log.pop_front();
    if (auto l = s->link.lock(); l && l->usable()) server.send(l, d);
  }

  void dispatch(const dispatch_ptr& d) {
    if (current)
      append(current, d);
    else
      waiting.push_back(d);
  }

  // READY or RESUMED (never replayed, so kept out of the log) on `l`, which
  // now carries the session's dispatches; `counter` is identified or resumed.
  void session_up(const link_ptr& l, const session_ptr& s, std::string_view type, const json::object& d,
                  int& counter) {
    auto r = make_dispatch(type, d);
    number(s, *r);
    server.send(l, r);
    s->link = l;
    std::lock_guard lk(mu);
    ++counter;
    ++ready_sent;
    cv.notify_all();
  }

  void on_text(const link_ptr& l, std::string_view text, steady::time_point read_at) override {
    auto& c = conn_of(l);
    c.sends.push_back(read_at);
    while (!c.sends.empty() && read_at - c.sends.front() > 60s) c.sends.pop_front();
    if (c.sends.size() > gateway_sends_per_minute)
      return refuse(l, 4008, "more than 120 gateway sends in 60 s");
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    const json::value* opv = o ? o->if_contains("op") : nullptr;
    if (!opv || !opv->is_int64()) return refuse(l, 4002, "payload is not a JSON object with an op: " + cut80(text));
    std::int64_t opcode = opv->get_int64();
    const json::value* d = o->if_contains("d");
    static const json::value null_value;
    if (!d) d = &null_value;
    switch (opcode) {
      case op_heartbeat: return on_heartbeat(l, *d);
      case op_identify: return on_identify(l, *d);
      case op_resume: return on_resume(l, *d);
      case op_presence:
      case op_voice_state:
      case op_request_members:
      case op_request_soundboard:
        if (!c.authed) return refuse(l, 4003, "op " + std::to_string(opcode) + " before Identify");
        return;
      default: return refuse(l, 4001, "unknown opcode " + std::to_string(opcode));
    }
  }

  void on_heartbeat(const link_ptr& l, const json::value& d) {
    if (!d.is_null() && !d.is_int64() && !d.is_uint64()) return refuse(l, 4002, "heartbeat d is neither null nor a sequence number");
    conn_of(l).last_beat = steady::now();
    bool z;
    {
      std::lock_guard lk(mu);
      z = zombie;
    }
    if (!z) send_op(l, op_heartbeat_ack, nullptr);
  }

  void on_identify(const link_ptr& l, const json::value& d) {
    auto& c = conn_of(l);
    if (c.authed) return refuse(l, 4005, "second Identify (or Identify after Resume)");
    const json::object* o = d.if_object();
    const json::value* props = o ? o->if_contains("properties") : nullptr;
    const json::value* intents = o ? o->if_contains("intents") : nullptr;
    if (!o || !o->if_contains("token") || !o->at("token").is_string() || !intents || !props || !props->is_object())
      return refuse(l, 4002, "Identify without token, intents and properties");
    for (const char* k : {"os", "browser", "device"})
      if (str(props->get_object(), k).empty()) protocol_error(std::string("gateway: Identify properties lack ") + k);
    if (str(*o, "token") != opt.token) return refuse(l, 4004, "Identify with a wrong token");
    if (!intents->is_int64() || intents->get_int64() < 0 || intents->get_int64() > all_intents)
      return refuse(l, 4013, "invalid intents");
    if (intents->get_int64() & privileged_intents)
      return refuse(l, 4014, "privileged intents the application has not enabled");
    if (auto* shard = o->if_contains("shard")) {
      const json::array* a = shard->if_array();
      if (!a || a->size() != 2 || (*a)[1] != 1 || (*a)[0] != 0) return refuse(l, 4010, "invalid shard (the fake has 1)");
    }
    {
      std::lock_guard lk(mu);
      if (session_remaining <= 0) {
        errors.push_back("gateway: Identify with no session starts remaining");
        cv.notify_all();
      } else {
        --session_remaining;
      }
    }
    auto s = std::make_shared<session>();
    s->id = hex16(fnv(snowflake(), key)) + hex16(key ^ increment.load());
    sessions[s->id] = s;
    c.authed = true;
    c.sess = s;
    // Dispatches never written on the old session move to the new one (a
    // test's interaction made while the bot was away is delivered, not lost).
    std::vector<dispatch_ptr> carry;
    if (current)
      for (auto& e : current->log)
        if (!e->sent && e->interaction) carry.push_back(e);
    for (auto& e : waiting) carry.push_back(e);
    waiting.clear();
    current = s;
    json::object ready{{"v", 10},
                       {"user_settings", json::object{}},
                       {"user", bot_user()},
                       {"guilds", json::array{json::object{{"id", opt.guild_id}, {"unavailable", true}}}},
                       {"session_type", "normal"},
                       {"session_id", s->id},
                       {"resume_gateway_url", "wss://" + origin() + "/resume"},
                       {"private_channels", json::array{}},
                       {"relationships", json::array{}},
                       {"presences", json::array{}},
                       {"geo_ordered_rtc_regions", json::array{"fake"}},
                       {"application", {{"id", opt.application_id}, {"flags", 0}}},
                       {"_trace", json::array{"[\"fake-discord-gateway\",{\"micros\":1}]"}}};
    if (auto* shard = o->if_contains("shard")) ready["shard"] = *shard;
    session_up(l, s, "READY", ready, identified);
    if (intents->get_int64() & 1) {  // GUILDS: the guild arrives as GUILD_CREATE
      json::object guild{{"id", opt.guild_id}, {"name", "Fake Guild"}, {"owner_id", "1"}, {"unavailable", false},
                         {"member_count", 4}, {"large", false}, {"channels", json::array{}},
                         {"members", json::array{}}, {"roles", json::array{}}, {"joined_at", iso_now()}};
      append(s, make_dispatch("GUILD_CREATE", guild));
    }
    for (auto& e : carry) append(s, e);
  }

  void on_resume(const link_ptr& l, const json::value& d) {
    auto& c = conn_of(l);
    if (c.authed) return refuse(l, 4005, "Resume on an authenticated link");
    const json::object* o = d.if_object();
    const json::value* seqv = o ? o->if_contains("seq") : nullptr;
    if (!o || str(*o, "token").empty() || str(*o, "session_id").empty() || !seqv ||
        !(seqv->is_int64() || seqv->is_uint64() || seqv->is_null()))
      return refuse(l, 4002, "Resume without token, session_id and seq");
    if (str(*o, "token") != opt.token) return refuse(l, 4004, "Resume with a wrong token");
    auto it = sessions.find(str(*o, "session_id"));
    if (it == sessions.end()) {
      // Not an error of the client's: Discord answers op 9 and the client identifies.
      send_op(l, op_invalid_session, false);
      return;
    }
    session_ptr s = it->second;
    std::uint64_t have = seqv->is_null() ? 0 : (seqv->is_int64() ? static_cast<std::uint64_t>(seqv->get_int64()) : seqv->get_uint64());
    if (have > s->seq) return refuse(l, 4007, "Resume with a seq the session never reached");
    if (auto old = s->link.lock(); old && old != l) server.kill(old);  // gone, as far as Discord knows
    c.authed = true;
    c.sess = s;
    std::size_t from = 0;
    while (from < s->log.size() && s->log[from]->seq <= have) ++from;
    if (replay_extra > 0) {
      from = s->log.size() > static_cast<std::size_t>(replay_extra) ? std::min(from, s->log.size() - static_cast<std::size_t>(replay_extra)) : 0;
      replay_extra = 0;
    }
    for (std::size_t i = from; i < s->log.size(); ++i) server.send(l, s->log[i]);
    json::object resumed_d{{"_trace", json::array{"fake-discord-gateway"}}};
    session_up(l, s, "RESUMED", resumed_d, resumed);
  }

  // ---- REST (io thread) ------------------------------------------------------
  static answer json_answer(unsigned status, const json::value& body) {
    answer a;
    a.status = status;
    a.body = json::serialize(body);
    return a;
  }
  static answer error_answer(unsigned status, int code, std::string_view message, json::object errs = {}) {
    json::object b{{"code", code}, {"message", message}};
    if (!errs.empty()) b["errors"] = std::move(errs);
    return json_answer(status, b);
  }
  static answer no_content() {
    answer a;
    a.status = 204;
    a.content_type.clear();
    return a;
  }

  asio::awaitable<answer> on_http(request req) override { co_return handle(req); }

  struct route {
    std::string bucket;          // route template: the bucket ID's source
    std::string major;           // the major parameter (channel, guild, webhook)
    bool auth = true;
    bool channel_limit = false;  // opt.bucket_limit per opt.bucket_window
  };

  answer handle(const request& req) {
    api_call call;
    call.method = req.method;
    call.at = steady::now();
    call.authorization = std::string(req.header("Authorization"));
    call.user_agent = std::string(req.header("User-Agent"));
    static const std::string prefix = "/api/v10";
    if (!req.path.starts_with(prefix + "/")) {
      call.path = req.path;
      call.status = 404;
      record(std::move(call));
      return error_answer(404, 0, "404: Not Found");
    }
    call.path = req.path.substr(prefix.size());
    static const std::regex ua("^DiscordBot \\(\\S+, \\S+\\).*");
    if (!std::regex_match(call.user_agent, ua))
      protocol_error(where(call) + ": User-Agent \"" + cut80(call.user_agent) +
                     "\" is not \"DiscordBot ($url, $versionNumber)\"");
    if (!req.body.empty()) {
      boost::system::error_code ec;
      call.body = json::parse(req.body, ec);
      if (ec) call.body = nullptr;
    }
    answer a = dispatch_rest(req, call);
    call.status = a.status;
    record(std::move(call));
    return a;
  }

  // "REST METHOD path" for an error message, an interaction token in the
  // path replaced by "{token}" (tokens never reach error strings).
  static std::string where(const api_call& call) {
    auto p = split_path(call.path);
    std::string shown;
    for (std::size_t i = 0; i < p.size(); ++i) {
      bool secret = i == 2 && (p[0] == "webhooks" || p[0] == "interactions");
      shown += "/" + (secret ? std::string("{token}") : cut80(p[i]));
    }
    return "REST " + call.method + " " + shown;
  }

  void record(api_call call) {
    std::lock_guard lk(mu);
    calls.push_back(std::move(call));
    cv.notify_all();
  }

  // Which route a request is, or nullopt (404).
  static std::optional<route> route_of(const std::string& method, const std::vector<std::string>& p) {
    auto is = [&](std::initializer_list<const char*> shape) {
      if (p.size() != shape.size()) return false;
      std::size_t i = 0;
      for (const char* s : shape) {
        if (std::string_view(s) != "*" && p[i] != s) return false;
        ++i;
      }
      return true;
    };
    if (is({"gateway"})) return route{"gateway", "", false};
    if (is({"gateway", "bot"})) return route{"gateway/bot", "", true};
    if (is({"users", "@me"})) return route{"users/@me", "", true};
    if (is({"users", "@me", "channels"})) return route{"users/@me/channels", "", true};
    if (is({"channels", "*", "messages"})) return route{method + " channels/messages", p[1], true, true};
    if (is({"channels", "*", "messages", "*"})) return route{method + " channels/messages/id", p[1], true, true};
    if (is({"applications", "*", "commands"})) return route{"applications/commands", p[1], true};
    if (is({"applications", "*", "guilds", "*", "commands"})) return route{"applications/guilds/commands", p[3], true};
    if (is({"interactions", "*", "*", "callback"})) return route{"interactions/callback", p[1], false};
    if (is({"webhooks", "*", "*"})) return route{"webhooks", p[2], false};
    if (is({"webhooks", "*", "*", "messages", "*"})) return route{method + " webhooks/messages", p[2], false};
    return std::nullopt;
  }

  // X-RateLimit-* for bucket `b` (Rate Limits).
  void bucket_headers(answer& a, const std::string& id, int limit, const bucket& b, steady::time_point now) {
    double after = std::max(0.0, std::chrono::duration<double>(b.reset_at - now).count());
    double reset = static_cast<double>(unix_ms()) / 1000.0 + after;
    a.headers.emplace_back("X-RateLimit-Limit", std::to_string(limit));
    a.headers.emplace_back("X-RateLimit-Remaining", std::to_string(b.remaining));
    a.headers.emplace_back("X-RateLimit-Reset", seconds_text(reset));
    a.headers.emplace_back("X-RateLimit-Reset-After", seconds_text(after));
    a.headers.emplace_back("X-RateLimit-Bucket", id);
  }

  static answer too_many(double retry_after, bool global, std::string_view scope) {
    json::object body{{"message", "You are being rate limited."}, {"retry_after", retry_after}, {"global", global}};
    if (global) body["code"] = 0;
    answer a = json_answer(429, body);
    a.headers.emplace_back("Retry-After", std::to_string(static_cast<long long>(std::ceil(retry_after))));
    a.headers.emplace_back("X-RateLimit-Scope", std::string(scope));
    if (global) a.headers.emplace_back("X-RateLimit-Global", "true");
    return a;
  }

  answer dispatch_rest(const request& req, const api_call& call) {
    auto p = split_path(call.path);
    auto r = route_of(req.method, p);
    if (!r) return error_answer(404, 0, "404: Not Found");
    if (r->auth) {
      std::string_view auth = req.header("Authorization");
      if (!auth.empty() && !starts_with_ci(auth, "Bot ") && !starts_with_ci(auth, "Bearer "))
        protocol_error(where(call) + ": Authorization is not \"Bot <token>\"");
      if (auth.empty()) protocol_error(where(call) + ": no Authorization header");
      if (auth != "Bot " + opt.token) return error_answer(401, 0, "401: Unauthorized");
    }
    auto now = steady::now();
    std::string bucket_id = hex16(fnv(r->bucket, 0x6a09e667f3bcc908ull)).substr(0, 12);
    std::string bucket_key = bucket_id + ":" + r->major;
    int limit = r->channel_limit ? opt.bucket_limit : 50;
    auto window = r->channel_limit ? opt.bucket_window : std::chrono::milliseconds(1000);
    bucket& b = buckets[bucket_key];
    if (now >= b.reset_at) {
      b.remaining = limit;
      b.reset_at = now + window;
    }
    if (now < global_blocked_until || now < b.blocked_until) {
      double left = std::chrono::duration<double>(std::max(global_blocked_until, b.blocked_until) - now).count();
      protocol_error(where(call) + ": sent " + seconds_text(left) +
                     " s before the 429's retry_after had passed");
      answer a = too_many(left, now < global_blocked_until, now < global_blocked_until ? "global" : "user");
      bucket_headers(a, bucket_id, limit, b, now);
      return a;
    }
    std::optional<injected_429> inj;
    std::optional<injected_fail> fail;
    {
      std::lock_guard lk(mu);
      for (auto it = limits.begin(); it != limits.end(); ++it)
        if (call.path.starts_with(it->prefix)) {
          inj = *it;
          if (--it->count <= 0) limits.erase(it);
          break;
        }
      if (!inj)
        for (auto it = failures.begin(); it != failures.end(); ++it)
          if (call.path.starts_with(it->prefix)) {
            fail = *it;
            failures.erase(it);
            break;
          }
    }
    if (inj) {
      auto pause = std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(inj->retry_after));
      answer a = too_many(inj->retry_after, inj->global, inj->global ? "global" : "user");
      if (inj->global) {
        global_blocked_until = now + pause;
      } else {
        b.remaining = 0;
        b.reset_at = now + pause;  // Reset-After of a 429 is its retry_after
        b.blocked_until = now + pause;
        bucket_headers(a, bucket_id, limit, b, now);
      }
      return a;
    }
    if (b.remaining <= 0) {
      double left = std::chrono::duration<double>(b.reset_at - now).count();
      protocol_error(where(call) + ": bucket " + bucket_id + " exhausted (" +
                     std::to_string(limit) + " per " + std::to_string(window.count()) + " ms): 429");
      b.blocked_until = b.reset_at;
      answer a = too_many(left, false, "user");
      bucket_headers(a, bucket_id, limit, b, now);
      return a;
    }
    --b.remaining;
    answer a = fail ? error_answer(fail->status, fail->code, fail->message) : serve(req, call, p);
    bucket_headers(a, bucket_id, limit, b, now);
    return a;
  }

  // The JSON object body of a POST/PATCH/PUT, or the error answer.
  std::optional<answer> body_problem(const request& req, const api_call& call, bool want_array = false) {
    if (!req.body.empty() && !starts_with_ci(req.header("Content-Type"), "application/json")) {
      protocol_error(where(call) + ": body is not application/json");
      return error_answer(400, 50035, "Invalid Form Body");
    }
    if (!req.body.empty() && call.body.is_null()) return error_answer(400, 50109, "The request body contains invalid JSON.");
    if (want_array ? !call.body.is_array() : !call.body.is_object()) return error_answer(400, 50035, "Invalid Form Body");
    return std::nullopt;
  }

  answer method_not_allowed() { return error_answer(405, 0, "405: Method Not Allowed"); }

  answer serve(const request& req, const api_call& call, const std::vector<std::string>& p) {
    const std::string& m = req.method;
    if (p[0] == "gateway") {
      if (m != "GET") return method_not_allowed();
      if (p.size() == 1) return json_answer(200, json::object{{"url", "wss://" + origin()}});
      std::lock_guard lk(mu);
      answer a = gateway_status == 200
                     ? json_answer(200, json::object{{"url", "wss://" + origin()},
                                                     {"shards", 1},
                                                     {"session_start_limit",
                                                      {{"total", opt.session_start_total},
                                                       {"remaining", session_remaining},
                                                       {"reset_after", session_reset_after.count()},
                                                       {"max_concurrency", opt.max_concurrency}}}})
                     : error_answer(gateway_status, 0, std::to_string(gateway_status) + ": gateway unavailable");
      a.delay = gateway_delay;
      return a;
    }
    if (p[0] == "users" && p.size() == 2) return m == "GET" ? json_answer(200, bot_user()) : method_not_allowed();
    if (p[0] == "users") {
      if (m != "POST") return method_not_allowed();
      if (auto bad = body_problem(req, call)) return *bad;
      std::string rid = str(call.body.get_object(), "recipient_id");
      if (!all_digits(rid)) {
        json::object errs;
        add_error(errs, {"recipient_id"}, "NUMBER_TYPE_COERCE", "Value \"" + cut80(rid) + "\" is not snowflake.");
        return error_answer(400, 50035, "Invalid Form Body", std::move(errs));
      }
      return json_answer(200, json::object{{"id", dm_channel(rid)}, {"type", 1}, {"last_message_id", nullptr},
                                           {"flags", 0}, {"recipients", json::array{user_object(rid)}}});
    }
    if (p[0] == "channels") return channel_messages(req, call, p);
    if (p[0] == "applications") return bulk_overwrite(req, call, p);
    if (p[0] == "interactions") return callback(req, call, p);
    return webhook(req, call, p);
  }

  static std::string dm_channel(const std::string& user_id) {
    return std::to_string(1400000000000000000ull + fnv(user_id) % 100000000000000000ull);
  }

  json::object message_json(const message& msg, bool edited) const {
    json::object o{{"id", msg.id},
                   {"channel_id", msg.channel_id},
                   {"type", 0},
                   {"content", msg.content},
                   {"author", bot_user()},
                   {"timestamp", iso_now()},
                   {"edited_timestamp", edited ? json::value(iso_now()) : json::value(nullptr)},
                   {"tts", false},
                   {"mention_everyone", false},
                   {"mentions", json::array{}},
                   {"mention_roles", json::array{}},
                   {"attachments", json::array{}},
                   {"embeds", msg.embeds.is_null() ? json::value(json::array{}) : msg.embeds},
                   {"components", msg.components.is_null() ? json::value(json::array{}) : msg.components},
                   {"pinned", false},
                   {"flags", 0}};
    return o;
  }

  static void apply_edit(message& msg, const json::object& body) {
    if (auto* c = body.if_contains("content"); c && c->is_string()) msg.content = std::string(c->get_string());
    if (auto* e = body.if_contains("embeds")) msg.embeds = *e;
    if (auto* c = body.if_contains("components")) msg.components = *c;
  }

  answer invalid(json::object errs) {
    return error_answer(400, 50035, "Invalid Form Body", std::move(errs));
  }

  answer channel_messages(const request& req, const api_call& call, const std::vector<std::string>& p) {
    const std::string& cid = p[1];
    if (!all_digits(cid)) return error_answer(404, 10003, "Unknown Channel");
    bool create = p.size() == 3;
    if (create ? req.method != "POST" : req.method != "PATCH") return method_not_allowed();
    if (auto bad = body_problem(req, call)) return *bad;
    const json::object& body = call.body.get_object();
    json::object errs;
    bool some = check_message(body, create, errs);
    if (!errs.empty()) return invalid(std::move(errs));
    if (!some) return error_answer(400, 50006, "Cannot send an empty message");
    std::lock_guard lk(mu);
    if (!create) {
      auto it = std::find_if(messages.begin(), messages.end(),
                             [&](const message& x) { return x.channel_id == cid && x.id == p[3]; });
      if (it == messages.end()) return error_answer(404, 10008, "Unknown Message");
      apply_edit(*it, body);
      ++it->edits;
      cv.notify_all();
      return json_answer(200, message_json(*it, true));
    }
    // Create Message: a nonce with enforce_nonce is Discord's idempotency key.
    std::string nonce_key;
    if (auto* n = body.if_contains("nonce"); n && !n->is_null() && body.if_contains("enforce_nonce") &&
                                               body.at("enforce_nonce") == true) {
      nonce_key = cid + "/" + (n->is_string() ? std::string(n->get_string()) : json::serialize(*n));
      if (auto it = nonces.find(nonce_key); it != nonces.end())
        for (const auto& x : messages)
          if (x.id == it->second) return json_answer(200, message_json(x, false));
    }
    message msg;
    msg.channel_id = cid;
    msg.id = snowflake();
    apply_edit(msg, body);
    if (!nonce_key.empty()) nonces[nonce_key] = msg.id;
    messages.push_back(msg);
    cv.notify_all();
    return json_answer(200, message_json(msg, false));
  }

  answer bulk_overwrite(const request& req, const api_call& call, const std::vector<std::string>& p) {
    if (p[1] != opt.application_id) return error_answer(403, 50001, "Missing Access");
    std::string guild = p.size() == 5 ? p[3] : std::string{};
    if (!guild.empty() && guild != opt.guild_id) return error_answer(403, 50001, "Missing Access");
    if (req.method == "GET") {
      std::lock_guard lk(mu);
      auto it = commands.find(guild);
      return json_answer(200, it == commands.end() ? json::array{} : it->second);
    }
    if (req.method != "PUT") return method_not_allowed();
    if (auto bad = body_problem(req, call, true)) return *bad;
    const auto& list = call.body.get_array();
    json::object errs;
    if (list.size() > 100) add_error(errs, {}, "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.");
    std::set<std::string> names;
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::vector<std::string> cp{std::to_string(i)};
      const json::object* entry = named_entry(list[i], cp, names, "APPLICATION_COMMANDS_DUPLICATE_NAME",
                                              "Application command names must be unique", errs);
      if (!entry) continue;
      const auto& c = *entry;
      auto* tv = c.if_contains("type");
      bool chat = !tv || *tv == 1;
      if (chat) check_text(c, "description", 100, true, cp, errs, 1);
      if (auto* o = c.if_contains("options"); o && !o->is_null()) check_options(*o, child(cp, "options"), errs, 0);
    }
    if (!errs.empty()) return invalid(std::move(errs));
    json::array out;
    std::lock_guard lk(mu);
    for (const auto& v : list) {
      json::object c = v.get_object();
      std::string& id = command_ids[guild + "/" + str(c, "name")];
      if (id.empty()) id = snowflake();
      c["id"] = id;
      c["application_id"] = opt.application_id;
      c["version"] = snowflake();
      if (!c.if_contains("type")) c["type"] = 1;
      if (!c.if_contains("default_member_permissions")) c["default_member_permissions"] = nullptr;
      if (!c.if_contains("nsfw")) c["nsfw"] = false;
      if (!guild.empty()) c["guild_id"] = guild;
      out.push_back(std::move(c));
    }
    commands[guild] = out;
    cv.notify_all();
    return json_answer(200, out);
  }

  void finalize(interaction_rec& rec) {  // under mu
    if (rec.final) return;
    rec.final = true;
    finals.push_back(rec.id);
    cv.notify_all();
  }

  message* component_message(const interaction_rec& rec) {  // under mu
    for (auto& x : messages)
      if (x.id == rec.message_id && x.channel_id == rec.channel_id) return &x;
    return nullptr;
  }

  answer callback(const request& req, const api_call& call, const std::vector<std::string>& p) {
    if (req.method != "POST") return method_not_allowed();
    auto now = steady::now();
    interaction_ptr rec;
    {
      std::lock_guard lk(mu);
      auto it = interactions.find(p[1]);
      if (it != interactions.end() && it->second->token == p[2]) rec = it->second;
    }
    if (!rec) {
      protocol_error("interaction callback for an unknown interaction or token: " + cut80(p[1]));
      return error_answer(404, 10062, "Unknown interaction");
    }
    if (auto bad = body_problem(req, call)) return *bad;
    const json::object& body = call.body.get_object();
    auto* tv = body.if_contains("type");
    int type = tv && tv->is_int64() ? static_cast<int>(tv->get_int64()) : 0;
    bool component = rec->type == 3 || rec->type == 5;
    bool allowed = type == 4 || type == 5 || (component && (type == 6 || type == 7)) || (type == 9 && rec->type != 5);
    json::object data;
    if (auto* d = body.if_contains("data"); d && d->is_object()) data = d->get_object();
    json::object errs;
    if (!allowed) add_error(errs, {"type"}, "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type");
    bool some = true;
    if (type == 4 || type == 7) {
      some = check_message(data, type == 4, errs);
    } else if (type == 9) {
      check_modal(data, errs);
    }
    std::lock_guard lk(mu);
    if (rec->callback != 0) {
      errors.push_back("interaction " + rec->id + ": a second callback (type " + std::to_string(type) + ")");
      cv.notify_all();
      return error_answer(400, 40060, "Interaction has already been acknowledged.");
    }
    auto since = now - rec->written.value_or(rec->created);
    if (since > opt.interaction_deadline) {
      errors.push_back("interaction " + rec->id + ": callback after " +
                       std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(since).count()) + " ms");
      rec->resp.late = true;
      rec->resp.type = type;
      rec->resp.latency = since;
      rec->callback = -1;
      finalize(*rec);
      return error_answer(404, 10062, "Unknown interaction");
    }
    if (!errs.empty()) {
      errors.push_back("interaction " + rec->id + ": invalid callback: " + json::serialize(errs));
      cv.notify_all();
      return invalid(std::move(errs));
    }
    if (!some) return error_answer(400, 50006, "Cannot send an empty message");
    rec->callback = type;
    rec->resp.type = type;
    rec->resp.data = data;
    rec->resp.latency = since;
    auto* flags = data.if_contains("flags");
    rec->resp.ephemeral = flags && flags->is_int64() && (flags->get_int64() & flag_ephemeral);
    if (type == 4 || type == 7) rec->resp.content = str(data, "content");
    if (type == 7)
      if (message* x = component_message(*rec)) {
        apply_edit(*x, data);
        ++x->edits;
      }
    if (type == 4 || type == 7 || type == 9) finalize(*rec);
    cv.notify_all();
    return no_content();
  }

  answer webhook(const request& req, const api_call& call, const std::vector<std::string>& p) {
    if (p[1] != opt.application_id) return error_answer(404, 10015, "Unknown Webhook");
    interaction_ptr rec;
    {
      std::lock_guard lk(mu);
      auto it = by_token.find(p[2]);
      if (it != by_token.end()) rec = it->second;
    }
    if (!rec || steady::now() - rec->created > opt.token_lifetime) {
      protocol_error("interaction webhook with an unknown or expired token");
      return error_answer(401, 50027, "Invalid Webhook Token");
    }
    bool original = p.size() == 5 && p[4] == "@original";
    if (p.size() == 5 && !original) return error_answer(404, 10008, "Unknown Message");
    if (original ? req.method != "PATCH" : req.method != "POST") return method_not_allowed();
    if (auto bad = body_problem(req, call)) return *bad;
    const json::object& body = call.body.get_object();
    json::object errs;
    bool some = check_message(body, !original, errs);
    if (!errs.empty()) return invalid(std::move(errs));
    if (!some) return error_answer(400, 50006, "Cannot send an empty message");
    std::lock_guard lk(mu);
    if (rec->callback <= 0 || rec->callback == 9) {
      errors.push_back("interaction " + rec->id + ": webhook " + (original ? "edit" : "follow-up") +
                       " before the interaction was acknowledged with a message");
      cv.notify_all();
      return error_answer(404, original ? 10008 : 10015, original ? "Unknown Message" : "Unknown Webhook");
    }
    message shown;
    shown.channel_id = rec->channel_id;
    if (original) {
      if (auto* c = body.if_contains("content"); c && c->is_string()) rec->resp.content = std::string(c->get_string());
      rec->resp.edited = true;
      shown.id = rec->id;
      if (rec->callback == 6)
        if (message* x = component_message(*rec)) {
          apply_edit(*x, body);
          ++x->edits;
          shown = *x;
        }
      finalize(*rec);
    } else {
      rec->resp.followups.push_back(body);
      shown.id = snowflake();
    }
    apply_edit(shown, body);
    cv.notify_all();
    json::object out = message_json(shown, original);
    out["webhook_id"] = opt.application_id;
    out["application_id"] = opt.application_id;
    return json_answer(200, out);
  }

  // ---- interactions (test thread) --------------------------------------------
  std::string create_interaction(int type, const std::string& user_id, const std::string& channel_id,
                                 const std::string& message_id, bool in_dm, json::object data,
                                 json::value message_obj = nullptr) {
    auto rec = std::make_shared<interaction_rec>();
    rec->id = snowflake();
    rec->token = "aW50ZXJhY3Rpb246" + rec->id + "." + hex16(fnv(rec->id, key)) + hex16(fnv(rec->id, ~key));
    rec->type = type;
    rec->channel_id = channel_id;
    rec->message_id = message_id;
    rec->created = steady::now();
    rec->resp.interaction_id = rec->id;
    json::object d{{"id", rec->id},
                   {"application_id", opt.application_id},
                   {"type", type},
                   {"token", rec->token},
                   {"version", 1},
                   {"channel_id", channel_id},
                   {"data", std::move(data)},
                   {"app_permissions", "2248473465835073"},
                   {"locale", "en-US"},
                   {"entitlements", json::array{}},
                   {"attachment_size_limit", 10485760}};
    if (in_dm) {
      d["user"] = user_object(user_id);
      d["channel"] = json::object{{"id", channel_id}, {"type", 1}, {"flags", 0}};
      d["context"] = 1;
      d["authorizing_integration_owners"] = json::object{{"0", "0"}};
    } else {
      d["guild_id"] = opt.guild_id;
      d["guild_locale"] = "en-US";
      d["guild"] = json::object{{"id", opt.guild_id}, {"locale", "en-US"}, {"features", json::array{}}};
      d["channel"] = json::object{{"id", channel_id}, {"type", 0}, {"guild_id", opt.guild_id}, {"name", "chan-" + channel_id}};
      d["member"] = json::object{{"user", user_object(user_id)},  {"roles", json::array{}},
                                 {"permissions", "2248473465835073"}, {"joined_at", iso_now()},
                                 {"nick", nullptr}, {"deaf", false}, {"mute", false}, {"flags", 0}, {"pending", false}};
      d["context"] = 0;
      d["authorizing_integration_owners"] = json::object{{"0", opt.guild_id}};
    }
    if (!message_obj.is_null()) d["message"] = std::move(message_obj);
    auto out = make_dispatch("INTERACTION_CREATE", d);
    out->interaction = rec;
    {
      std::lock_guard lk(mu);
      interactions[rec->id] = rec;
      by_token[rec->token] = rec;
    }
    asio::post(server.io(), [this, out] { dispatch(out); });
    return rec->id;
  }
};

// ---- public API ------------------------------------------------------------------

fake_discord::fake_discord() : fake_discord(options{}) {}
fake_discord::fake_discord(options o) : impl_(std::make_unique<impl>(std::move(o))) {}
fake_discord::~fake_discord() = default;

std::uint16_t fake_discord::port() const { return impl_->server.port(); }
std::string fake_discord::api_base() const { return "https://" + impl_->origin() + "/api/v10/"; }

int fake_discord::connections() const {
  std::lock_guard lk(impl_->mu);
  return impl_->live;
}
int fake_discord::identifies() const {
  std::lock_guard lk(impl_->mu);
  return impl_->identified;
}
int fake_discord::resumes() const {
  std::lock_guard lk(impl_->mu);
  return impl_->resumed;
}
bool fake_discord::wait_ready(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock lk(impl_->mu);
  return impl_->cv.wait_for(lk, timeout, [&] { return impl_->ready_sent >= n; });
}

std::string fake_discord::command(const std::string& user_id, const std::string& channel_id, const std::string& name,
                                  boost::json::array opts, bool in_dm) {
  impl& m = *impl_;
  std::string cmd_id;
  {
    std::lock_guard lk(m.mu);
    auto it = m.command_ids.find(m.opt.guild_id + "/" + name);
    if (it == m.command_ids.end()) it = m.command_ids.find("/" + name);
    cmd_id = it != m.command_ids.end() ? it->second : std::to_string(1300000000000000000ull + fnv(name) % 1000000000000ull);
  }
  json::object data{{"id", cmd_id}, {"name", name}, {"type", 1}};
  if (!opts.empty()) data["options"] = std::move(opts);
  if (!in_dm) data["guild_id"] = m.opt.guild_id;
  return m.create_interaction(2, user_id, channel_id, "", in_dm, std::move(data));
}

std::string fake_discord::button(const std::string& user_id, const std::string& channel_id,
                                 const std::string& message_id, const std::string& custom_id, bool in_dm) {
  impl& m = *impl_;
  json::value msg = json::object{{"id", message_id}, {"channel_id", channel_id}, {"type", 0}, {"content", ""},
                                 {"author", m.bot_user()}, {"components", json::array{}}};
  {
    std::lock_guard lk(m.mu);
    for (const auto& x : m.messages)
      if (x.id == message_id && x.channel_id == channel_id) msg = m.message_json(x, x.edits > 0);
  }
  json::object data{{"custom_id", custom_id}, {"component_type", 2}};
  return m.create_interaction(3, user_id, channel_id, message_id, in_dm, std::move(data), std::move(msg));
}

std::string fake_discord::modal_submit(const std::string& user_id, const std::string& channel_id,
                                       const std::string& custom_id,
                                       const std::vector<std::pair<std::string, std::string>>& values) {
  json::array rows;
  for (const auto& [id, value] : values)
    rows.push_back(json::object{
        {"type", 1}, {"components", json::array{json::object{{"type", 4}, {"custom_id", id}, {"value", value}}}}});
  json::object data{{"custom_id", custom_id}, {"components", std::move(rows)}};
  return impl_->create_interaction(5, user_id, channel_id, "", false, std::move(data));
}

std::optional<fake_discord::response> fake_discord::wait_response(const std::string& interaction_id,
                                                                  std::chrono::milliseconds timeout) const {
  std::unique_lock lk(impl_->mu);
  std::optional<response> found;
  impl_->cv.wait_for(lk, timeout, [&] {
    auto it = impl_->interactions.find(interaction_id);
    if (it == impl_->interactions.end() || !it->second->final) return false;
    found = it->second->resp;
    return true;
  });
  return found;
}

std::optional<fake_discord::response> fake_discord::next_response(std::chrono::milliseconds timeout) {
  std::unique_lock lk(impl_->mu);
  if (!impl_->cv.wait_for(lk, timeout, [&] { return impl_->next_final < impl_->finals.size(); })) return std::nullopt;
  return impl_->interactions.at(impl_->finals[impl_->next_final++])->resp;
}

std::string fake_discord::token_of(const std::string& interaction_id) const {
  std::lock_guard lk(impl_->mu);
  auto it = impl_->interactions.find(interaction_id);
  return it == impl_->interactions.end() ? std::string{} : it->second->token;
}

std::vector<std::string> fake_discord::protocol_errors() const {
  std::lock_guard lk(impl_->mu);
  return impl_->errors;
}

void fake_discord::drop_links() { impl_->server.drop_all(); }
void fake_discord::close_links(std::uint16_t code) { impl_->server.close_all(code); }

void fake_discord::send_reconnect() {
  impl& m = *impl_;
  m.server.run_sync([&] {
    for (auto& l : m.server.links())
      if (l->usable() && conn_of(l).authed) m.send_op(l, op_reconnect, nullptr);
  });
}

void fake_discord::invalid_session(bool resumable) {
  impl& m = *impl_;
  m.server.run_sync([&] {
    for (auto& l : m.server.links())
      if (l->usable()) m.send_op(l, op_invalid_session, resumable);
    if (!resumable) {
      // A Resume now gets op 9 d=false; an Identify (on this link too) starts afresh.
      for (auto& [id, s] : m.sessions) s->link.reset();
      m.sessions.clear();
      for (auto& l : m.server.links())
        if (l->state) conn_of(l).authed = false;
    }
  });
}

void fake_discord::zombie(bool on) {
  std::lock_guard lk(impl_->mu);
  impl_->zombie = on;
}

void fake_discord::send_raw(const std::string& frame) { impl_->server.send_all(frame); }

void fake_discord::replay_on_next_resume(int n) {
  impl& m = *impl_;
  m.server.run_sync([&] { m.replay_extra = n; });
}

void fake_discord::rate_limit_next(const std::string& route_prefix, double retry_after, bool global, int count) {
  std::lock_guard lk(impl_->mu);
  impl_->limits.push_back({normal_prefix(route_prefix), retry_after, global, count});
}

void fake_discord::fail_next(const std::string& route_prefix, unsigned status, int code, const std::string& msg) {
  std::lock_guard lk(impl_->mu);
  impl_->failures.push_back({normal_prefix(route_prefix), status, code, msg});
}

void fake_discord::set_gateway_bot(std::chrono::milliseconds delay, unsigned status) {
  std::lock_guard lk(impl_->mu);
  impl_->gateway_delay = delay;
  impl_->gateway_status = status;
}

void fake_discord::set_session_start(int remaining, std::chrono::milliseconds reset_after) {
  std::lock_guard lk(impl_->mu);
  impl_->session_remaining = remaining;
  impl_->session_reset_after = reset_after;
}

std::vector<fake_discord::api_call> fake_discord::calls(const std::string& path_prefix) const {
  std::string p = normal_prefix(path_prefix);
  std::lock_guard lk(impl_->mu);
  std::vector<api_call> out;
  for (const auto& c : impl_->calls)
    if (c.path.starts_with(p)) out.push_back(c);
  return out;
}

bool fake_discord::wait_calls(const std::string& path_prefix, std::size_t n, std::chrono::milliseconds timeout) const {
  std::string p = normal_prefix(path_prefix);
  std::unique_lock lk(impl_->mu);
  return impl_->cv.wait_for(lk, timeout, [&] {
    std::size_t k = 0;
    for (const auto& c : impl_->calls)
      if (c.path.starts_with(p)) ++k;
    return k >= n;
  });
}

std::vector<fake_discord::message> fake_discord::messages(const std::string& channel_id) const {
  std::lock_guard lk(impl_->mu);
  std::vector<message> out;
  for (const auto& x : impl_->messages)
    if (channel_id.empty() || x.channel_id == channel_id) out.push_back(x);
  return out;
}

std::string fake_discord::dm_channel_of(const std::string& user_id) { return impl::dm_channel(user_id); }

boost::json::value fake_discord::registered_commands(const std::string& guild_id) const {
  std::lock_guard lk(impl_->mu);
  auto it = impl_->commands.find(guild_id);
  return it == impl_->commands.end() ? boost::json::value(nullptr) : boost::json::value(it->second);
}

}  // namespace signoff::test
