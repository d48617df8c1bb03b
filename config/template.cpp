// Holding-statement templates: literal text with `{name}` placeholders.
// There is no escape for a literal brace: statements are prose, and a stray
// brace is far more likely a typo than intent, so it is an error.
#include <algorithm>

#include "config/config.hpp"
#include "config/internal.hpp"

namespace signoff::conf {
namespace {

bool valid_placeholder_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
  });
}

// "line L, column C" of byte offset `off`, columns counted in code points so
// the position matches what an editor shows for multi-line statements.
std::string position(std::string_view text, std::size_t off) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < off && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0u) != 0x80u) {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

// The one scanner behind parse_template and fill_template, so both always
// agree on what a placeholder is. Hands literal runs and placeholder names to
// the callbacks in order; returns the first error, "" when well formed. On an
// error the rest of the text is handed over as literal, so nothing is lost.
template <class OnLiteral, class OnPlaceholder>
std::string scan(std::string_view text, OnLiteral&& on_literal, OnPlaceholder&& on_placeholder) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size();) {
    std::string error;
    std::size_t close = std::string_view::npos;
    if (text[i] == '}') {
      error = "unmatched \"}\" at " + position(text, i);
    } else if (text[i] == '{') {
      close = text.find_first_of("{}", i + 1);
      if (close == std::string_view::npos || text[close] == '{') {
        error = "unmatched \"{\" at " + position(text, i);
      } else {
        std::string_view name = text.substr(i + 1, close - i - 1);
        if (name.empty())
          error = "empty placeholder \"{}\" at " + position(text, i);
        else if (!valid_placeholder_name(name))
          error = "bad placeholder name " + detail::quote(name) + " at " + position(text, i) +
                  " (use letters, digits, _ and -)";
      }
    } else {
      ++i;
      continue;
    }
    if (!error.empty()) {
      on_literal(text.substr(start));
      return error;
    }
    on_literal(text.substr(start, i - start));
    on_placeholder(std::string(text.substr(i + 1, close - i - 1)));
    i = start = close + 1;
  }
  on_literal(text.substr(start));
  return {};
}

}  // namespace

template_parse parse_template(std::string_view text) {
  template_parse out;
  out.error = scan(
      text, [](std::string_view) {},
      [&](std::string name) {
        if (std::find(out.placeholders.begin(), out.placeholders.end(), name) ==
            out.placeholders.end())
          out.placeholders.push_back(std::move(name));
      });
  return out;
}

std::string fill_template(std::string_view text, const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(text.size());
  // values.at: a missing value is a caller bug; throwing beats posting a
  // statement with a raw `{placeholder}` in it.
  scan(
      text, [&](std::string_view literal) { out += literal; },
      [&](const std::string& name) { out += values.at(name); });
  return out;
}

}  // namespace signoff::conf
