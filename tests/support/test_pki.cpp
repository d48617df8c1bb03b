#include "support/test_pki.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>
#include <stdexcept>

namespace signoff::test {
namespace {

void sh(const std::string& cmd, const char* step) {
  std::string full = cmd + " >/dev/null 2>&1";
  if (std::system(full.c_str()) != 0)
    throw std::runtime_error(std::string("test PKI: openssl failed at ") + step + ": " + cmd);
}

struct pki_dir {
  std::filesystem::path dir;
  pki_files files;
  pki_dir() {
    char tmpl[] = "/tmp/signoff-pki-XXXXXX";
    const char* base = std::getenv("TMPDIR");
    std::string t = std::string(base && *base ? base : "/tmp") + "/signoff-pki-XXXXXX";
    std::vector<char> buf(t.begin(), t.end());
    buf.push_back('\0');
    char* made = mkdtemp(buf.data());
    if (!made) made = mkdtemp(tmpl);
    if (!made) throw std::runtime_error("test PKI: cannot create a temporary directory");
    dir = made;
    auto p = [&](const char* n) { return (dir / n).string(); };
    const std::string d = dir.string();
    auto ca = [&](const std::string& name, const std::string& cn) {
      sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj '/CN=" +
             cn + "' -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
             " -keyout " + d + "/" + name + ".key -out " + d + "/" + name + ".pem",
         "CA");
    };
    auto leaf = [&](const std::string& name, const std::string& san) {
      sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj '/CN=signoff-test' -keyout " +
             d + "/" + name + ".key -out " + d + "/" + name + ".csr",
         "CSR");
      // Written directly: sh() appends ">/dev/null", which would win over a
      // "> file" redirection and leave the extension file empty (no SAN).
      std::string ext = d + "/" + name + ".ext";
      std::ofstream(ext) << "subjectAltName=" << san
                         << "\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n";
      sh("openssl x509 -req -in " + d + "/" + name + ".csr -CA " + d + "/ca.pem -CAkey " + d +
             "/ca.key -CAcreateserial -days 2 -extfile " + ext + " -out " + d + "/" + name + ".pem",
         "sign");
    };
    ca("ca", "signoff throw-away test CA");
    ca("other-ca", "unrelated test CA");
    leaf("server", "DNS:localhost,IP:127.0.0.1");
    leaf("wrong", "DNS:wrong.example");
    files = {p("ca.pem"), p("server.pem"), p("server.key"), p("wrong.pem"), p("wrong.key"), p("other-ca.pem")};
  }
  ~pki_dir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

}  // namespace

const pki_files& test_pki() {
  static pki_dir made;  // C++ guarantees thread-safe initialisation
  return made.files;
}

}  // namespace signoff::test
