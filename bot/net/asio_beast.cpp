// Asio, Asio.SSL and Beast compiled once for the whole program
// (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION are
// PUBLIC definitions of signoff_net): every other TU only declares them,
// which saves about a quarter of each Beast TU's compile time.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
