// HDF5 output of a run (layout: docs/hdf5-layout.md).
#include "run_output.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <vector>

#include "xyzmf/error.hpp"
#include "chunk_filters.hpp"
#include "run_repair.hpp"

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
    guarded([&] {
        // Beside the temporary file under its name (removed with it if it is
        // never committed), renamed to .NAME.journal after it.
        journal_ = std::make_unique<RunJournal>(created_->disk_path() + ".journal", created_->disk_path(),
                                                run_base_image(file));
    });
}

RunOutput::RunOutput(const std::string& path, std::int64_t keep_rows, std::int64_t keep_snapshots,
                     const std::string& command_line, std::unique_ptr<OutputLock> lock)
    : path_(path), lock_(lock ? std::move(lock) : std::make_unique<OutputLock>(path)) {
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
        record_resume(file_, command_line);
        h5::set_attr(file_, "schema_version", std::to_string(kSchemaMajor) + "." + std::to_string(kSchemaMinor));
        h5::set_attr(file_, "status", std::string("running"));
        rows_ = keep_rows;
        flush();
        continue_journal(keep_rows, keep_snapshots);
    });
}

void RunOutput::continue_journal(std::int64_t keep_rows, std::int64_t keep_snapshots) {
    const std::string jpath = RunJournal::path_for(OutputLock::resolve(path_));
    if (journal_of(path_)) {
        journal_ = RunJournal::reopen(jpath);
        journal_->cut(keep_snapshots, keep_rows);
        return;
    }
    // No journal of this file (a copy, or written before journals): one that
    // knows where its snapshots lie, without reading them.
    journal_ = std::make_unique<RunJournal>(jpath, path_, run_base_image(file_));
    std::vector<double> cols[4];
    const char* names[4] = {"t", "mean", "staggered", "residual"};
    for (int c = 0; c < 4; ++c) {
        std::vector<hsize_t> dims;
        cols[c] = h5::read_array(file_, std::string("/timeseries/") + names[c], dims);
    }
    std::int64_t row = 0;
    for (std::int64_t index : snapshot_indices(file_)) {
        if (index >= keep_snapshots) break;
        h5::Id g = h5::open_group(file_, snapshot_group(index));
        JournalSnapshot js;
        js.index = index;
        js.t = h5::read_scalar(g, "t");
        js.step = h5::has_attr(g, "step") ? h5::attr_int(g, "step") : 0;
        js.dt_next = h5::has_attr(g, "dt_next") ? h5::attr_double(g, "dt_next") : 0;
        js.timeseries_rows = h5::has_attr(g, "timeseries_rows") ? h5::attr_int(g, "timeseries_rows") : 0;
        js.value_bytes = precision_ == Precision::float32 ? 4 : 8;
        js.compress = compress_;
        h5::Id d = h5::open_dataset(g, "spins");
        locate_spins(d, path_, js);
        js.hashed = false;  // (read only to locate it: the hash costs a read of every snapshot)
        for (; row < std::min(js.timeseries_rows, keep_rows); ++row) {
            double r[kJournalRowValues];
            r[0] = cols[0].at(std::size_t(row));
            for (int k = 0; k < 3; ++k) r[1 + k] = cols[1].at(std::size_t(3 * row + k)), r[4 + k] = cols[2].at(std::size_t(3 * row + k));
            r[7] = cols[3].at(std::size_t(row));
            journal_->add_row(r);
        }
        journal_->add_snapshot(js);
    }
}

void RunOutput::commit_file() {
    if (!created_ || created_->committed()) return;
    created_->commit();
    if (journal_) journal_->rename_to(RunJournal::path_for(path_));
}

RunOutput::~RunOutput() {
    if (!journal_) return;
    if (created_ && !created_->committed()) {  // the temporary file goes, and its journal with it
        journal_->remove();
        return;
    }
    if (failed_ || !finished_) return;  // the file may need its journal yet
    // A finished run, its file closed cleanly: nothing to recover any more.
    if (created_) created_->close();
    file_ = h5::Id();
    journal_->remove();
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
        if (journal_) {
            const double row[kJournalRowValues] = {t, mean[0], mean[1], mean[2], stag[0], stag[1], stag[2], residual};
            journal_->add_row(row);
        }
    });
}

void RunOutput::write_spins(hid_t group, const StateView& s) {
    const index_t N = lattice_.sites();
    const std::vector<hsize_t> dims = spin_dims(lattice_);
    // (the interleaved bytes stay in aos_: the journal hashes them)
    if (compress_ > 0) {  // deflated on every thread, not by HDF5's filters on this one
        const bool f32 = s.precision == Precision::float32;
        h5::Id d = h5::create_array(group, "spins", dims, f32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, compress_);
        const SpinChunking how = chunking_of(d, dims, compress_, f32 ? 4 : 8, "spins");
        if (f32)
            write_filtered(d, how, interleave(static_cast<const float*>(s.data), N, aos_), "spins");
        else
            write_filtered(d, how, interleave(static_cast<const double*>(s.data), N, aos_), "spins");
    } else if (s.precision == Precision::float32) {
        const float* aos = interleave(static_cast<const float*>(s.data), N, aos_);
        h5::write_array(group, "spins", dims, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, aos, 0);
    } else {
        const double* aos = interleave(static_cast<const double*>(s.data), N, aos_);
        h5::write_array(group, "spins", dims, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, aos, 0);
    }
}

SpinsOnDisk RunOutput::prepare_spins(const std::string& where) {
    SpinsOnDisk on_disk;
    guarded([&] {
        ensure_room(state_bytes());
        h5::Id g = h5::create_group(handle(), where);
        h5::Id d = h5::create_array(g, "spins", spin_dims(lattice_),
                                    precision_ == Precision::float32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, 0, true);
        const haddr_t a = H5Dget_offset(d);
        if (a == HADDR_UNDEF) throw Error(path_ + ": no storage for " + where + "/spins", exit_code::io);
        flush();
        on_disk = {created_ ? created_->disk_path() : path_, std::uint64_t(a)};
    });
    return on_disk;
}

SpinChunking RunOutput::prepare_chunked_spins(const std::string& where) {
    SpinChunking how;
    guarded([&] {
        ensure_room(state_bytes());
        const std::vector<hsize_t> dims = spin_dims(lattice_);
        h5::Id g = h5::create_group(handle(), where);
        h5::Id d = h5::create_array(g, "spins", dims, precision_ == Precision::float32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE,
                                    compress_);
        how = chunking_of(d, dims, compress_, precision_ == Precision::float32 ? 4 : 8, where + "/spins");
    });
    return how;
}

void RunOutput::write_spin_chunks(const std::string& where, const FilteredChunks& chunks) {
    guarded([&] {
        h5::Id d = h5::open_dataset(handle(), where + "/spins");
        store_filtered_chunks(d, chunks, where + "/spins");
    });
}

h5::Id RunOutput::write_state(const std::string& where, const StateView& s, double t, std::int64_t step) {
    h5::Id g;
    if (s.data) {
        ensure_room(state_bytes());
        g = h5::create_group(handle(), where);
        write_spins(g, s);
    } else {  // made by prepare_spins, its spins written by the processes of a spread run
        g = h5::open_group(handle(), where);
    }
    h5::write_scalar(g, "t", t);
    h5::set_attr(g, "step", step);
    return g;
}

void RunOutput::snapshot(std::int64_t index, double t, std::int64_t step, double dt_next, const StateView& s) {
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
        if (journal_) {  // where the snapshot lies, once it is complete on disk
            JournalSnapshot js;
            js.index = index;
            js.t = t;
            js.step = step;
            js.dt_next = dt_next;
            js.timeseries_rows = rows_;
            js.value_bytes = precision_ == Precision::float32 ? 4 : 8;
            js.compress = compress_;
            h5::Id d = h5::open_dataset(g, "spins");
            locate_spins(d, created_ ? created_->disk_path() : path_, js, s.data ? aos_.data() : nullptr);
            journal_->add_snapshot(js);
        }
        // A new file goes into place once it holds a state (so a killed run
        // can be resumed); one that replaces a file (--overwrite) only when
        // the run stops by itself, so a failure keeps the old file.
        if (created_ && !created_->replaces()) commit_file();
    });
}

void RunOutput::final_state(double t, std::int64_t step, const StateView& s, const std::string& reason,
                            double residual) {
    guarded([&] {
        h5::Id g = write_state("/final", s, t, step);
        h5::set_attr(g, "stop_reason", reason);
        h5::set_attr(g, "residual", residual);
        flush();
        mark_complete(g);
        set_status("finished: " + reason);
        commit_file();
        finished_ = true;
    });
}

void RunOutput::set_status(const std::string& status) {
    guarded([&] {
        h5::set_attr(handle(), "status", status);
        flush();
        if (created_ && snapshots_written_ > 0) commit_file();  // stopped by itself (interrupt, blow-up)
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
