// Fuzzes config loading and holding-statement templates: any input yields a
// config or diagnostics, never a crash.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string_view>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = signoff::conf::load_string(text, "fuzz.toml");
  if (!r.ok() && r.diagnostics.empty()) __builtin_trap();  // refused without saying why
  auto t = signoff::conf::parse_template(text);
  if (t.error.empty()) {
    std::map<std::string, std::string> values;
    for (const auto& p : t.placeholders) values[p] = "{" + p + "}";
    // Filling every placeholder with itself must give the template back.
    if (signoff::conf::fill_template(text, values) != text) __builtin_trap();
  }
  std::optional<signoff::conf::rate_limit> rate;
  signoff::conf::parse_rate(text, rate);
  return 0;
}
