// Numbers in the commands' --json output: JSON has no NaN or infinity, so a
// value that is not finite is written as null.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>

namespace xyzmf::cli {

inline nlohmann::json json_number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace xyzmf::cli
