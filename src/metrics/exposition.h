#pragma once
// The Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): one HELP and one TYPE line
// per family, then its samples; families in name order and series in label-value order, so
// two scrapes of the same state are byte-identical.

#include <string>
#include <string_view>

#include "metrics/registry.h"

namespace dfs::metrics {

// What GET /metrics answers with (the Go client's exact value).
inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

// The whole registry as exposition text. Families without any series are left out (the
// format has nothing to say about them and the Go client omits them too).
std::string render(const Registry& registry);

// ---- the format's pieces, exposed for tests ----
// A label value: backslash, double quote and line feed escaped as \\, \" and \n.
std::string escape_label_value(std::string_view v);
// A HELP text: backslash and line feed escaped (a double quote stays as it is).
std::string escape_help(std::string_view v);
// A sample value as Go's strconv.ParseFloat reads it: shortest round-trip form, "+Inf",
// "-Inf", "NaN".
std::string format_value(double v);

}  // namespace dfs::metrics
