#pragma once
// Blocking HTTP/1.1 requests over plain TCP to 127.0.0.1 (for /healthz and
// /metrics in integration tests, and for a fake platform's calls to the
// bot's HTTP listener). No dependencies beyond POSIX sockets; each request
// has its own connection (Connection: close) and a 5 s receive timeout.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace signoff::test {

struct http_result {
  int status = 0;  // 0 when the request failed (no connection, no status line)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent
};
http_result http_get(std::uint16_t port, const std::string& target);
// POST `body` with `content_type` to `target`.
http_result http_post(std::uint16_t port, const std::string& target, const std::string& content_type,
                      const std::string& body);

// Any request, with extra headers ("Cookie", "Origin", ...). A chunked
// answer's body is returned de-chunked.
http_result http_request(std::uint16_t port, const std::string& method, const std::string& target,
                         const std::vector<std::pair<std::string, std::string>>& headers = {},
                         const std::string& body = "");
// The value of header `name` (case-insensitive), '' when absent.
std::string header_of(const http_result& r, const std::string& name);

}  // namespace signoff::test
