// A hand-picked slice of Unicode's confusables (UTS #39): the Cyrillic and
// Greek letters that render like Latin ones in common fonts, fullwidth
// forms, and the digits people mistype for letters. Enough to catch the
// person ids a copy-paste or a keyboard layout produces; not a security
// boundary (an id is matched exactly everywhere else).
#include "config/confusables.hpp"

#include <algorithm>

namespace signoff::conf::detail {
namespace {

// Decodes the code point at s[i] and advances i past it. On a byte that
// starts no valid sequence (stray continuation, overlong form, surrogate,
// beyond U+10FFFF, truncated) returns false and advances one byte.
bool next_code_point(std::string_view s, std::size_t& i, char32_t& c) {
  auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    c = b0;
    ++i;
    return true;
  }
  std::size_t len = 0;
  char32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    min = 0x80;
    c = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    min = 0x800;
    c = b0 & 0x0Fu;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    min = 0x10000;
    c = b0 & 0x07u;
  } else {
    ++i;
    return false;
  }
  if (s.size() - i < len) {
    ++i;
    return false;
  }
  for (std::size_t k = 1; k < len; ++k) {
    auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0u) != 0x80u) {
      ++i;
      return false;
    }
    c = static_cast<char32_t>((c << 6) | (b & 0x3Fu));
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
    ++i;
    return false;
  }
  i += len;
  return true;
}

// Stands for "looks like a capital I": resolved by the capital_i reading.
constexpr char capital_i_like = 'I';

// The ASCII character `c` passes for, or 0 when it passes for none.
char passes_for(char32_t c) noexcept {
  if (c >= 0xFF01 && c <= 0xFF5E) c -= 0xFEE0;  // fullwidth ASCII
  if (c < 0x80) {
    auto ch = static_cast<char>(c);
    if (ch == 'I') return capital_i_like;
    if (ch >= 'A' && ch <= 'Z') return static_cast<char>(ch - 'A' + 'a');
    if (ch == '0') return 'o';
    if (ch == '1') return 'l';
    return ch;
  }
  switch (c) {
    // Cyrillic small letters
    case 0x0430: return 'a';
    case 0x0435: return 'e';
    case 0x043E: return 'o';
    case 0x0440: return 'p';
    case 0x0441: return 'c';
    case 0x0443: return 'y';
    case 0x0445: return 'x';
    case 0x0455: return 's';
    case 0x0456: return 'i';
    case 0x0458: return 'j';
    case 0x04CF: return 'l';  // palochka
    case 0x0501: return 'd';  // komi de
    // Cyrillic capital letters
    case 0x0405: return 's';
    case 0x0406: return capital_i_like;
    case 0x0408: return 'j';
    case 0x0410: return 'a';
    case 0x0412: return 'b';
    case 0x0415: return 'e';
    case 0x041A: return 'k';
    case 0x041C: return 'm';
    case 0x041D: return 'h';
    case 0x041E: return 'o';
    case 0x0420: return 'p';
    case 0x0421: return 'c';
    case 0x0422: return 't';
    case 0x0425: return 'x';
    case 0x04C0: return capital_i_like;  // capital palochka, the twin of small ӏ
    // Greek small letters
    case 0x03B1: return 'a';
    case 0x03B5: return 'e';
    case 0x03B9: return 'i';
    case 0x03BA: return 'k';
    case 0x03BD: return 'v';
    case 0x03BF: return 'o';
    case 0x03C1: return 'p';
    case 0x03C4: return 't';
    case 0x03C5: return 'u';
    case 0x03C7: return 'x';
    // Greek capital letters
    case 0x0391: return 'a';
    case 0x0392: return 'b';
    case 0x0395: return 'e';
    case 0x0396: return 'z';
    case 0x0397: return 'h';
    case 0x0399: return capital_i_like;
    case 0x039A: return 'k';
    case 0x039C: return 'm';
    case 0x039D: return 'n';
    case 0x039F: return 'o';
    case 0x03A1: return 'p';
    case 0x03A4: return 't';
    case 0x03A5: return 'y';
    case 0x03A7: return 'x';
    default: return 0;
  }
}

}  // namespace

std::string skeleton(std::string_view s, capital_i i_reading) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t start = i;
    char32_t c = 0;
    if (!next_code_point(s, i, c)) {
      out += s[start];  // kept raw: never equal to a decoded character
      continue;
    }
    char ch = passes_for(c);
    if (ch == capital_i_like)
      out += i_reading == capital_i::as_l ? 'l' : 'i';
    else if (ch != 0)
      out += ch;
    else
      out.append(s.substr(start, i - start));
  }
  return out;
}

bool look_alike(std::string_view a, std::string_view b) {
  if (a == b) return false;
  return skeleton(a, capital_i::as_i) == skeleton(b, capital_i::as_i) ||
         skeleton(a, capital_i::as_l) == skeleton(b, capital_i::as_l);
}

std::vector<char32_t> non_ascii(std::string_view s) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    char32_t c = 0;
    if (!next_code_point(s, i, c)) c = 0xFFFD;
    if (c >= 0x80 && std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

}  // namespace signoff::conf::detail
