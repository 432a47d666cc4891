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
// --backend auto|cpu|cuda, --precision double|float.
CLI::Option* add_backend(CLI::App* sub, std::string& backend);
CLI::Option* add_precision(CLI::App* sub, std::string& precision);
BackendRequest backend_request(const std::string& backend);
Precision precision_of(const std::string& precision);

}  // namespace xyzmf::cli
