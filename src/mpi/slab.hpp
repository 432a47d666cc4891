// One lattice over several MPI ranks: slabs of the slowest axis (x in 1D, y in
// 2D, z in 3D), each rank stepping its slab plus `halo` ghost rows on each side
// with the unchanged single-lattice stepper (Rk4 on any backend, or
// DormandPrince5), and the ghost rows refreshed from the neighbouring ranks
// after every pass (dopri5: every accepted step, 7 rows wide, the error norm's
// maximum taken over the ranks, so the steps are the serial run's).
//
// Why ghost rows as wide as a pass: the local block is stepped as a periodic
// lattice of its own, so after a pass of m RK4 steps the 4m rows at each edge
// (one per RK stage) hold wrong values, and only they. With halo = 4m the owned
// rows are exactly the serial run's, site for site: the per-site arithmetic,
// the neighbour order and the stepper (chosen for the global lattice, not the
// slab) are the same, so the state is bit for bit the serial state on any
// number of ranks (tests/mpi/test_slab.cpp, tests/mpi_run_test.sh).
//
// Overlapped exchange (overlap_halo): the rows a pass sends are known before
// the pass, from two strips of 3 halo rows around each edge's first owned
// rows, each stepped as a periodic lattice of its own (only its outer halo
// rows spoil). So a pass steps the strips, posts their middle rows to the
// neighbours, steps the block, and only then waits: on a GPU the block's
// kernels run while the host moves the rows. The strips cost 6 halo rows of
// stepping a pass; the block's own edge rows, stepped again, are the same
// numbers bit for bit (the same per-site arithmetic and neighbour order).
#pragma once

#include <mpi.h>

#include <memory>
#include <string>
#include <vector>

#include "xyzmf/backend.hpp"
#include "xyzmf/couplings.hpp"
#include "xyzmf/lattice.hpp"
#include "domain.hpp"
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

// The Domain (src/core/domain.hpp) of a run spread over the ranks of `comm` in
// slabs. Collective construction: the stepper is the serial run's choice for
// the whole lattice (stepper and steps_per_pass as RunConfig's numerics say
// them: 0 = the backend's choice), and the ghost rows as wide as its pass.
template <class Real>
class SlabDomain final : public Domain<Real> {
public:
    // staged: ghost rows through host buffers even where MPI could reach the
    // backend's memory (the path of a GPU without CUDA-aware MPI, for tests on the CPU).
    // integrator dopri5: ghost rows one adaptive step wide (kAdaptiveHalo),
    // refreshed after every accepted step.
    SlabDomain(Backend<Real>& be, MPI_Comm comm, const Lattice& global, Rk4Stepper stepper, int steps_per_pass,
               bool staged = false, IntegratorKind integrator = IntegratorKind::rk4);

    bool root() const override { return rank_ == 0; }
    int rank() const override { return rank_; }
    int ranks() const override { return ranks_; }
    const Lattice& local() const override { return slab_.local; }
    Rk4Stepper stepper() const override { return stepper_; }
    int steps_per_pass() const override { return per_pass_; }
    FusedScheme scheme() const override { return scheme_; }
    void exchange(StateBuffer<Real>& y) override;
    // rk4 passes with the ghost rows overlapped (see above) once overlap_halo
    // was called, else the pass and then exchange().
    void advance(Rk4<Real>& rk4, StateBuffer<Real>& y, double h, std::int64_t n) override;
    // From now on advance() overlaps the exchange with the pass: the strips
    // are stepped with these couplings (the run's). Not for dopri5.
    // measure_first: the first advance() times one exchange and one stepping
    // of the strips (each the best of 3, the slowest rank's) and keeps the
    // overlap only where the strips cost less than the exchange they hide:
    // on a fast link (NVLink) six extra halo rows of stepping a pass cost more
    // than the transfer (results/bench/mpi.md).
    void overlap_halo(const Couplings& c, bool measure_first = false);
    bool overlapped() const { return strip_rk4_ != nullptr; }
    Observables observe(Backend<Real>& be, const Real* s, const Real* dsdt) override;
    void scatter(const HostState& global, StateBuffer<Real>& y) override;
    index_t first_owned_site() const override { return slab_.begin * slab_.row_sites; }
    index_t owned_sites() const override { return slab_.owned() * slab_.row_sites; }
    void set_own_sites(const HostState& mine, StateBuffer<Real>& y) override;
    double gather(const StateBuffer<Real>& y, Real* host) override;
    double stage_own_sites(const StateBuffer<Real>& y) override;
    void write_staged(const std::string& disk_path, std::uint64_t offset) override;
    void write_own_values(const std::string& disk_path, std::uint64_t offset, const double* values,
                          int per_site) override;
    void write_staged_compressed(const SpinChunking& how,
                                 const std::function<void(const FilteredChunks&)>& store) override;  // slab_chunks.cpp
    bool any(bool mine) override;
    int largest(int mine) override;
    double max(double mine) override;
    index_t owned_first() const override { return index_t(slab_.halo) * slab_.row_sites; }
    index_t owned_last() const override { return index_t(slab_.halo + slab_.owned()) * slab_.row_sites; }

    const Slab& slab() const { return slab_; }
    // The most bytes of compressed chunks rank 0 takes from a rank at once
    // (write_staged_compressed; at least one chunk a batch). Tests make it small.
    void set_chunk_batch_bytes(std::size_t n) { batch_bytes_ = n; }
    // True when MPI reads and writes the state's ghost rows in the backend's
    // own memory (the CPU, or CUDA with a CUDA-aware MPI), false when they go
    // through host buffers.
    bool in_place() const { return direct_; }

private:
    void exchange_in_place(StateBuffer<Real>& y);
    void overlapped_pass(Rk4<Real>& rk4, StateBuffer<Real>& y, double h, int n);
    // The strips from y's edge rows, stepped n steps.
    void step_strips(const StateBuffer<Real>& y, double h, int n);
    // overlap_halo's measure_first: keeps or drops the strips (collective).
    void choose_overlap(StateBuffer<Real>& y, double h);
    void drop_strips();  // back to the exchange after the pass
    // Waits for the backend's kernels before MPI touches its memory (a copy of
    // one value; nothing to wait for on the CPU).
    void wait_for_backend(const Real* p);
    // Rows and displacements (in sites) of every rank's owned part.
    void layout(std::vector<int>& counts, std::vector<int>& displs) const;

    Backend<Real>& be_;
    MPI_Comm comm_;
    int rank_ = 0, ranks_ = 1;
    Lattice global_;
    Slab slab_;
    Rk4Stepper stepper_ = Rk4Stepper::fused;
    int per_pass_ = 1;
    FusedScheme scheme_ = FusedScheme::best;
    bool direct_ = false;
    std::vector<Real> send_lo_, send_hi_, recv_lo_, recv_hi_;  // 3 components x halo rows
    std::vector<Real> staged_;  // the owned sites for write_staged(_compressed), (x, y, z) per site
    std::size_t batch_bytes_ = std::size_t(64) << 20;
    // overlap_halo: the two edge strips (3 halo rows each), their stepper, and
    // where the ghost rows arrive in the backend's memory (in place only)
    Lattice strip_;
    StateBuffer<Real> strip_lo_, strip_hi_, ghosts_in_;
    std::unique_ptr<Rk4<Real>> strip_rk4_;
    bool measure_first_ = false;
};

// Whether this process's MPI moves GPU memory itself (Open MPI's
// MPIX_Query_cuda_support; false where the MPI cannot say).
bool cuda_aware_mpi();

// Steps one lattice spread over the ranks of `comm` (the stepping of a
// SlabDomain without the rest of a run; tests/mpi/test_slab.cpp).
template <class Real>
class SlabStepper {
public:
    // Collective; the backend's choice of stepper for the whole lattice.
    // halo: the ghost rows after each pass, overlapped with it, or (automatic)
    // overlapped where that measured faster (SlabDomain::overlap_halo).
    SlabStepper(Backend<Real>& be, MPI_Comm comm, const Lattice& global, const Couplings& c, bool staged = false,
                HaloExchange halo = HaloExchange::after_pass);
    // This rank's rows from a state of the whole lattice (x, y, z blocks).
    void set_from_global(const HostState& global_state) { domain_.scatter(global_state, y_); }
    // n RK4 steps of size h on every rank (collective), exchanging ghost rows
    // after each pass.
    void advance(double h, std::int64_t n);
    // The whole state, assembled on every rank (collective).
    HostState gather_all();
    const Slab& slab() const { return domain_.slab(); }
    int steps_per_pass() const { return rk4_->steps_per_pass(); }
    Rk4Stepper stepper() const { return rk4_->stepper(); }
    bool overlapped() const { return domain_.overlapped(); }

private:
    SlabDomain<Real> domain_;
    MPI_Comm comm_;
    Lattice global_;
    StateBuffer<Real> y_;
    std::unique_ptr<Rk4<Real>> rk4_;
};

}  // namespace xyzmf
