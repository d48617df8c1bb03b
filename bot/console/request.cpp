#include "bot/console/request.hpp"

namespace signoff::console {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      const int hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        out += s[i];
        continue;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string, std::less<>> parse_form(std::string_view s) {
  std::map<std::string, std::string, std::less<>> out;
  while (!s.empty()) {
    const auto amp = s.find('&');
    const std::string_view pair = s.substr(0, amp);
    s = amp == std::string_view::npos ? std::string_view() : s.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string name = url_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
    out.emplace(std::move(name), std::move(value));
  }
  return out;
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    std::string_view part = trim_spaces(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim_spaces(part.substr(0, eq)) == name) return std::string(trim_spaces(part.substr(eq + 1)));
  }
  return std::nullopt;
}

std::string route_of(std::string_view target, std::string_view base_path, std::string& query) {
  const auto q = target.find('?');
  query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
  std::string_view path = target.substr(0, q);
  if (base_path.size() > 1 && path.starts_with(base_path)) {
    path.remove_prefix(base_path.size());
  } else if (base_path.size() > 1 && path == base_path.substr(0, base_path.size() - 1)) {
    path = {};
  } else if (path.starts_with('/')) {
    path.remove_prefix(1);
  }
  return std::string(path);
}

std::string base_path_of(std::string_view base_url) {
  auto scheme = base_url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? base_url : base_url.substr(scheme + 3);
  const auto slash = rest.find('/');
  std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (auto q = path.find_first_of("?#"); q != std::string::npos) path.erase(q);
  if (path.empty() || path.front() != '/') path.insert(path.begin(), '/');
  if (path.back() != '/') path += '/';
  return path;
}

log_filter filter_from(const std::map<std::string, std::string, std::less<>>& q) {
  auto get = [&](std::string_view k) {
    auto it = q.find(k);
    return it == q.end() ? std::string() : it->second;
  };
  log_filter f;
  f.subject = get("subject");
  f.actor = get("actor");
  f.action = get("action");
  f.since = get("since");
  f.until = get("until");
  f.outcome = get("outcome");
  f.platform = get("platform");
  return f;
}

}  // namespace signoff::console
