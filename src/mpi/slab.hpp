// One lattice over several MPI ranks: slabs of the slowest axis (x in 1D, y in
// 2D, z in 3D), each rank stepping its slab plus `halo` ghost rows on each side
// with the unchanged single-lattice stepper (Rk4 on any backend), and the ghost
// rows refreshed from the neighbouring ranks after every pass.
//
// Why ghost rows as wide as a pass: the local block is stepped as a periodic
// lattice of its own, so after a pass of m RK4 steps the 4m rows at each edge
// (one per RK stage) hold wrong values, and only they. With halo = 4m the owned
// rows are exactly the serial run's, site for site: the per-site arithmetic,
// the neighbour order and the stepper (chosen for the global lattice, not the
// slab) are the same, so the state is bit for bit the serial state on any
// number of ranks (tests/mpi/test_slab.cpp).
#pragma once

#include <mpi.h>

#include <memory>
#include <vector>

#include "xyzmf/backend.hpp"
#include "xyzmf/couplings.hpp"
#include "xyzmf/lattice.hpp"
#include "host_state.hpp"
#include "integrators.hpp"

namespace xyzmf {

// Rank `rank`'s share of a lattice split over `ranks`: rows [begin, end) of the
// slowest axis (balanced: the first len % ranks ranks get one row more).
struct Slab {
    int axis = 0;              // the slowest axis: dim - 1
    index_t rows = 0;          // rows of the whole lattice along it
    index_t begin = 0, end = 0;
    index_t row_sites = 1;     // sites in one row (product of the faster axes)
    int halo = 0;              // ghost rows on each side
    Lattice local;             // the owned rows plus the ghost rows, periodic
    index_t owned() const { return end - begin; }
};

// The split, or xyzmf::Error (exit code usage) naming the lattice, the ranks and
// the halo when a slab would be thinner than its ghost rows (they would have to
// come from a rank further away) or the lattice is a batch of copies.
Slab make_slab(const Lattice& global, int ranks, int rank, int halo);

// Steps one lattice spread over the ranks of `comm`.
template <class Real>
class SlabStepper {
public:
    // Collective. The stepper and steps per pass are the backend's choice for
    // the whole lattice (as a serial run makes it), whatever the slab's shape.
    SlabStepper(Backend<Real>& be, MPI_Comm comm, const Lattice& global, const Couplings& c);
    // This rank's rows from a state of the whole lattice (x, y, z blocks).
    void set_from_global(const HostState& global_state);
    // n RK4 steps of size h on every rank (collective), exchanging ghost rows
    // after each pass.
    void advance(double h, std::int64_t n);
    // The owned rows of every rank, assembled on every rank (collective).
    HostState gather_all();
    const Slab& slab() const { return slab_; }
    int steps_per_pass() const { return rk4_->steps_per_pass(); }
    Rk4Stepper stepper() const { return rk4_->stepper(); }

private:
    void exchange();  // the ghost rows from the neighbours (periodic in ranks)

    Backend<Real>& be_;
    MPI_Comm comm_;
    int rank_ = 0, ranks_ = 1;
    Lattice global_;
    Slab slab_;
    StateBuffer<Real> y_;
    std::unique_ptr<Rk4<Real>> rk4_;
    std::vector<Real> send_lo_, send_hi_, recv_lo_, recv_hi_;  // 3 components x halo rows
};

}  // namespace xyzmf
