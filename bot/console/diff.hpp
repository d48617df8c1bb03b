#pragma once
// The word diff of a draft's timeline (SPEC "Audit console": revisions "with
// their text and a diff"). Pure: no I/O, bounded work for any input.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace signoff::console {

struct diff_op {
  enum kind { same, added, removed } k;
  std::string text;
  bool operator==(const diff_op&) const = default;
};

// The LCS table is (n+1)*(m+1) cells over the tokens left once the common
// prefix and suffix are trimmed; past this many cells the middle is shown
// as "whole text replaced" instead. 1M cells (2 MB, about 6 ms here) is a
// rewrite of some 500 words on each side; a timeline page renders every
// revision's diff, so this keeps it well inside its time budget.
inline constexpr std::size_t word_diff_max_cells = std::size_t{1} << 20;

// Splits both texts into tokens (runs of white space and runs of anything
// else, white space kept) and returns the edit from `before` to `after`:
// concatenating the `same` and `removed` texts gives `before` back, the
// `same` and `added` texts give `after`. Adjacent ops never share a kind,
// except that a change is always written removed-then-added; white space
// alone between two changes is folded into them so the output reads as
// whole phrases. Never throws on any input except std::bad_alloc.
std::vector<diff_op> word_diff(std::string_view before, std::string_view after);

// The ops as HTML: same text escaped as it is, removed in <del>, added in
// <ins>, every text escaped (see render.hpp `escape`).
std::string render_diff(const std::vector<diff_op>& ops);

}  // namespace signoff::console
