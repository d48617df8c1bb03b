// The test websocket peer (tests/support/ws_peer) on a given io_context,
// against net::ws_client: it records what it receives, sends, and closes
// with a code. (link_driver_test runs it on its own thread.)
// Never co_await inside a Catch macro (see support/run_io.hpp).
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/beast/websocket/error.hpp>

#include <optional>
#include <string>
#include <vector>

#include "bot/net/net.hpp"
#include "support/run_io.hpp"
#include "support/ws_peer.hpp"

using namespace signoff;
namespace asio = boost::asio;
using boost::system::error_code;

TEST_CASE("ws_peer: records messages and the close code, sends, closes with a code", "[net][ws_peer]") {
  asio::io_context ioc;
  test::ws_peer peer(ioc.get_executor());
  const net::tls_context tls("");
  test::run_io(ioc, [&]() -> asio::awaitable<void> {
    // Named, not temporaries in the co_await (GCC 12 coroutine bug).
    const asio::any_io_executor ex = ioc.get_executor();
    const net::url u = *net::parse_url(peer.url("/here"));
    const net::timeouts t;
    auto [ec, ws] = co_await net::ws_client::connect(ex, tls, u, t);
    REQUIRE_FALSE(ec);
    const std::string hi = "hi";
    const error_code wec = co_await ws->write(hi);
    REQUIRE_FALSE(wec);
    const bool got = co_await test::eventually([&] { return peer.seen(0).received.size() == 1; });
    REQUIRE(got);
    CHECK(peer.connections() == 1);
    CHECK(peer.seen(0).target == "/here");
    CHECK(peer.texts(0) == std::vector<std::string>{"hi"});
    peer.send(0, "yo");
    peer.close(0, 4002);
    std::string in;
    error_code rec = co_await ws->read(in);
    REQUIRE_FALSE(rec);
    CHECK(in == "yo");
    rec = co_await ws->read(in);
    CHECK(rec == boost::beast::websocket::error::closed);
    CHECK(ws->close_code() == 4002);
    const bool ended = co_await test::eventually([&] { return peer.seen(0).ended; });
    REQUIRE(ended);
    INFO(peer.seen(0).end_reason << " code " << peer.seen(0).client_close_code.value_or(0));
    CHECK(peer.seen(0).client_close_code == std::optional<std::uint16_t>(4002));  // Beast echoes the code
  });
}
