#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/config.hpp"

namespace signoff::conf {

std::optional<std::string> read_secret_value(const secret_ref& ref, std::string_view key,
                                             std::string& problem) {
  std::string value;
  if (!ref.file.empty()) {
    std::ifstream in(ref.file, std::ios::binary);
    if (!in) {
      problem = std::string(key) + "_file: cannot read " + ref.file;
      return std::nullopt;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    value = ss.str();
  } else if (!ref.env.empty()) {
    const char* v = std::getenv(ref.env.c_str());
    if (!v) {
      problem = std::string(key) + "_env: environment variable " + ref.env + " is not set";
      return std::nullopt;
    }
    value = v;
  } else {
    problem = std::string(key) + ": neither " + std::string(key) + "_file nor " + std::string(key) +
              "_env is set";
    return std::nullopt;
  }
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' ' ||
                            value.back() == '\t'))
    value.pop_back();
  if (value.empty()) {
    problem = std::string(key) + (ref.file.empty() ? "_env: " + ref.env : "_file: " + ref.file) +
              " is empty";
    return std::nullopt;
  }
  return value;
}

}  // namespace signoff::conf
