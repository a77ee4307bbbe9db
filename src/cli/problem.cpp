#include "cli/problem.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace dfs::cli {
namespace {

constexpr size_t kMaxRawBody = 200;

std::string as_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string allowed_text(const nlohmann::json& allowed) {
  if (!allowed.is_object()) return as_text(allowed);
  const bool has_min = allowed.contains("min");
  const bool has_max = allowed.contains("max");
  if (has_min && has_max) return as_text(allowed["min"]) + ".." + as_text(allowed["max"]);
  if (has_min) return ">= " + as_text(allowed["min"]);
  if (has_max) return "<= " + as_text(allowed["max"]);
  return as_text(allowed);
}

}  // namespace

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else if (c < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += ch;
    }
  }
  // Trailing blanks come from a body's final newline; they only make the line look odd.
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Error";
  }
}

std::string format_problem(int status, std::string_view body) {
  std::string line = std::to_string(status) + " ";
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object() || (!doc.contains("title") && !doc.contains("detail"))) {
    // Not a problem document (a proxy's HTML page, an empty body): show the start of it.
    line += reason_phrase(status);
    std::string raw = one_line(body.substr(0, std::min(body.size(), kMaxRawBody)));
    if (!raw.empty()) line += ": " + raw;
    return one_line(line);
  }
  const std::string title = doc.contains("title") ? as_text(doc["title"]) : "";
  const std::string detail = doc.contains("detail") ? as_text(doc["detail"]) : "";
  line += title.empty() ? std::string(reason_phrase(status)) : title;
  if (!detail.empty()) line += ": " + detail;
  std::string extra;
  if (doc.contains("field") && !as_text(doc["field"]).empty()) {
    extra = "field " + as_text(doc["field"]);
  }
  if (doc.contains("allowed") && !doc["allowed"].is_null()) {
    if (!extra.empty()) extra += ", ";
    extra += "allowed " + allowed_text(doc["allowed"]);
  }
  if (!extra.empty()) line += " (" + extra + ")";
  return one_line(line);
}

}  // namespace dfs::cli
