// Sums over MPI ranks that do not depend on MPI's reduction algorithm: every
// rank gathers all ranks' parts and merges them in rank order, so every rank
// holds the same bits (the blow-up check and the records, src/mpi/slab.cpp;
// the analysis' tallies, src/mpi/slab_analysis.cpp).
#pragma once

#include <mpi.h>

#include <array>
#include <cstddef>
#include <vector>

namespace xyzmf {

// `part` is this rank's share packed as doubles; unpack(const double*) makes
// a T from n of them, and T::merge adds another T's share.
template <class T, std::size_t n, class Unpack>
T merge_in_rank_order(MPI_Comm comm, const std::array<double, n>& part, Unpack unpack) {
    int ranks = 1;
    MPI_Comm_size(comm, &ranks);
    std::vector<double> all(n * std::size_t(ranks));
    MPI_Allgather(part.data(), int(n), MPI_DOUBLE, all.data(), int(n), MPI_DOUBLE, comm);
    T total;
    for (int r = 0; r < ranks; ++r) total.merge(unpack(all.data() + n * std::size_t(r)));
    return total;
}

}  // namespace xyzmf
