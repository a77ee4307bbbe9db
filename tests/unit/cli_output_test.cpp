// dfsctl's output: the aligned table, table cells from JSON values, dotted lookups and
// flattening, and the YAML emitter (read back with yaml-cpp, the project's YAML parser).

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <sstream>

#include "cli/output.h"

namespace dfs::cli {
namespace {

using nlohmann::json;

TEST(CliTable, AlignsColumnsUnderAHeaderWithoutTrailingBlanks) {
  EXPECT_EQ(
      render_table({"NAME", "ROLE", "UID"}, {{"admin", "admin", "-"}, {"ann", "operator", "1000"}}),
      "NAME   ROLE      UID\n"
      "admin  admin     -\n"
      "ann    operator  1000\n");
}

TEST(CliTable, EmptyListPrintsTheHeaderOnly) {
  EXPECT_EQ(render_table({"ID", "OWNER"}, {}), "ID  OWNER\n");
}

TEST(CliTable, WidthCountsCharactersNotBytes) {
  // "jürgen" is 7 bytes but 6 columns wide; the next column must line up with "ann".
  EXPECT_EQ(render_table({"N", "X"}, {{"jürgen", "1"}, {"ann", "2"}}),
            "N       X\n"
            "jürgen  1\n"
            "ann     2\n");
}

TEST(CliTable, EmptyLastCellLeavesNoTrailingBlanks) {
  EXPECT_EQ(render_table({"A", "B"}, {{"x", ""}}), "A  B\nx\n");
}

TEST(CliCell, RendersEachJsonType) {
  EXPECT_EQ(cell_text(json(nullptr)), "-");
  EXPECT_EQ(cell_text(json("text")), "text");
  EXPECT_EQ(cell_text(json(true)), "true");
  EXPECT_EQ(cell_text(json(false)), "false");
  EXPECT_EQ(cell_text(json(42)), "42");
  EXPECT_EQ(cell_text(json(87.5)), "87.5");
  EXPECT_EQ(cell_text(json(3600.234567)), "3600.2");
  EXPECT_EQ(cell_text(json::array()), "-");
  EXPECT_EQ(cell_text(json{"127.0.0.1", "10.0.0.0/8"}), "127.0.0.1,10.0.0.0/8");
  EXPECT_EQ(cell_text(json{{"a", 1}}), R"({"a":1})");
}

TEST(CliCell, ControlCharactersCannotReachTheTerminal) {
  // A client owner string comes from the network; an escape sequence must not be printed.
  EXPECT_EQ(cell_text(json("evil\x1b[2Jname\nnext")), "evil?[2Jname next");
}

TEST(CliLookup, FollowsDottedPaths) {
  json v = {{"listeners", {{"nfs", "0.0.0.0:12049"}}}, {"version", "0.1.0"}};
  EXPECT_EQ(lookup(v, "version"), "0.1.0");
  EXPECT_EQ(lookup(v, "listeners.nfs"), "0.0.0.0:12049");
  EXPECT_TRUE(lookup(v, "listeners.api").is_null());
  EXPECT_TRUE(lookup(v, "version.major").is_null());
  EXPECT_TRUE(lookup(json::array(), "x").is_null());
}

TEST(CliFlatten, NestedObjectsBecomeDottedKeys) {
  json v = {{"id", "ab"},
            {"fore_channel", {{"max_requests", 16}}},
            {"hosts", {"a", "b"}},
            {"empty", json::object()}};
  auto flat = flatten(v);
  ASSERT_EQ(flat.size(), 4u);
  EXPECT_EQ(flat[0].first, "empty");
  EXPECT_EQ(flat[1].first, "fore_channel.max_requests");
  EXPECT_EQ(flat[1].second, 16);
  EXPECT_EQ(flat[2].first, "hosts");
  EXPECT_EQ(flat[3].first, "id");
}

TEST(CliPrinter, ObjectInTableFormIsAFieldValueTable) {
  std::ostringstream out;
  Printer(Format::kTable, out)
      .object({{"lease_time", 90}, {"delegations_enabled", true}}, "SETTING");
  EXPECT_EQ(out.str(),
            "SETTING              VALUE\n"
            "delegations_enabled  true\n"
            "lease_time           90\n");
}

TEST(CliPrinter, ListUsesTheColumnPaths) {
  std::ostringstream out;
  Printer(Format::kTable, out)
      .list(json::parse(R"([{"username":"ann","uid":1000},{"username":"bob","uid":null}])"),
            {{"NAME", "username"}, {"UID", "uid"}});
  EXPECT_EQ(out.str(), "NAME  UID\nann   1000\nbob   -\n");
}

TEST(CliPrinter, JsonIsTheDocumentPretty) {
  std::ostringstream out;
  json v = {{"a", 1}};
  Printer p(Format::kJson, out);
  p.object(v);
  p.message("not shown in JSON form");
  EXPECT_EQ(json::parse(out.str()), v);
  EXPECT_EQ(out.str(), "{\n  \"a\": 1\n}\n");
}

TEST(CliPrinter, MessagesOnlyInTableForm) {
  std::ostringstream table, yaml;
  Printer(Format::kTable, table).message("User ann deleted");
  Printer(Format::kYaml, yaml).message("User ann deleted");
  EXPECT_EQ(table.str(), "User ann deleted\n");
  EXPECT_EQ(yaml.str(), "");
}

TEST(CliFormat, ParsesTheThreeNames) {
  EXPECT_EQ(parse_format("table"), Format::kTable);
  EXPECT_EQ(parse_format("json"), Format::kJson);
  EXPECT_EQ(parse_format("yaml"), Format::kYaml);
  EXPECT_FALSE(parse_format("xml"));
}

TEST(CliYaml, BlockStyleForObjectsAndLists) {
  json v = json::parse(R"({"settings": {"lease_time": 30, "delegations_enabled": false},
                           "restart_required": [], "hosts": ["a", "b"],
                           "users": [{"username": "ann", "uid": 1000}, {"username": "bob", "uid": null}],
                           "nested": [[1, 2], []], "empty": {}})");
  EXPECT_EQ(render_yaml(v),
            "empty: {}\n"
            "hosts:\n"
            "  - a\n"
            "  - b\n"
            "nested:\n"
            "  - - 1\n"
            "    - 2\n"
            "  - []\n"
            "restart_required: []\n"
            "settings:\n"
            "  delegations_enabled: false\n"
            "  lease_time: 30\n"
            "users:\n"
            "  - uid: 1000\n"
            "    username: ann\n"
            "  - uid: null\n"
            "    username: bob\n");
}

TEST(CliYaml, ScalarsAtTheTop) {
  EXPECT_EQ(render_yaml(json(nullptr)), "null\n");
  EXPECT_EQ(render_yaml(json::array()), "[]\n");
  EXPECT_EQ(render_yaml(json("plain")), "plain\n");
  EXPECT_EQ(render_yaml(json(7)), "7\n");
}

TEST(CliYaml, QuotesStringsThatWouldReadBackAsSomethingElse) {
  EXPECT_EQ(render_yaml(json("yes")), "\"yes\"\n");
  EXPECT_EQ(render_yaml(json("NULL")), "\"NULL\"\n");
  EXPECT_EQ(render_yaml(json("0.1.0")), "\"0.1.0\"\n");
  EXPECT_EQ(render_yaml(json("")), "\"\"\n");
  EXPECT_EQ(render_yaml(json("a: b")), "\"a: b\"\n");
  EXPECT_EQ(render_yaml(json("#x")), "\"#x\"\n");
  EXPECT_EQ(render_yaml(json("say \"hi\"\n\\")), "\"say \\\"hi\\\"\\n\\\\\"\n");
  EXPECT_EQ(render_yaml(json("bell\x07")), "\"bell\\x07\"\n");
  EXPECT_EQ(render_yaml(json("/export")), "/export\n");
  EXPECT_EQ(render_yaml(json("Linux NFSv4.1 kclient")), "Linux NFSv4.1 kclient\n");
}

// Compares a yaml-cpp node with the JSON it was emitted from. yaml-cpp keeps scalars as
// text, so each JSON type is checked through the conversion a reader would use.
void expect_same(const YAML::Node& y, const json& j, const std::string& where) {
  SCOPED_TRACE(where);
  switch (j.type()) {
    case json::value_t::null:
      EXPECT_TRUE(y.IsNull());
      break;
    case json::value_t::boolean:
      EXPECT_EQ(y.as<bool>(), j.get<bool>());
      break;
    case json::value_t::string:
      ASSERT_TRUE(y.IsScalar());
      // A quoted scalar has the non-plain tag "!", which tells readers it is a string.
      EXPECT_EQ(y.as<std::string>(), j.get<std::string>());
      break;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      EXPECT_EQ(y.as<int64_t>(), j.get<int64_t>());
      break;
    case json::value_t::number_float:
      EXPECT_DOUBLE_EQ(y.as<double>(), j.get<double>());
      break;
    case json::value_t::array:
      ASSERT_TRUE(y.IsSequence());
      ASSERT_EQ(y.size(), j.size());
      for (size_t i = 0; i < j.size(); ++i)
        expect_same(y[i], j[i], where + "[" + std::to_string(i) + "]");
      break;
    case json::value_t::object:
      ASSERT_TRUE(y.IsMap());
      ASSERT_EQ(y.size(), j.size());
      for (const auto& [k, v] : j.items())
        expect_same(y[k], v, where + "." + k);
      break;
    default:
      FAIL() << "unexpected JSON type";
  }
}

TEST(CliYaml, RoundTripsThroughYamlCpp) {
  json v = json::parse(R"({
    "id": "6b015d6d0000008f", "num_id": "1234", "owner": "Linux NFSv4.1 kclient",
    "address": "127.0.0.1:40162", "lease_remaining_s": 87.5, "confirmed": true,
    "uid": null, "flags": 2, "tricky": ["yes", "no", "~", "-", "- x", "? q", "a #b", "[x]",
      "{y}", "&anchor", "*alias", "!tag", "%dir", "@at", "`tick", "'single'", "x: y",
      "trailing ", " leading", "tab\there", "multi\nline", "ü unicode", "nel\u0085x",
      "ls\u2028x", "1e3", ".5", "+1", "0x1F", "true", "False"],
    "nested": {"fore_channel": {"max_requests": 16}, "list": [{"a": []}, {}]},
    "weird key: #1": "v", "": "empty key"})");
  const std::string text = render_yaml(v);
  YAML::Node node;
  ASSERT_NO_THROW(node = YAML::Load(text)) << text;
  expect_same(node, v, "$");
}

}  // namespace
}  // namespace dfs::cli
