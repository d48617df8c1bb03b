#pragma once
// Mentions in posts that page people, for every platform: the scan that
// finds "@id" of a listed person in text signoff wrote. Each platform says
// how plain text is written (Slack escapes it) and how a mention looks
// (Slack and Discord "<@U…>"); the scan is the same everywhere.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/core/records.hpp"

namespace signoff {

// `text` with each "@id" of a listed person who has a platform ID replaced
// by `tag(person)`, and every other stretch of text passed through `plain`.
// Only whole tokens are replaced ("@bob" but not "@bobby" or "x@bob"); a
// trailing '.' ends a sentence, not an ID; people without a platform ID keep
// "@id" (as plain text). `tag` is called once per mention written, in order.
std::string render_mentions(std::string_view text, const std::vector<mention>& people,
                            const std::function<std::string(std::string_view)>& plain,
                            const std::function<std::string(const mention&)>& tag);

}  // namespace signoff
