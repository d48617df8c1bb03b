#include "integration/running_bot.hpp"

#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <thread>

namespace signoff::test {

using namespace std::chrono_literals;

void running_bot::terminate() {
  if (bot && !bot->exited()) {
    ::kill(bot->pid(), SIGTERM);
    bot->wait_exit(10s);
  }
}

void running_bot::launch(const installation& inst) {
  bot = std::make_unique<child>(std::vector<std::string>{inst.binary(), "run", "--config", inst.config_path()});
  REQUIRE(bot->wait_until([&] { return bot->err().find("(port ") != std::string::npos || bot->exited(); }, 10s));
  INFO(bot->err());
  std::smatch m;
  std::string err = bot->err();
  REQUIRE(std::regex_search(err, m, std::regex(R"(\(port (\d+)\))")));
  http_port = static_cast<std::uint16_t>(std::stoi(m[1]));
}

void running_bot::crash() {
  ::kill(bot->pid(), SIGKILL);
  bot->wait_exit(5s);
}

int running_bot::stop() {
  ::kill(bot->pid(), SIGTERM);
  auto st = bot->wait_exit(15s);
  REQUIRE(st);
  return *st;
}

bool running_bot::wait(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    if (bot) bot->wait_until([] { return false; }, 20ms);  // keep draining its stderr
    else std::this_thread::sleep_for(20ms);
  }
  if (cond()) return true;
  if (bot) UNSCOPED_INFO("bot log so far:\n" << bot->err());
  return false;
}

bool running_bot::log_has(const std::string& needle, std::chrono::milliseconds timeout) {
  bool found = bot->wait_until([&] { return bot->err().find(needle) != std::string::npos; }, timeout);
  if (!found) UNSCOPED_INFO("bot log so far:\n" << bot->err());
  return found;
}

std::int64_t running_bot::count(const installation& inst, const std::string& where) {
  auto db = inst.db();
  return static_cast<std::int64_t>(audit_rows(db, where).size());
}

void running_bot::chain_holds(const installation& inst) {
  auto db = inst.db();
  CHECK(first_bad_seq(db) == 0);
  auto r = inst.audit("verify");
  INFO(r.out << r.err);
  CHECK(r.status == 0);
}

std::uint16_t running_bot::free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace signoff::test
