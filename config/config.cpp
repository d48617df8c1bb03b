// Lookups on a loaded config, diagnostic formatting, rate parsing and the
// small text helpers the loader and validator share.
#include <algorithm>
#include <charconv>
#include <cstdio>

#include "bot/core/time.hpp"
#include "config/config.hpp"
#include "config/internal.hpp"

namespace signoff::conf {

namespace detail {

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto b = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (b < 0x20 || b == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(b));
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

std::string key_part(std::string_view key) {
  bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
  });
  return bare ? std::string(key) : quote(key);
}

std::string join(std::string_view path, std::string_view key) {
  std::string k = key_part(key);
  return path.empty() ? k : std::string(path) + "." + k;
}

std::string at(std::string_view path, std::size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

namespace {
bool is_space_or_control(char32_t c) noexcept {
  if (c <= 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F)) return true;
  switch (c) {
    case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000: case 0xFEFF:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200B;
  }
}
}  // namespace

bool has_space_or_control(std::string_view s) noexcept {
  // toml++ only hands out valid UTF-8, so a plain decoder is enough here.
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : 4;
    char32_t c = len == 1 ? b : len == 2 ? (b & 0x1Fu) : len == 3 ? (b & 0x0Fu) : (b & 0x07u);
    for (std::size_t k = 1; k < len && i + k < s.size(); ++k)
      c = static_cast<char32_t>((c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu));
    if (is_space_or_control(c)) return true;
    i += len;
  }
  return false;
}

}  // namespace detail

const person* config::find_person(std::string_view id) const {
  for (const auto& p : people)
    if (p.id == id) return &p;
  return nullptr;
}

const person* config::find_by_platform(platform on, std::string_view user_id) const {
  // An empty ID means "not on that platform": it must never match anybody.
  if (user_id.empty()) return nullptr;
  for (const auto& p : people) {
    const std::string* id = p.id_on(on);
    if (id == nullptr) return nullptr;
    if (*id == user_id) return &p;
  }
  return nullptr;
}

const approval_class* config::find_class(std::string_view name) const {
  for (const auto& c : approval)
    if (c.name == name) return &c;
  return nullptr;
}

const route* config::find_route(std::string_view name) const {
  for (const auto& r : escalation)
    if (r.name == name) return &r;
  return nullptr;
}

const channel* config::find_channel(std::string_view name) const {
  for (const auto& c : channels)
    if (c.name == name) return &c;
  return nullptr;
}

const holding_statement* config::find_statement(std::string_view key) const {
  for (const auto& s : statements)
    if (s.key == key) return &s;
  return nullptr;
}

bool config::has_permission(const person& p, std::string_view permission) const {
  auto it = roles.find(std::string(permission));
  if (it == roles.end()) return false;
  const auto& granting = it->second;
  return std::any_of(p.roles.begin(), p.roles.end(), [&](const std::string& r) {
    return std::find(granting.begin(), granting.end(), r) != granting.end();
  });
}

std::string format(const diagnostic& d) {
  return (d.warning ? "warning: " : "") + d.key + ": " + d.message;
}

bool parse_rate(std::string_view s, std::optional<rate_limit>& out) {
  if (s == "off") {
    out.reset();
    return true;
  }
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view count = s.substr(0, slash);
  // Digits only (from_chars would accept a sign); nine digits always fit an int.
  if (count.empty() || count.size() > 9 ||
      !std::all_of(count.begin(), count.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    return false;
  int n = 0;
  std::from_chars(count.data(), count.data() + count.size(), n);
  if (n < 1) return false;
  auto window = parse_duration(s.substr(slash + 1));
  if (!window) return false;
  out = rate_limit{n, std::chrono::duration_cast<std::chrono::seconds>(*window)};
  return true;
}

}  // namespace signoff::conf
