// Fuzzes the command grammar: any byte string must parse to a command or a
// named error, never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "handlers/grammar.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  signoff::code_points(line);
  signoff::parse_time_or_ago(line, signoff::time_point{});
  if (!signoff::valid_utf8(line)) return 0;  // the executor records these as raw_hex
  auto r = signoff::cmd::parse(line, signoff::time_point{}, signoff::cmd::limits{64});
  if (auto* c = std::get_if<signoff::cmd::command>(&r)) {
    // Free text must be a verbatim substring of the input.
    if (!c->text.empty() && line.find(c->text) == std::string_view::npos) __builtin_trap();
    if (signoff::code_points(c->text) > 64) __builtin_trap();
  } else if (std::get<signoff::cmd::parse_error>(r).message.empty()) {
    __builtin_trap();  // every refusal names what is wrong
  }
  return 0;
}
