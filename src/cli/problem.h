#pragma once
// Turns an error response of the REST API (an RFC 7807 problem document, or whatever a proxy
// in between sent) into the single line dfsctl prints on stderr.

#include <string>
#include <string_view>

namespace dfs::cli {

// "400 Invalid setting: lease_time must be ... (field lease_time, allowed 10..3600)".
// Never contains a newline or a control character, whatever the body holds.
std::string format_problem(int status, std::string_view body);

// The standard reason phrase ("Not Found"), for bodies that carry no title.
std::string_view reason_phrase(int status);

// Replaces control characters (newlines, terminal escapes) so text from the server can
// neither break the one-line promise nor drive the user's terminal.
std::string one_line(std::string_view text);

}  // namespace dfs::cli
