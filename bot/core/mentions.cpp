#include "bot/core/mentions.hpp"

namespace signoff {

namespace {
bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}
}  // namespace

std::string render_mentions(std::string_view text, const std::vector<mention>& people,
                            const std::function<std::string(std::string_view)>& plain,
                            const std::function<std::string(const mention&)>& tag) {
  std::string out;
  out.reserve(text.size() + 16);
  std::size_t written = 0;  // start of the text not written out yet
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '@' && (i == 0 || !id_char(text[i - 1]))) {
      std::size_t j = i + 1;
      while (j < text.size() && id_char(text[j])) ++j;
      std::size_t end = j;
      while (end > i + 1 && text[end - 1] == '.') --end;
      std::string_view id = text.substr(i + 1, end - i - 1);
      const mention* m = nullptr;
      for (const auto& listed : people)
        if (listed.person == id) m = &listed;
      if (m && !m->platform_id.empty()) {
        out += plain(text.substr(written, i - written));
        out += tag(*m);
        i = written = end;
        continue;
      }
    }
    ++i;
  }
  out += plain(text.substr(written));
  return out;
}

}  // namespace signoff
