// dfsctl: the DittoFS command-line client. Everything lives in the dfs_cli library so the
// tests can reach it; this only connects it to the process.

#include <iostream>

#include "cli/app.h"

int main(int argc, char** argv) {
  return dfs::cli::run(argc, argv, std::cout, std::cerr);
}
