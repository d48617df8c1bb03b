#include <catch2/catch.hpp>

#include "support/process.hpp"
#include "support/sqlite_db.hpp"

TEST_CASE("version", "[integration][shell]") {
  auto r = signoff::test::run({SIGNOFF_BINARY, "--version"});
  CHECK(r.status == 0);
}
