#pragma once
// A blocking HTTP/1.1 GET over plain TCP to 127.0.0.1 (for /healthz and
// /metrics in integration tests). No dependencies beyond POSIX sockets.
#include <cstdint>
#include <string>

namespace signoff::test {

struct http_result {
  int status = 0;  // 0 when the request failed
  std::string body;
};
http_result http_get(std::uint16_t port, const std::string& target);

}  // namespace signoff::test
