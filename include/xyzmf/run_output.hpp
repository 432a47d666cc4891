// Writes one run to HDF5 following docs/hdf5-layout.md: provenance and
// /parameters at creation, a time-series row per record, a flushed snapshot
// group per snapshot, /final at the end, and a root "status" attribute that
// says how the run ended (running, finished, blow-up, interrupted).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xyzmf/h5file.hpp"
#include "xyzmf/run_config.hpp"
#include "xyzmf/stage_ops.hpp"

namespace xyzmf {

// A host copy of a state in the run's own precision (SoA: x, y, z blocks), so
// snapshots are stored exactly and --resume continues bit for bit.
struct HostStateRef {
    const void* data;
    Precision precision;
};

class RunOutput {
public:
    // New file; refuses to replace an existing one unless cfg.overwrite.
    static RunOutput create(const RunConfig& cfg, const std::string& backend_used);
    // Existing file for --resume: drops time-series rows and snapshots written
    // after the snapshot we restart from, and any /final.
    static RunOutput reopen(const std::string& path, std::int64_t keep_rows, std::int64_t keep_snapshots,
                            const std::string& command_line);

    void record(double t, const Observables& o, index_t sites);
    void snapshot(std::int64_t index, double t, std::int64_t step, double dt_next, const HostStateRef& s);
    void final_state(double t, std::int64_t step, const HostStateRef& s, const std::string& reason, double residual);
    void set_status(const std::string& status);
    void flush();
    std::int64_t rows() const { return rows_; }
    const std::string& path() const { return path_; }
    hid_t handle() const { return file_; }  // for analysis written alongside (run --analyze)

private:
    RunOutput(h5::Id file, std::string path, Precision p, Lattice lat, int compress)
        : file_(std::move(file)), path_(std::move(path)), precision_(p), lattice_(lat), compress_(compress) {}
    void write_spins(hid_t group, const HostStateRef& s);

    h5::Id file_;
    std::string path_;
    Precision precision_;
    Lattice lattice_;
    int compress_ = 0;  // deflate level of the spins
    std::vector<unsigned char> aos_;  // interleaving buffer, kept between snapshots
    std::int64_t rows_ = 0;
};

}  // namespace xyzmf
