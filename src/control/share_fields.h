#pragma once
// The fields of a share's JSON body (POST and PATCH /api/v1/shares), checked one by one so a
// bad value is answered with 400 and the name of its field.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "control/api_error.h"
#include "control/control_db.h"

namespace dfs::control {

// Sets field `key` of `r` from `value`; an error if the key is unknown or the value has the
// wrong type or range. Ids (anon_uid, anon_gid) are integers from 0 to 4294967294.
std::optional<ApiError> apply_share_field(const std::string& key, const nlohmann::json& value,
                                          ShareRecord& r);

// Whether a field can change on a live share (its squashing and access lists); the others
// (name, path, stores, read_only) are fixed when it is created.
bool share_field_changeable(const std::string& key);

}  // namespace dfs::control
