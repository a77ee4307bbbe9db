#pragma once
// How dfsctl shows what the API returned: aligned columns for people (`-o table`, the
// default), the API's own JSON for scripts (`-o json`), or YAML (`-o yaml`). The renderers
// are pure functions so they are tested without a server.

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace dfs::cli {

enum class Format { kTable, kJson, kYaml };

// "table", "json" or "yaml"; nothing for anything else.
std::optional<Format> parse_format(std::string_view name);

// One column of a list table: its header and where its value lives in each element
// (a key, or a dotted path into nested objects such as "listeners.nfs").
struct Column {
  std::string header;
  std::string path;
};

// Columns separated by two spaces and padded to the widest cell (counted in characters,
// not bytes); the last column is not padded so lines carry no trailing blanks.
std::string render_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows);

// A JSON value as one table cell: strings as they are, null as "-", lists joined with ",".
std::string cell_text(const nlohmann::json& value);

// The value at a dotted path, or null when any step is missing.
nlohmann::json lookup(const nlohmann::json& value, std::string_view path);

// Nested objects flattened to (dotted key, value) pairs in document order, for showing one
// object as a two-column table.
std::vector<std::pair<std::string, nlohmann::json>> flatten(const nlohmann::json& object);

// Block-style YAML 1.2 for any JSON value; strings are quoted whenever a plain scalar could
// be read back as something else (a number, a boolean, null) or needs escaping.
std::string render_yaml(const nlohmann::json& value);

// Writes results in the chosen format.
class Printer {
 public:
  Printer(Format format, std::ostream& out) : format_(format), out_(out) {}

  Format format() const { return format_; }
  // A list of objects: one row per element with `columns` in table form.
  void list(const nlohmann::json& items, const std::vector<Column>& columns);
  // One object: a two-column table of its (flattened) fields, headed `key_header`.
  void object(const nlohmann::json& value, const std::string& key_header = "FIELD");
  // The JSON/YAML document only (table form prints nothing).
  void document(const nlohmann::json& value);
  // A confirmation for actions without a body (204): printed in table form only, so that
  // JSON and YAML output stay parseable (empty).
  void message(const std::string& text);

 private:
  bool structured(const nlohmann::json& value);

  Format format_;
  std::ostream& out_;
};

}  // namespace dfs::cli
