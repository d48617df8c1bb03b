#pragma once
// A throw-away PKI for TLS tests: a test CA, a server certificate it signed
// for DNS:localhost and IP:127.0.0.1, a certificate it signed for another
// host name only, and an unrelated CA. Made once per test process with the
// `openssl` command line into a temporary directory; never a switch that
// turns verification off.
#include <string>

namespace signoff::test {

struct pki_files {
  std::string ca_pem;           // the test CA certificate (what clients trust)
  std::string cert_pem;         // server certificate: DNS:localhost, IP:127.0.0.1
  std::string key_pem;          // its private key
  std::string wrong_host_cert;  // signed by the test CA for DNS:wrong.example only
  std::string wrong_host_key;
  std::string other_ca_pem;     // an unrelated CA that signed nothing we serve
};

// Creates the files on first use (thread-safe); they live until the process
// exits. Throws std::runtime_error naming the openssl step that failed.
const pki_files& test_pki();

}  // namespace signoff::test
