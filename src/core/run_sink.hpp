// Where a run reports what it produces: the time loop (Simulation, core) calls
// these, and knows nothing of files; io's RunOutput writes them to HDF5
// (docs/hdf5-layout.md). Calls other than path() come from the run's writer
// thread, in the order the loop made them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host_state.hpp"
#include "xyzmf/stage_ops.hpp"

namespace xyzmf {

// Where a state's spins lie in a file: a contiguous run of 3N values, (x, y, z)
// per site in the lattice's order, little-endian, from byte `offset`.
struct SpinsOnDisk {
    std::string path;
    std::uint64_t offset = 0;
};

// How a compressed state's spins are cut: the dataset's shape (the lattice's
// axes, slowest first, then the 3 components), the chunk's, and the filters
// every chunk goes through: byte shuffle of `value_bytes`-byte values, then
// deflate (zlib) at `level`. Empty shapes: the root could not make the dataset.
struct SpinChunking {
    std::vector<std::uint64_t> dims, chunk;
    int level = 0;
    int value_bytes = 8;
};

// Chunks already through those filters, as the file stores them: chunk i's
// bytes are bytes[at[i], at[i] + size[i]), its first element at offsets
// [rank * i, rank * (i + 1)) of `origin` (rank = dims.size()).
struct FilteredChunks {
    std::vector<unsigned char> bytes;
    std::vector<std::uint64_t> origin, at, size;
    std::size_t count() const { return at.size(); }
};

class RunSink {
public:
    virtual ~RunSink() = default;
    // One time-series row: the observables of the state at t on `sites` sites.
    virtual void record(double t, const Observables& o, index_t sites) = 0;
    // Snapshot number `index` (0, 1, ...) of the state at t after `step` steps
    // (s.data null: its spins written by the processes after prepare_spins).
    virtual void snapshot(std::int64_t index, double t, std::int64_t step, double dt_next, const StateView& s) = 0;
    // The last state, and why the run stopped there ("t_end", "steady", ...).
    virtual void final_state(double t, std::int64_t step, const StateView& s, const std::string& reason,
                             double residual) = 0;
    // How the run ended, when it did not reach its end (blow-up, interrupted).
    virtual void set_status(const std::string& status) = 0;
    // What a message names as the place the states are kept.
    virtual const std::string& path() const = 0;
    // The name RunHooks::on_state gives snapshot `index`'s state ("/snapshots/000003").
    virtual std::string snapshot_where(std::int64_t index) const = 0;
    // A lattice spread over processes that write their own sites: the group
    // `where` with its spins dataset allocated (contiguous, not filled) and
    // flushed, and where its bytes lie, for the processes to write
    // (Domain::write_staged). snapshot() or final_state() with s.data ==
    // nullptr then finish that group.
    virtual SpinsOnDisk prepare_spins(const std::string& where) = 0;
    // The same for compressed spins (--compress): the group `where` with its
    // chunked spins dataset, and how it is chunked; the processes compress
    // their own sites and write_spin_chunks stores them, as many calls as
    // batches. snapshot() or final_state() with s.data == nullptr then finish
    // the group.
    virtual SpinChunking prepare_chunked_spins(const std::string& where) = 0;
    virtual void write_spin_chunks(const std::string& where, const FilteredChunks& chunks) = 0;
    // Runs first on the writer thread (HDF5's error printing is per thread).
    virtual void on_writer_thread() {}
};

}  // namespace xyzmf
