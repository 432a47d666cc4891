// Options several subcommands share, declared once: the couplings (help text
// with the unit and valid range from the parameter table), the backend and
// the precision.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "xyzmf/couplings.hpp"
#include "run_config.hpp"

namespace xyzmf::cli {

// --Jx --Jy --Jz --gamma --gamma-phi into c. `where` is appended to each help
// line (e.g. " where it is not an axis"). Returns the options, in that order.
std::vector<CLI::Option*> add_couplings(CLI::App* sub, Couplings& c, const std::string& where = "");
// Maps (stability, sweep) default to Jz = 1, the paper's cut through the phase
// diagram; single-point commands to 0: the help of the maps says so.
void explain_map_jz(const std::vector<CLI::Option*>& couplings);
// A value for a parameter that is an axis of a map (x_name, y_name: Jx, Jy, ...)
// would be ignored, yet stored with the map: refused, naming the axis. `what`:
// "sweep", "map".
void refuse_axis_values(const std::vector<CLI::Option*>& couplings, const std::string& x_name, const std::string& y_name,
                        const char* what);
// --backend auto|cpu|cuda, --precision double|float.
CLI::Option* add_backend(CLI::App* sub, std::string& backend);
CLI::Option* add_precision(CLI::App* sub, std::string& precision);
// A seed's text: a whole number 0 to `most` (the command's parameter table's
// limit), checked before CLI11 converts it (which wraps larger numbers: 2^70
// became -1 and was quoted so).
CLI::Validator seed_text(double most);
BackendRequest backend_request(const std::string& backend);
Precision precision_of(const std::string& precision);
// The name nearest to a mistyped one (an option, a command, a config key), after
// folding case and '_' to '-' (t_end, jx), within two edits; "" when none is near.
std::string nearest_name(const std::vector<std::string>& names, const std::string& typed);

}  // namespace xyzmf::cli
