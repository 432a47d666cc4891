// A linear-stability map over a parameter grid (`xyzmf stability`): every point's
// growth rate, most unstable mode and predicted phase, the Lifshitz points, and the
// /map group that stores them (docs/hdf5-layout.md).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "param_grid.hpp"
#include "stability.hpp"

namespace xyzmf {

struct StabilityMapResult {
    ParamGrid grid;
    int dim = 2;
    bool finite = false;  // a finite lattice's k (lattice) or the infinite lattice's
    Lattice lattice;
    // Per point, C order of (ny, nx): growth (gamma), u and period of the most unstable
    // mode, its k (3 per point) and the predicted phase's code (sweep.hpp's table).
    std::vector<double> growth, u, period, k;
    std::vector<std::int64_t> code;
    std::map<std::string, int> counts;  // points per predicted phase
    std::vector<LifshitzPoint> lifshitz;
};

// The map at every grid point (finite == nullptr: the infinite lattice), with the
// Lifshitz points if asked. Polls for a stop signal every 4096 points.
StabilityMapResult compute_stability_map(const ParamGrid& grid, int dim, const Lattice* finite, bool lifshitz);

// The phases a linear-stability map predicts, with sweep.hpp's codes, and their text
// "0 PM, 1 FM, ..., 8 FM/AFM (...)".
extern const std::int64_t kMapPhases[6];
std::string map_phase_codes_text();

// Writes /map into a new file.
void write_map_group(hid_t file, const StabilityMapResult& m);

}  // namespace xyzmf
