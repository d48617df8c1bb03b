#pragma once
// Pure text helpers: UTF-8 validation, code point counting, hex, SHA-256.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace signoff {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

// Number of Unicode code points in well-formed UTF-8 `s`.
std::size_t code_points(std::string_view s) noexcept;

// Bytes taken by the first `n` code points of `s` (all of it when it has
// fewer): cutting there never splits a UTF-8 sequence.
std::size_t prefix_bytes(std::string_view s, std::size_t n) noexcept;

// SPEC "Cards and posts longer than a platform allows are cut with a pointer
// to /draft show": `text` when it has at most `max_chars` code points, else
// its head (never split inside a UTF-8 sequence) followed by
// "… (cut: /draft show D-n for the full text)" ("… (cut)" without a draft
// ID), in at most `max_chars` code points all told. With `keep_markup`, the
// cut also backs off an entity ("&amp;") or a tag ("<@U1>", "<#C2>") it
// would split, so text with markup stays well formed. Every platform codec
// cuts through this one function.
std::string cut_with_pointer(std::string_view text, std::size_t max_chars, std::string_view draft_id,
                             bool keep_markup = false);

// Lowercase hex of the bytes of `s`.
std::string to_hex(std::string_view s);

// Lowercase hex SHA-256 of the bytes of `s` (OpenSSL).
std::string sha256_hex(std::string_view s);

// Replaces bytes below 0x20 and 0x7F with '?': audit columns other than
// `detail` must never hold them (SPEC: the 0x1F join stays unambiguous).
std::string without_controls(std::string_view s);

// Text for people to read (chat replies, posts, cards, shell output). User
// text may hold bytes that rewrite what a reader sees: a carriage return
// that overwrites its own line on a terminal, escape sequences, C1 controls,
// bidirectional overrides (U+202A-U+202E, U+2066-U+2069), line separators.
// Each is shown as '?'; invalid UTF-8 as U+FFFD. `display_text` keeps line
// breaks (CR LF becomes LF) and tabs; `display_line` is for one-line fields
// (a note inside a record line): line breaks become `line_break_as`, so no
// text can start a line of its own.
std::string display_text(std::string_view s);
std::string display_line(std::string_view s, std::string_view line_break_as = " \u23CE ");

// An argument quoted for an error message: invisible and control characters
// made visible as <U+XXXX> (so 'D-3<U+200B>' is not mistaken for D-3), cut
// to `max` code points with "… (N characters)" so an oversized argument is
// never echoed in full.
std::string quote_arg(std::string_view s, std::size_t max = 40);

// True when `s` holds a character that shows as nothing or rewrites the text
// around it (controls, zero-width characters, bidi controls, BOM, soft hyphen).
bool has_invisible(std::string_view s) noexcept;

// Trims ASCII spaces and tabs from both ends.
std::string_view trim(std::string_view s) noexcept;
// "a, b, c" (or joined by `sep`).
std::string join(const std::vector<std::string>& v, std::string_view sep = ", ");

}  // namespace signoff
