// Button clicks and dialogs (Mattermost "Interactive messages" and
// "Interactive dialogs"): tags, the requests the server POSTs to the
// actions URL, trigger IDs, and the bodies we answer with.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <climits>

#include "bot/core/ids.hpp"
#include "bot/core/text.hpp"
#include "bot/protocol/json_read.hpp"
#include "bot/protocol/mattermost/codec.hpp"

namespace signoff::mattermost {
namespace json = boost::json;
using json_read::excerpt;
using json_read::field;
using json_read::text_of;

namespace {

constexpr std::size_t dialog_title_max = 24;     // Mattermost: "Maximum 24 characters"
constexpr std::size_t textarea_max = 3000;       // a textarea's max_length limit
constexpr std::size_t trigger_id_max = 1024;     // far above the ~150 bytes the server makes

// Hex HMAC-SHA256; "" when OpenSSL fails (tags_equal refuses "").
std::string hmac_hex(std::string_view key, std::string_view message) {
  static const unsigned char no_key = 0;
  if (key.size() > static_cast<std::size_t>(INT_MAX)) return {};
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  const void* k = key.empty() ? static_cast<const void*>(&no_key) : static_cast<const void*>(key.data());
  if (!HMAC(EVP_sha256(), k, static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
            message.size(), md.data(), &len))
    return {};
  return to_hex(std::string_view(reinterpret_cast<const char*>(md.data()), len));
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 (padding optional); nullopt on any other character.
std::optional<std::string> base64_decode(std::string_view s) {
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  if (s.size() % 4 == 1) return std::nullopt;
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = base64_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

bool alnum(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

bool lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::string action_tag(std::string_view secret, std::string_view action_name, std::string_view subject) {
  std::string msg = "signoff/mattermost/v1\x1F";
  msg += action_name;
  msg += '\x1F';
  msg += subject;
  return hmac_hex(secret, msg);
}

std::string dialog_tag(std::string_view secret, std::string_view subject, std::string_view user_id) {
  std::string msg = "signoff/mattermost/dialog/v1\x1F";
  msg += subject;
  msg += '\x1F';
  msg += user_id;
  return hmac_hex(secret, msg);
}

bool tags_equal(std::string_view a, std::string_view b) {
  if (a.empty() || a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::variant<click, dialog_submission, decode_error> decode_action_request(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return decode_error{"action request is not JSON: '" + excerpt(body) + "'"};
  if (!v.is_object()) return decode_error{"action request is not a JSON object: '" + excerpt(body) + "'"};
  const auto user_id = text_of(field(v, "user_id"));
  if (text_of(field(v, "type")) == "dialog_submission") {
    if (user_id.empty()) return decode_error{"dialog submission without user_id"};
    dialog_submission d;
    d.user_id = user_id;
    d.channel_id = text_of(field(v, "channel_id"));
    d.team_id = text_of(field(v, "team_id"));
    d.callback_id = text_of(field(v, "callback_id"));
    d.state = text_of(field(v, "state"));
    d.reason = text_of(field(field(v, "submission"), "reason"));
    const auto* c = field(v, "cancelled");
    d.cancelled = c && c->is_bool() && c->get_bool();
    return d;
  }
  const auto* context = field(v, "context");
  if (context && context->is_object()) {
    if (user_id.empty()) return decode_error{"button click without user_id"};
    click k;
    k.user_id = user_id;
    k.user_name = text_of(field(v, "user_name"));
    k.channel_id = text_of(field(v, "channel_id"));
    k.team_id = text_of(field(v, "team_id"));
    k.post_id = text_of(field(v, "post_id"));
    k.trigger_id = text_of(field(v, "trigger_id"));
    k.action = text_of(field(context, "action"));
    k.subject = text_of(field(context, "subject"));
    k.tag = text_of(field(context, "tag"));
    return k;
  }
  return decode_error{"action request is neither a click nor a dialog submission"};
}

std::optional<dialog_state> parse_dialog_state(std::string_view state) {
  const auto a = state.find(' ');
  if (a == std::string_view::npos) return std::nullopt;
  const auto b = state.find(' ', a + 1);
  if (b == std::string_view::npos || state.find(' ', b + 1) != std::string_view::npos) return std::nullopt;
  dialog_state d{std::string(state.substr(0, a)), std::string(state.substr(a + 1, b - a - 1)),
                 std::string(state.substr(b + 1))};
  const auto dr = parse_draft_rev(d.subject);
  if (!dr || dr->value() != d.subject) return std::nullopt;
  if (d.post_id.empty() || d.post_id.size() > 64 || !alnum(d.post_id)) return std::nullopt;
  if (d.tag.size() != 64 || !lower_hex(d.tag)) return std::nullopt;
  return d;
}

std::string dialog_state_text(std::string_view subject, std::string_view post_id, std::string_view tag) {
  std::string s(subject);
  s += ' ';
  s += post_id;
  s += ' ';
  s += tag;
  return s;
}

std::optional<trigger> decode_trigger_id(std::string_view trigger_id) {
  if (trigger_id.empty() || trigger_id.size() > trigger_id_max) return std::nullopt;
  const auto raw = base64_decode(trigger_id);
  if (!raw) return std::nullopt;
  // clientTriggerId ":" userId ":" millis ":" signature (base64: no ':').
  std::vector<std::string_view> parts;
  std::string_view rest = *raw;
  for (;;) {
    const auto colon = rest.find(':');
    parts.push_back(rest.substr(0, colon));
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  if (parts.size() != 4 || parts[1].empty() || parts[2].empty() || parts[2].size() > 18) return std::nullopt;
  if (!std::all_of(parts[2].begin(), parts[2].end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  trigger t;
  t.user_id = std::string(parts[1]);
  for (char c : parts[2]) t.millis = t.millis * 10 + (c - '0');
  return t;
}

json::object dialog_open_body(std::string_view trigger_id, std::string_view url, std::string_view subject,
                              std::string_view state, std::size_t max_text) {
  std::string title = "Reject " + std::string(subject);
  title.resize(prefix_bytes(title, dialog_title_max));
  json::object reason{{"display_name", "Reason"},
                      {"name", "reason"},
                      {"type", "textarea"},
                      {"max_length", static_cast<std::int64_t>(std::clamp<std::size_t>(max_text, 1, textarea_max))},
                      {"optional", false},
                      {"help_text", "Recorded in the audit log."}};
  json::object dialog{{"callback_id", reject_callback_id},
                      {"title", std::move(title)},
                      {"elements", json::array{std::move(reason)}},
                      {"submit_label", "Reject"},
                      {"notify_on_cancel", false},
                      {"state", state}};
  return json::object{{"trigger_id", trigger_id}, {"url", url}, {"dialog", std::move(dialog)}};
}

std::string action_response(std::string_view ephemeral_text) {
  if (ephemeral_text.empty()) return "{}";
  return json::serialize(json::object{{"ephemeral_text", cut_with_pointer(ephemeral_text, message_max, {})}});
}

std::string dialog_field_error(std::string_view field_name, std::string_view message) {
  return json::serialize(json::object{{"errors", json::object{{field_name, message}}}});
}

}  // namespace signoff::mattermost
