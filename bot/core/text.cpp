#include "bot/core/text.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <stdexcept>

namespace signoff {

bool valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) { ++p; continue; }
    std::size_t n;
    char32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1Fu; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0Fu; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07u; }
    else return false;
    if (static_cast<std::size_t>(end - p) <= n) return false;
    for (std::size_t i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0u) != 0x80u) return false;
      cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    p += n + 1;
  }
  return true;
}

std::size_t code_points(std::string_view s) noexcept {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0u) != 0x80u) ++n;
  return n;
}

std::size_t prefix_bytes(std::string_view s, std::size_t n) noexcept {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0u) == 0x80u) continue;  // continuation byte
    if (count == n) return i;
    ++count;
  }
  return s.size();
}

std::string cut_with_pointer(std::string_view text, std::size_t max_chars, std::string_view draft_id,
                             bool keep_markup) {
  if (code_points(text) <= max_chars) return std::string(text);
  const std::string ptr = draft_id.empty()
                              ? std::string("\xE2\x80\xA6 (cut)")
                              : "\xE2\x80\xA6 (cut: /draft show " + std::string(draft_id) + " for the full text)";
  const auto ptr_chars = code_points(ptr);
  if (ptr_chars >= max_chars) return ptr.substr(0, prefix_bytes(ptr, max_chars));
  auto keep = text.substr(0, prefix_bytes(text, max_chars - ptr_chars));
  if (keep_markup) {
    auto amp = keep.rfind('&');
    if (amp != std::string_view::npos && keep.find(';', amp) == std::string_view::npos) keep = keep.substr(0, amp);
    auto lt = keep.rfind('<');
    if (lt != std::string_view::npos && keep.find('>', lt) == std::string_view::npos) keep = keep.substr(0, lt);
  }
  return std::string(keep) + ptr;
}

std::string to_hex(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xF]);
  }
  return out;
}

std::string sha256_hex(std::string_view s) {
  std::array<unsigned char, 32> md{};
  unsigned int len = 0;
  if (EVP_Digest(s.data(), s.size(), md.data(), &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  return to_hex(std::string_view(reinterpret_cast<const char*>(md.data()), len));
}

std::string without_controls(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  return out;
}

namespace {

constexpr char32_t bad_cp = 0xFFFFFFFF;

// Decodes the code point at s[i] and advances i; bad_cp (advancing one byte)
// for an ill-formed sequence.
char32_t next_cp(std::string_view s, std::size_t& i) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  const std::size_t left = s.size() - i;
  unsigned char c = p[0];
  if (c < 0x80) {
    ++i;
    return c;
  }
  std::size_t n;
  char32_t cp;
  if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1Fu; }
  else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0Fu; }
  else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07u; }
  else { ++i; return bad_cp; }
  if (left <= n) { ++i; return bad_cp; }
  for (std::size_t k = 1; k <= n; ++k) {
    if ((p[k] & 0xC0u) != 0x80u) { ++i; return bad_cp; }
    cp = (cp << 6) | (p[k] & 0x3Fu);
  }
  if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return bad_cp;
  }
  i += n + 1;
  return cp;
}

// Characters that rewrite or hide text (beyond line breaks and tabs).
bool rewrites(char32_t cp) noexcept {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

bool is_invisible(char32_t cp) noexcept {
  return rewrites(cp) || cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x2060 || cp == 0xFEFF || cp == 0x180E;
}

std::string display(std::string_view s, bool one_line, std::string_view line_break_as = {}) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t start = i;
    const char32_t cp = next_cp(s, i);
    if (cp == bad_cp) {
      out += "\xEF\xBF\xBD";
      continue;
    }
    const bool line_break = cp == '\n' || cp == 0x2028 || cp == 0x2029 ||
                            (cp == '\r' && i < s.size() && s[i] == '\n');
    if (cp == '\r' && line_break) continue;  // CR LF: the LF breaks the line
    if (line_break) {
      if (one_line) out += line_break_as;
      else out += '\n';
    } else if (cp == '\t') {
      out += one_line ? ' ' : '\t';
    } else if (rewrites(cp)) {
      out += '?';
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  return out;
}

}  // namespace

std::string display_text(std::string_view s) { return display(s, false); }
std::string display_line(std::string_view s, std::string_view line_break_as) {
  return display(s, true, line_break_as);
}

bool has_invisible(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const char32_t cp = next_cp(s, i);
    if (cp == bad_cp || is_invisible(cp)) return true;
  }
  return false;
}

std::string quote_arg(std::string_view s, std::size_t max) {
  std::string out = "'";
  std::size_t i = 0, n = 0;
  const std::size_t total = code_points(s);
  while (i < s.size()) {
    if (n == max) {
      out += "\xE2\x80\xA6' (" + std::to_string(total) + " characters)";
      return out;
    }
    const std::size_t start = i;
    const char32_t cp = next_cp(s, i);
    ++n;
    if (cp == bad_cp) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "<0x%02X>", static_cast<unsigned char>(s[start]));
      out += buf;
    } else if (is_invisible(cp)) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "<U+%04X>", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  out += "'";
  return out;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

}  // namespace signoff
