#pragma once
// A control-plane request that cannot be done: the HTTP status, a sentence for the operator
// and the body field it is about (empty when no single field is).

#include <string>

namespace dfs::control {

struct ApiError {
  int status = 400;
  std::string detail;
  std::string field;
};

}  // namespace dfs::control
