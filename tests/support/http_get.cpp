#include "support/http_get.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <strings.h>

namespace signoff::test {
namespace {

// Sends `req` whole and reads the answer until the server closes.
http_result round_trip(std::uint16_t port, const std::string& req) {
  http_result out;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return out;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return out;
  }
  std::size_t sent = 0;
  while (sent < req.size()) {
    auto n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return out;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[4096];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto sp = raw.find(' ');
  auto hdr_end = raw.find("\r\n\r\n");
  if (sp == std::string::npos || hdr_end == std::string::npos) return out;
  out.status = std::atoi(raw.c_str() + sp + 1);
  out.body = raw.substr(hdr_end + 4);
  std::size_t line = raw.find("\r\n");
  while (line != std::string::npos && line < hdr_end) {
    std::size_t start = line + 2, end = raw.find("\r\n", start);
    if (end == std::string::npos || end > hdr_end) end = hdr_end;
    std::string h = raw.substr(start, end - start);
    if (auto colon = h.find(':'); colon != std::string::npos) {
      std::size_t v = h.find_first_not_of(' ', colon + 1);
      out.headers.emplace_back(h.substr(0, colon), v == std::string::npos ? std::string{} : h.substr(v));
    }
    line = end < hdr_end ? end : std::string::npos;
  }
  return out;
}

std::string dechunk(const std::string& body) {
  std::string out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    const auto eol = body.find("\r\n", pos);
    if (eol == std::string::npos) break;
    const std::size_t n = std::strtoul(body.substr(pos, eol - pos).c_str(), nullptr, 16);
    if (n == 0) break;
    out += body.substr(eol + 2, n);
    pos = eol + 2 + n + 2;
  }
  return out;
}

}  // namespace

std::string header_of(const http_result& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (::strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return {};
}

http_result http_request(std::uint16_t port, const std::string& method, const std::string& target,
                         const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  auto r = round_trip(port, req);
  if (::strcasecmp(header_of(r, "Transfer-Encoding").c_str(), "chunked") == 0) r.body = dechunk(r.body);
  return r;
}

http_result http_get(std::uint16_t port, const std::string& target) {
  return round_trip(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

http_result http_post(std::uint16_t port, const std::string& target, const std::string& content_type,
                      const std::string& body) {
  return round_trip(port, "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: " +
                            content_type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

}  // namespace signoff::test
