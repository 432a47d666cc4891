// States on the host, as the layers hand them to each other.
#pragma once

#include <vector>

#include "run_config.hpp"

namespace xyzmf {

// A state on the host: 3N doubles, the x block, then y, then z (site n = i + Lx (j + Ly k)).
using HostState = std::vector<double>;

// A host copy of a state in the run's own precision (SoA: x, y, z blocks), so
// snapshots are stored exactly and --resume continues bit for bit: a pointer
// to 3N floats or doubles and which of the two they are.
struct StateView {
    const void* data;
    Precision precision;
};

}  // namespace xyzmf
