#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "bot/app/cli.hpp"

int main(int argc, char** argv) {
  try {
    return signoff::run_cli(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "signoff: fatal: " << e.what() << "\n";
    return 1;
  }
}
