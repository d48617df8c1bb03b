// URL parsing for the transports: no Beast here, so this TU stays cheap.
#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "bot/net/net.hpp"

namespace signoff::net {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

const char* default_port(const std::string& scheme) {
  return scheme == "https" || scheme == "wss" ? "443" : "80";
}

bool valid_port(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  unsigned v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v >= 1 && v <= 65535;
}

// Host names, IPv4 literals and the inside of [IPv6] brackets: anything that
// could smuggle a second authority, a path or header text is refused.
bool valid_host(std::string_view h, bool bracketed) {
  if (h.empty()) return false;
  for (char c : h) {
    const auto u = static_cast<unsigned char>(c);
    const bool ok = std::isalnum(u) || c == '-' || c == '.' || (bracketed && (c == ':' || c == '%'));
    if (!ok) return false;
  }
  return true;
}

// IPv6 literals go back into brackets wherever a port may follow.
std::string bracketed(const std::string& host) {
  return host.find(':') == std::string::npos ? host : "[" + host + "]";
}

}  // namespace

std::string url::origin() const { return scheme + "://" + bracketed(host) + ":" + port; }

std::string url::authority() const {
  return port == default_port(scheme) ? bracketed(host) : bracketed(host) + ":" + port;
}

std::optional<url> parse_url(std::string_view text) {
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  url u;
  u.scheme = lower(text.substr(0, sep));
  if (u.scheme != "https" && u.scheme != "http" && u.scheme != "wss" && u.scheme != "ws") return std::nullopt;
  text.remove_prefix(sep + 3);

  const auto auth_end = text.find_first_of("/?#");
  std::string_view auth = text.substr(0, auth_end);
  std::string_view rest = auth_end == std::string_view::npos ? std::string_view{} : text.substr(auth_end);
  // Credentials in the URL would end up in logs; the transports take tokens separately.
  if (auth.find('@') != std::string_view::npos) return std::nullopt;

  std::string_view host, port;
  bool bracketed = false;
  if (!auth.empty() && auth.front() == '[') {
    const auto close = auth.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = auth.substr(1, close - 1);
    bracketed = true;
    auto after = auth.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
      if (!valid_port(port)) return std::nullopt;
    }
  } else {
    const auto colon = auth.find(':');
    host = auth.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = auth.substr(colon + 1);
      if (!valid_port(port)) return std::nullopt;
    }
  }
  if (!valid_host(host, bracketed)) return std::nullopt;
  u.host = lower(host);
  u.port = port.empty() ? default_port(u.scheme) : std::string(port);

  // The fragment never goes on the wire.
  rest = rest.substr(0, rest.find('#'));
  for (char c : rest)  // no spaces or control characters in a request line
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
  u.target = rest.empty() ? "/" : (rest.front() == '?' ? "/" + std::string(rest) : std::string(rest));
  return u;
}

bool is_loopback_host(std::string_view host) {
  const std::string h = lower(host);
  return h == "127.0.0.1" || h == "::1" || h == "[::1]" || h == "localhost";
}

api_base parse_api_base(std::string_view key, const std::string& text) {
  auto u = parse_url(text);
  if (!u || (u->scheme != "https" && u->scheme != "http"))
    throw std::runtime_error(std::string(key) + ": not an http(s) URL: " + text);
  if (!u->tls() && !is_loopback_host(u->host))
    throw std::runtime_error(std::string(key) + ": plain http is only allowed on a loopback address");
  api_base b{*u, u->target};
  if (b.prefix.empty() || b.prefix.back() != '/') b.prefix += '/';
  return b;
}

}  // namespace signoff::net
