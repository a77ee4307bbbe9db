#pragma once
// dfsctl's entry point as a function: parses the arguments, runs the command, prints errors
// as one line, and returns the exit code (see errors.h).

#include <ostream>

namespace dfs::cli {

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace dfs::cli
