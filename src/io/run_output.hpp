// Writes one run to HDF5 following docs/hdf5-layout.md: provenance and
// /parameters at creation, a time-series row per record, a flushed snapshot
// group per snapshot, /final at the end, and a root "status" attribute that
// says how the run ended (running, finished, blow-up, interrupted).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "output_file.hpp"
#include "run_journal.hpp"
#include "run_sink.hpp"
#include "schema.hpp"
#include "run_config.hpp"
#include "xyzmf/stage_ops.hpp"

namespace xyzmf {

class RunOutput : public RunSink {
public:
    // New file (output_file.hpp): written under a temporary name and renamed
    // over cfg.output once its first snapshot is complete; refuses an existing
    // file unless cfg.overwrite, and a file another xyzmf is writing. Its
    // journal (run_journal.hpp) follows it until the run finishes.
    RunOutput(const RunConfig& cfg, const std::string& backend_used);
    // Existing file for --resume, under `lock` (taken by the caller before it
    // checked or repaired the file; null: taken here): drops time-series rows
    // and snapshots after the snapshot we restart from, and any /final, and
    // continues the file's journal (or starts one).
    RunOutput(const std::string& path, std::int64_t keep_rows, std::int64_t keep_snapshots,
              const std::string& command_line, std::unique_ptr<OutputLock> lock = nullptr);
    ~RunOutput() override;
    RunOutput(const RunOutput&) = delete;
    RunOutput& operator=(const RunOutput&) = delete;

    void record(double t, const Observables& o, index_t sites) override;
    void snapshot(std::int64_t index, double t, std::int64_t step, double dt_next, const StateView& s) override;
    void final_state(double t, std::int64_t step, const StateView& s, const std::string& reason, double residual) override;
    void set_status(const std::string& status) override;
    SpinsOnDisk prepare_spins(const std::string& where) override;
    SpinChunking prepare_chunked_spins(const std::string& where) override;
    void write_spin_chunks(const std::string& where, const FilteredChunks& chunks) override;
    std::string snapshot_where(std::int64_t index) const override { return snapshot_group(index); }
    void on_writer_thread() override { h5::silence_errors(); }
    // Other data written into the file (run --analyze), about `bytes` of it,
    // under the same rules: refused without room, the file abandoned on failure.
    void write_extra(double bytes, const std::function<void(hid_t)>& write);
    void flush();
    std::int64_t rows() const { return rows_; }
    const std::string& path() const override { return path_; }
    hid_t handle() const;  // for analysis written alongside (run --analyze)

private:
    void write_spins(hid_t group, const StateView& s);
    // A state group (spins, t, step) whose commit mark the caller adds last.
    h5::Id write_state(const std::string& where, const StateView& s, double t, std::int64_t step);
    // Runs a write; if it fails the file is abandoned (never flushed again,
    // see h5::Id::abandon) so it stays as its last complete snapshot left it.
    template <class F>
    void guarded(F&& write);
    void abandon();
    void ensure_room(double bytes);
    double state_bytes() const { return 3.0 * double(lattice_.sites()) * (precision_ == Precision::float32 ? 4 : 8); }
    // Renames a new file into place, and its journal after it.
    void commit_file();
    // The journal of a resumed file: its own continued, else a new one that
    // records the snapshots (up to keep_snapshots) and rows it already holds.
    void continue_journal(std::int64_t keep_rows, std::int64_t keep_snapshots);
    bool failed_ = false;
    bool finished_ = false;
    std::unique_ptr<RunJournal> journal_;
    std::int64_t snapshots_written_ = 0;

    std::string path_;
    std::unique_ptr<NewFile> created_;  // a new file, until and after its commit
    std::unique_ptr<OutputLock> lock_;  // an existing file (--resume)
    h5::Id file_;                       // ... and its handle
    Precision precision_ = Precision::float64;
    Lattice lattice_;
    int compress_ = 0;  // deflate level of the spins
    std::vector<unsigned char> aos_;  // interleaving buffer, kept between snapshots
    std::int64_t rows_ = 0;
};

}  // namespace xyzmf
