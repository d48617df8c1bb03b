#pragma once
// Look-alike names: what check-config uses to warn about person ids that a
// reader would take for one another (`bob`, `Bob`, `bоb` with a Cyrillic о).
// Pure; a small fixed table, not Unicode's whole confusables.txt.
#include <string>
#include <string_view>
#include <vector>

namespace signoff::conf::detail {

// How a capital I (and its Greek, Cyrillic and fullwidth twins) is read.
// One skeleton cannot serve both readings: equal skeletons are transitive,
// and "ivan" (small i) must match "Ivan" without matching "lvan".
enum class capital_i {
  as_i,  // case folding: "Ivan" ~ "ivan"
  as_l,  // shape: "Ivan" ~ "lvan", "bIll" ~ "blll"
};

// `s` reduced to what it looks like: ASCII letters lower-cased; Cyrillic
// а е о р с у х і ј ѕ ԁ ӏ, А В Е К М Н О Р С Т Х І Ј Ѕ, Greek
// α ε ι κ ν ο ρ τ υ χ, Α Β Ε Ζ Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ and fullwidth ASCII
// (U+FF01-FF5E) mapped to the lower-case ASCII they imitate; 0 -> o, 1 -> l.
// Every other character is kept as it is. `s` is decoded as UTF-8; a byte
// that starts no valid sequence is kept as that byte, so it never matches a
// real character.
std::string skeleton(std::string_view s, capital_i i = capital_i::as_i);

// True when `a` and `b` differ but have the same skeleton under either
// reading of capital I.
bool look_alike(std::string_view a, std::string_view b);

// The distinct non-ASCII code points of `s`, in order of first appearance
// (U+FFFD stands for an invalid byte): what a look-alike warning points at,
// since the terminal shows a Cyrillic о exactly like an o.
std::vector<char32_t> non_ascii(std::string_view s);

}  // namespace signoff::conf::detail
