// dfsctl's one-line rendering of API errors (RFC 7807 problem documents and anything else).

#include <gtest/gtest.h>

#include "cli/problem.h"

namespace dfs::cli {
namespace {

TEST(CliProblem, ValidationErrorNamesFieldAndRange) {
  EXPECT_EQ(
      format_problem(400, R"({"type":"https://dittofs.dev/problems/400","title":"Invalid setting",
      "status":400,"detail":"lease_time must be an integer between 10 and 3600",
      "field":"lease_time","allowed":{"min":10,"max":3600}})"),
      "400 Invalid setting: lease_time must be an integer between 10 and 3600 "
      "(field lease_time, allowed 10..3600)");
}

TEST(CliProblem, PlainProblems) {
  EXPECT_EQ(
      format_problem(
          401, R"({"title":"Unauthorized","status":401,"detail":"wrong user name or password"})"),
      "401 Unauthorized: wrong user name or password");
  EXPECT_EQ(
      format_problem(409, R"({"title":"Conflict","detail":"user ann exists","field":"username"})"),
      "409 Conflict: user ann exists (field username)");
  EXPECT_EQ(format_problem(404, R"({"detail":"no user named x"})"),
            "404 Not Found: no user named x");
  EXPECT_EQ(format_problem(403, R"({"title":"Forbidden"})"), "403 Forbidden");
}

TEST(CliProblem, HalfOpenRanges) {
  EXPECT_EQ(format_problem(400, R"({"title":"T","detail":"d","allowed":{"min":1}})"),
            "400 T: d (allowed >= 1)");
  EXPECT_EQ(format_problem(400, R"({"title":"T","detail":"d","field":"f","allowed":{"max":9}})"),
            "400 T: d (field f, allowed <= 9)");
}

TEST(CliProblem, BodiesThatAreNotProblems) {
  EXPECT_EQ(format_problem(502, ""), "502 Bad Gateway");
  EXPECT_EQ(format_problem(503, "<html>\n<body>busy</body>\n</html>\n"),
            "503 Service Unavailable: <html> <body>busy</body> </html>");
  EXPECT_EQ(format_problem(500, R"(["not", "an", "object"])"),
            R"(500 Internal Server Error: ["not", "an", "object"])");
  EXPECT_EQ(format_problem(418, std::string(1000, 'x')).size(),
            std::string("418 Error: ").size() + 200);
}

TEST(CliProblem, AlwaysOneLineWithoutControlCharacters) {
  const std::string line =
      format_problem(400, R"({"title":"Bad\nrequest","detail":"line one\r\nline two\u001b[31m"})");
  EXPECT_EQ(line, "400 Bad request: line one  line two?[31m");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace dfs::cli
