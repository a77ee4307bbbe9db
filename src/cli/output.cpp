#include "cli/output.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include "cli/problem.h"

namespace dfs::cli {
namespace {

// Characters on screen, not bytes: UTF-8 continuation bytes do not advance the cursor.
size_t display_width(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string number_text(const nlohmann::json& v) {
  if (!v.is_number_float()) return v.dump();
  // Seconds like lease_remaining_s read best with one decimal; dump() may print 17 digits.
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%.1f", v.get<double>());
  return buf.data();
}

bool is_reserved_word(std::string_view s) {
  // Words YAML 1.1 readers (still common) turn into booleans or null.
  static constexpr std::array<std::string_view, 10> kWords = {"true", "false", "yes", "no", "on",
                                                              "off",  "null",  "y",   "n",  "~"};
  std::string low(s);
  for (auto& c : low)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::find(kWords.begin(), kWords.end(), low) != kWords.end();
}

// Plain (unquoted) only for a conservative set of strings that every YAML reader takes back
// as the same string: a letter, '_' or '/' first, then letters, digits and "_./-" or inner
// spaces. Everything else is double-quoted, which is always correct.
bool plain_ok(std::string_view s) {
  if (s.empty() || is_reserved_word(s)) return false;
  const auto first = static_cast<unsigned char>(s.front());
  if (!std::isalpha(first) && first != '_' && first != '/') return false;
  if (s.back() == ' ') return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return std::isalnum(c) || c == '_' || c == '.' || c == '/' || c == '-' || c == ' ';
  });
}

std::string quoted(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\r':
        out += "\\r";
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      continue;
    }
    // NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR are line breaks to YAML 1.1 readers and
    // would be folded into spaces inside quotes; escapes keep them. \u rather than \N, \L,
    // \P: yaml-cpp 0.7 decodes \N to a lone 0x85 byte, which is not UTF-8.
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) {
      out += "\\u0085";
      ++i;
      continue;
    }
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
         static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
      continue;
    }
    out += static_cast<char>(c);
  }
  return out + "\"";
}

std::string yaml_string(std::string_view s) {
  return plain_ok(s) ? std::string(s) : quoted(s);
}

std::string yaml_scalar(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::string:
      return yaml_string(v.get_ref<const std::string&>());
    case nlohmann::json::value_t::array:
      return "[]";  // only empty ones reach here
    case nlohmann::json::value_t::object:
      return "{}";  // likewise
    default:
      return v.dump();  // numbers
  }
}

bool is_block(const nlohmann::json& v) {
  return v.is_structured() && !v.empty();
}

// Emits a non-empty object or array with every line indented by `indent` spaces.
void yaml_block(const nlohmann::json& v, size_t indent, std::string& out) {
  const std::string pad(indent, ' ');
  if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      out += pad + yaml_string(key) + ":";
      if (is_block(value)) {
        out += "\n";
        yaml_block(value, indent + 2, out);
      } else {
        // Appended piece by piece: `" " + std::string&&` trips GCC 12's -Wrestrict false
        // positive at -O3, which breaks the Release build under -Werror.
        out += ' ';
        out += yaml_scalar(value);
        out += '\n';
      }
    }
    return;
  }
  for (const auto& item : v) {
    if (!is_block(item)) {
      out += pad + "- " + yaml_scalar(item) + "\n";
      continue;
    }
    // A collection inside a list starts on the dash's line: render it two columns deeper,
    // then put "- " where its first line's indentation was.
    std::string child;
    yaml_block(item, indent + 2, child);
    out += pad + "- " + child.substr(indent + 2);
  }
}

}  // namespace

std::optional<Format> parse_format(std::string_view name) {
  if (name == "table") return Format::kTable;
  if (name == "json") return Format::kJson;
  if (name == "yaml") return Format::kYaml;
  return std::nullopt;
}

std::string render_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(headers.size(), 0);
  auto measure = [&widths](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  };
  measure(headers);
  for (const auto& row : rows)
    measure(row);
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    std::string text;
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : std::string();
      text += cell;
      if (i + 1 < widths.size()) text += std::string(widths[i] - display_width(cell) + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ')
      text.pop_back();
    out += text + "\n";
  };
  line(headers);
  for (const auto& row : rows)
    line(row);
  return out;
}

std::string cell_text(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "-";
    case nlohmann::json::value_t::string:
      return one_line(value.get_ref<const std::string&>());
    case nlohmann::json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::array: {
      if (value.empty()) return "-";
      std::string out;
      for (const auto& item : value) {
        if (!out.empty()) out += ",";
        out += cell_text(item);
      }
      return out;
    }
    case nlohmann::json::value_t::object:
      return one_line(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    default:
      return number_text(value);
  }
}

nlohmann::json lookup(const nlohmann::json& value, std::string_view path) {
  const nlohmann::json* cur = &value;
  while (true) {
    const auto dot = path.find('.');
    const std::string key(path.substr(0, dot));
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
    if (dot == std::string_view::npos) return *cur;
    path.remove_prefix(dot + 1);
  }
}

std::vector<std::pair<std::string, nlohmann::json>> flatten(const nlohmann::json& object) {
  std::vector<std::pair<std::string, nlohmann::json>> out;
  if (!object.is_object()) {
    out.emplace_back("value", object);
    return out;
  }
  for (const auto& [key, value] : object.items()) {
    if (value.is_object() && !value.empty()) {
      for (auto& [sub, v] : flatten(value))
        out.emplace_back(key + "." + sub, std::move(v));
    } else {
      out.emplace_back(key, value);
    }
  }
  return out;
}

std::string render_yaml(const nlohmann::json& value) {
  if (!is_block(value)) return yaml_scalar(value) + "\n";
  std::string out;
  yaml_block(value, 0, out);
  return out;
}

bool Printer::structured(const nlohmann::json& value) {
  if (format_ == Format::kJson) {
    out_ << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return true;
  }
  if (format_ == Format::kYaml) {
    out_ << render_yaml(value);
    return true;
  }
  return false;
}

void Printer::list(const nlohmann::json& items, const std::vector<Column>& columns) {
  if (structured(items)) return;
  std::vector<std::string> headers;
  for (const auto& c : columns)
    headers.push_back(c.header);
  std::vector<std::vector<std::string>> rows;
  if (items.is_array()) {
    for (const auto& item : items) {
      std::vector<std::string> row;
      for (const auto& c : columns)
        row.push_back(cell_text(lookup(item, c.path)));
      rows.push_back(std::move(row));
    }
  }
  out_ << render_table(headers, rows);
}

void Printer::object(const nlohmann::json& value, const std::string& key_header) {
  if (structured(value)) return;
  std::vector<std::vector<std::string>> rows;
  for (const auto& [key, v] : flatten(value))
    rows.push_back({key, cell_text(v)});
  out_ << render_table({key_header, "VALUE"}, rows);
}

void Printer::document(const nlohmann::json& value) {
  structured(value);
}

void Printer::message(const std::string& text) {
  if (format_ == Format::kTable) out_ << text << "\n";
}

}  // namespace dfs::cli
