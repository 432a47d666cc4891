// How the lattice of one run is spread over several processes (MPI ranks):
// the time loop (Simulation) steps this process's block of the lattice and
// asks its Domain for what only all processes together know. src/mpi/ holds
// the one implementation (slabs of the slowest axis with ghost rows); a
// serial run has no Domain at all, and its loop is unchanged.
//
// Every call is collective: each process makes the same calls in the same
// order (the loop's decisions, stop or go, depend only on reduced values).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "xyzmf/backend.hpp"
#include "xyzmf/lattice.hpp"
#include "xyzmf/stage_ops.hpp"
#include "host_state.hpp"
#include "integrators.hpp"
#include "run_config.hpp"
#include "run_sink.hpp"

namespace xyzmf {

template <class Real>
class Domain {
public:
    virtual ~Domain() = default;
    // The process that writes the file and prints (rank 0).
    virtual bool root() const = 0;
    virtual int rank() const = 0;
    virtual int ranks() const = 0;
    // This process's block: the owned rows plus ghost rows, periodic.
    virtual const Lattice& local() const = 0;
    // The RK4 stepper and steps per pass chosen for the whole lattice, as a
    // serial run would choose them; the ghost rows are as wide as a pass spoils.
    virtual Rk4Stepper stepper() const = 0;
    virtual int steps_per_pass() const = 0;
    virtual FusedScheme scheme() const = 0;

    // The ghost rows of y from the neighbouring processes.
    virtual void exchange(StateBuffer<Real>& y) = 0;
    // n RK4 steps of this block (at most steps_per_pass()), the ghost rows
    // refreshed: after the pass here, overlapped with it where the domain can.
    virtual void advance(Rk4<Real>& rk4, StateBuffer<Real>& y, double h, std::int64_t n) {
        rk4.advance(y, h, n);
        exchange(y);
    }
    // The observables of the whole lattice from the state and ds/dt of this
    // block (its owned sites only), the same on every process.
    virtual Observables observe(Backend<Real>& be, const Real* s, const Real* dsdt) = 0;
    // y (the block, ghost rows included) from a state of the whole lattice
    // that only the root holds (3N values; ignored elsewhere).
    virtual void scatter(const HostState& global, StateBuffer<Real>& y) = 0;
    // This process's owned sites: from global site first_owned_site(), owned_sites()
    // of them, consecutive in the lattice's order.
    virtual index_t first_owned_site() const = 0;
    virtual index_t owned_sites() const = 0;
    // y (the block, ghost rows included) from this process's owned sites (x, y, z
    // blocks of owned_sites() values each): the ghost rows from the neighbours.
    virtual void set_own_sites(const HostState& mine, StateBuffer<Real>& y) = 0;
    // The owned sites of every process on the root, in host (3N values of the
    // whole lattice, x, y, z blocks; untouched elsewhere). Returns the largest
    // |s|^2 of the whole state, the same on every process.
    virtual double gather(const StateBuffer<Real>& y, Real* host) = 0;
    // True on every process when `mine` is true on any (a stop signal that
    // reached only some of them stops all).
    virtual bool any(bool mine) = 0;
    // The largest of `mine` over all processes (dopri5's error norm).
    virtual double max(double mine) = 0;
    // The same for an int (the stop signal that reached any process).
    virtual int largest(int mine) = 0;

    // This process's owned sites of y, copied to the host for write_staged;
    // returns the largest |s|^2 of the whole state, the same on every process.
    virtual double stage_own_sites(const StateBuffer<Real>& y) = 0;
    // The staged sites written by every process into the whole lattice's
    // spins, which lie from byte `offset` of the file at `disk_path` ((x, y, z)
    // per site, little-endian, allocated by the root: RunSink::prepare_spins),
    // as the root names them (ignored elsewhere). An empty name on the root:
    // it could not prepare the file, nothing is written and every other
    // process throws.
    virtual void write_staged(const std::string& disk_path, std::uint64_t offset) = 0;
    // `per_site` float64 values of each owned site (in the lattice's order:
    // values[per_site * n + k] for owned site n) written by every process into
    // a contiguous array of them for the whole lattice, from byte `offset` of
    // the file at `disk_path` as the root names it; empty on the root: nothing
    // is written and every other process throws.
    virtual void write_own_values(const std::string& disk_path, std::uint64_t offset, const double* values,
                                  int per_site) = 0;
    // The staged sites of every process compressed (by every process, its
    // share of the chunks of `how`, as the root names it) and handed to
    // `store` on the root, a batch at a time (each batch freed after), so
    // no process holds much more than its own sites. Empty shapes on the
    // root: nothing is done and every other process throws.
    virtual void write_staged_compressed(const SpinChunking& how,
                                         const std::function<void(const FilteredChunks&)>& store) = 0;
    // The sites of local() this process owns, [first, last) of each
    // component; the ghost rows lie outside.
    virtual index_t owned_first() const = 0;
    virtual index_t owned_last() const = 0;
    // Ghost rows as wide as one dopri5 step spoils: its 7 evaluations of f
    // each reach one row further from the block's edge.
    static constexpr int kAdaptiveHalo = 7;

};

}  // namespace xyzmf
