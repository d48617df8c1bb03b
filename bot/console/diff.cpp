#include "bot/console/diff.hpp"

#include <algorithm>
#include <cstdint>

#include "bot/console/render.hpp"

namespace signoff::console {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool all_space(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_space);
}

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const bool sp = is_space(s[i]);
    std::size_t j = i + 1;
    while (j < s.size() && is_space(s[j]) == sp) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// Appends, merging with the previous op of the same kind.
void push(std::vector<diff_op>& ops, diff_op::kind k, std::string_view text) {
  if (text.empty()) return;
  if (!ops.empty() && ops.back().k == k) {
    ops.back().text += text;
  } else {
    ops.push_back({k, std::string(text)});
  }
}

// Folds white space that sits alone between two changes into both sides,
// and writes each change as removed-then-added.
std::vector<diff_op> tidy(const std::vector<diff_op>& raw) {
  std::vector<diff_op> out;
  std::string del, ins;
  bool in_change = false;
  auto flush = [&] {
    push(out, diff_op::removed, del);
    push(out, diff_op::added, ins);
    del.clear();
    ins.clear();
    in_change = false;
  };
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const diff_op& op = raw[i];
    if (op.k == diff_op::removed) {
      del += op.text;
      in_change = true;
    } else if (op.k == diff_op::added) {
      ins += op.text;
      in_change = true;
    } else if (in_change && i + 1 < raw.size() && all_space(op.text)) {
      // raw is merged, so the op after a `same` is a change.
      del += op.text;
      ins += op.text;
    } else {
      flush();
      push(out, diff_op::same, op.text);
    }
  }
  flush();
  return out;
}

}  // namespace

std::vector<diff_op> word_diff(std::string_view before, std::string_view after) {
  const auto a = tokens(before);
  const auto b = tokens(after);
  std::size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  std::size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre &&
         a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) {
    ++suf;
  }
  const std::size_t n = a.size() - pre - suf;
  const std::size_t m = b.size() - pre - suf;

  std::vector<diff_op> raw;
  for (std::size_t i = 0; i < pre; ++i) push(raw, diff_op::same, a[i]);

  const bool too_big = n != 0 && m != 0 && (n + 1) > word_diff_max_cells / (m + 1);
  if (n == 0 || m == 0 || too_big) {
    for (std::size_t i = 0; i < n; ++i) push(raw, diff_op::removed, a[pre + i]);
    for (std::size_t j = 0; j < m; ++j) push(raw, diff_op::added, b[pre + j]);
  } else {
    // len[i][j]: LCS length of a's middle from i and b's middle from j.
    // The cap keeps min(n, m) under 2^10, so 16 bits hold any length.
    const std::size_t w = m + 1;
    std::vector<std::uint16_t> len((n + 1) * w, 0);
    for (std::size_t i = n; i-- > 0;) {
      for (std::size_t j = m; j-- > 0;) {
        len[i * w + j] = a[pre + i] == b[pre + j]
                             ? static_cast<std::uint16_t>(len[(i + 1) * w + j + 1] + 1)
                             : std::max(len[(i + 1) * w + j], len[i * w + j + 1]);
      }
    }
    std::size_t i = 0, j = 0;
    while (i < n && j < m) {
      if (a[pre + i] == b[pre + j]) {
        push(raw, diff_op::same, a[pre + i]);
        ++i;
        ++j;
      } else if (len[(i + 1) * w + j] >= len[i * w + j + 1]) {
        push(raw, diff_op::removed, a[pre + i++]);
      } else {
        push(raw, diff_op::added, b[pre + j++]);
      }
    }
    for (; i < n; ++i) push(raw, diff_op::removed, a[pre + i]);
    for (; j < m; ++j) push(raw, diff_op::added, b[pre + j]);
  }

  for (std::size_t i = a.size() - suf; i < a.size(); ++i) push(raw, diff_op::same, a[i]);
  return tidy(raw);
}

std::string render_diff(const std::vector<diff_op>& ops) {
  std::string out;
  for (const auto& op : ops) {
    switch (op.k) {
      case diff_op::same: out += escape(op.text); break;
      case diff_op::added: out += "<ins>" + escape(op.text) + "</ins>"; break;
      case diff_op::removed: out += "<del>" + escape(op.text) + "</del>"; break;
    }
  }
  return out;
}

}  // namespace signoff::console
