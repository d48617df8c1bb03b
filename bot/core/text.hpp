#pragma once
// Pure text helpers: UTF-8 validation, code point counting, hex, SHA-256.
#include <cstddef>
#include <string>
#include <string_view>

namespace signoff {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

// Number of Unicode code points in well-formed UTF-8 `s`.
std::size_t code_points(std::string_view s) noexcept;

// Lowercase hex of the bytes of `s`.
std::string to_hex(std::string_view s);

// Lowercase hex SHA-256 of the bytes of `s` (OpenSSL).
std::string sha256_hex(std::string_view s);

// Replaces bytes below 0x20 and 0x7F with '?': audit columns other than
// `detail` must never hold them (SPEC: the 0x1F join stays unambiguous).
std::string without_controls(std::string_view s);

// Trims ASCII spaces and tabs from both ends.
std::string_view trim(std::string_view s) noexcept;

}  // namespace signoff
