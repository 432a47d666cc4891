// A periodic lattice of the given sides for the MPI tests (tests/mpi/).
#pragma once

#include "xyzmf/lattice.hpp"

namespace xyzmf::test {

inline Lattice box(int dim, index_t x, index_t y = 1, index_t z = 1) {
    Lattice lat;
    lat.dim = dim;
    lat.L[0] = x;
    lat.L[1] = dim >= 2 ? y : 1;
    lat.L[2] = dim >= 3 ? z : 1;
    return lat;
}

}  // namespace xyzmf::test
