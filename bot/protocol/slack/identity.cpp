#include "bot/protocol/slack/identity.hpp"

namespace signoff::slack {

actor actor_for(const origin& from, std::string_view envelope_id) {
  actor a;
  a.platform = platform::slack;
  a.workspace = from.team_id;
  a.channel = from.channel_id;
  a.platform_user = from.user_id;
  a.envelope = std::string(envelope_id);
  return a;
}

namespace {
bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}
}  // namespace

std::string render_mentions(std::string_view text, const std::vector<mention>& people) {
  std::string out;
  out.reserve(text.size() + 16);
  std::size_t plain = 0;  // start of the text not written out yet
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '@' && (i == 0 || !id_char(text[i - 1]))) {
      std::size_t j = i + 1;
      while (j < text.size() && id_char(text[j])) ++j;
      // A trailing '.' ends a sentence, not an ID.
      std::size_t end = j;
      while (end > i + 1 && text[end - 1] == '.') --end;
      std::string_view id = text.substr(i + 1, end - i - 1);
      const mention* m = nullptr;
      for (const auto& listed : people)
        if (listed.person == id) m = &listed;
      if (m && !m->platform_id.empty()) {
        out += escape_mrkdwn(text.substr(plain, i - plain));
        out += "<@" + m->platform_id + ">";
        i = plain = end;
        continue;
      }
    }
    ++i;
  }
  out += escape_mrkdwn(text.substr(plain));
  return out;
}

}  // namespace signoff::slack
