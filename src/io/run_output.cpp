// HDF5 output of a run (layout: docs/hdf5-layout.md).
#include "xyzmf/run_output.hpp"

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <vector>

#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

// x, y, z blocks -> (x, y, z) per site, the file's layout.
template <class Real>
const Real* interleave(const Real* soa, index_t N, std::vector<unsigned char>& buffer) {
    buffer.resize(3 * std::size_t(N) * sizeof(Real));
    Real* aos = reinterpret_cast<Real*>(buffer.data());
    for (index_t n = 0; n < N; ++n)
        for (int c = 0; c < 3; ++c) aos[3 * n + c] = soa[c * N + n];
    return aos;
}

}  // namespace

template <class F>
void RunOutput::guarded(F&& write) {
    if (failed_) throw Error(path_ + ": not written after an earlier failure", exit_code::io);
    try {
        write();
    } catch (...) {
        abandon();
        throw;
    }
}

RunOutput::RunOutput(const RunConfig& cfg, const std::string& backend_used)
    : path_(cfg.output), precision_(cfg.precision), lattice_(cfg.lattice), compress_(cfg.compress) {
    created_ = std::make_unique<NewFile>(cfg.output, cfg.overwrite);
    const hid_t file = created_->handle();
    write_provenance(file, cfg.command_line, "run");
    h5::set_attr(file, "status", std::string("running"));
    write_run_parameters(file, cfg, backend_used);
    h5::Id ts = h5::create_group(file, "/timeseries");
    h5::create_table(ts, "t", 1);
    h5::create_table(ts, "mean", 3);
    h5::create_table(ts, "staggered", 3);
    h5::create_table(ts, "residual", 1);
    h5::create_group(file, "/snapshots");
    flush();
}

RunOutput::RunOutput(const std::string& path, std::int64_t keep_rows, std::int64_t keep_snapshots,
                     const std::string& command_line)
    : path_(path), lock_(std::make_unique<OutputLock>(path)) {
    guarded([&] {
        file_ = open_xyzmf(path, true);
        const RunConfig cfg = read_run_config(file_, path);
        precision_ = cfg.precision;
        lattice_ = cfg.lattice;
        compress_ = cfg.compress;
        for (const char* t : {"t", "mean", "staggered", "residual"})
            h5::truncate_table(file_, std::string("/timeseries/") + t, hsize_t(keep_rows));
        // Snapshots after the restart point, complete or not (a half-written one
        // from a full disk or a kill), and any /final go: the run writes them again.
        if (h5::exists(file_, "/snapshots")) {
            std::vector<std::string> drop;
            h5::Id snaps = h5::open_group(file_, "/snapshots");
            H5G_info_t info;
            if (H5Gget_info(snaps, &info) >= 0)
                for (hsize_t i = 0; i < info.nlinks; ++i) {
                    char name[64] = {0};
                    if (H5Lget_name_by_idx(snaps, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) < 0)
                        continue;
                    char* end = nullptr;
                    const long long index = std::strtoll(name, &end, 10);
                    if (*end != '\0' || index >= keep_snapshots) drop.push_back(std::string("/snapshots/") + name);
                }
            for (const std::string& g : drop) h5::remove(file_, g);
        }
        if (h5::exists(file_, "/final")) h5::remove(file_, "/final");
        std::string history = h5::has_attr(file_, "resumed_by") ? h5::attr_string(file_, "resumed_by") + "\n" : "";
        h5::set_attr(file_, "resumed_by", history + utc_timestamp() + " " + command_line);
        h5::set_attr(file_, "schema_version", std::to_string(kSchemaMajor) + "." + std::to_string(kSchemaMinor));
        h5::set_attr(file_, "status", std::string("running"));
        rows_ = keep_rows;
        flush();
    });
}

RunOutput::~RunOutput() {
    if (failed_) return;  // already abandoned
}

void RunOutput::abandon() {
    failed_ = true;
    if (created_) created_->abandon();
    file_.abandon();
}

void RunOutput::ensure_room(double bytes) {
    // Margin for the metadata and time-series rows written with the spins.
    xyzmf::ensure_room(created_ ? created_->disk_path() : path_, bytes * 1.0625 + 65536, path_);
}

hid_t RunOutput::handle() const { return created_ ? created_->handle() : file_.get(); }

void RunOutput::record(double t, const Observables& o, index_t sites) {
    guarded([&] {
        double mean[3], stag[3];
        for (int c = 0; c < 3; ++c) { mean[c] = o.sum[c] / double(sites); stag[c] = o.stag[c] / double(sites); }
        const double residual = std::sqrt(o.max_rate2);
        const hid_t f = handle();
        h5::append_row(f, "/timeseries/t", &t, 1);
        h5::append_row(f, "/timeseries/mean", mean, 3);
        h5::append_row(f, "/timeseries/staggered", stag, 3);
        h5::append_row(f, "/timeseries/residual", &residual, 1);
        ++rows_;
    });
}

void RunOutput::write_spins(hid_t group, const HostStateRef& s) {
    const index_t N = lattice_.sites();
    const std::vector<hsize_t> dims = spin_dims(lattice_);
    if (s.precision == Precision::float32) {
        const float* aos = interleave(static_cast<const float*>(s.data), N, aos_);
        h5::write_array(group, "spins", dims, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, aos, compress_);
    } else {
        const double* aos = interleave(static_cast<const double*>(s.data), N, aos_);
        h5::write_array(group, "spins", dims, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, aos, compress_);
    }
}

h5::Id RunOutput::write_state(const std::string& where, const HostStateRef& s, double t, std::int64_t step) {
    ensure_room(3.0 * double(lattice_.sites()) * (precision_ == Precision::float32 ? 4 : 8));
    h5::Id g = h5::create_group(handle(), where);
    write_spins(g, s);
    h5::write_scalar(g, "t", t);
    h5::set_attr(g, "step", step);
    return g;
}

void RunOutput::snapshot(std::int64_t index, double t, std::int64_t step, double dt_next, const HostStateRef& s) {
    guarded([&] {
        h5::Id g = write_state(snapshot_group(index), s, t, step);
        h5::set_attr(g, "dt_next", dt_next);
        h5::set_attr(g, "timeseries_rows", rows_);
        // The commit mark goes last, after the data are on disk: --resume takes
        // the last snapshot that has it, so a torn write is never restarted from.
        flush();
        mark_complete(g);
        flush();  // a killed run keeps every snapshot written so far
        ++snapshots_written_;
        // A new file goes into place once it holds a state (so a killed run
        // can be resumed); one that replaces a file (--overwrite) only when
        // the run stops by itself, so a failure keeps the old file.
        if (created_ && !created_->replaces()) created_->commit();
    });
}

void RunOutput::final_state(double t, std::int64_t step, const HostStateRef& s, const std::string& reason,
                            double residual) {
    guarded([&] {
        h5::Id g = write_state("/final", s, t, step);
        h5::set_attr(g, "stop_reason", reason);
        h5::set_attr(g, "residual", residual);
        flush();
        mark_complete(g);
        set_status("finished: " + reason);
        if (created_) created_->commit();
    });
}

void RunOutput::set_status(const std::string& status) {
    guarded([&] {
        h5::set_attr(handle(), "status", status);
        flush();
        if (created_ && snapshots_written_ > 0) created_->commit();  // stopped by itself (interrupt, blow-up)
    });
}

void RunOutput::write_extra(double bytes, const std::function<void(hid_t)>& write) {
    guarded([&] {
        ensure_room(bytes);
        write(handle());
        flush();
    });
}

void RunOutput::flush() {
    flush_file(handle(), path_);
}

}  // namespace xyzmf
