// The journal of a run file: what --resume and `xyzmf repair` need to rebuild
// the file after a kill, without the file's HDF5 metadata (docs/ARCHITECTURE.md,
// "Write protocol").
//
// HDF5 rewrites the metadata of a file (its groups' link tables and heaps,
// object headers, the superblock) in place when it flushes; a process killed
// during a flush can leave that metadata half old and half new, and then the
// file may no longer list its snapshots although their data are all on disk.
// So beside a run file FILE that is not finished, xyzmf keeps .FILE.journal:
// an append-only sequence of records, each written by one write() and checked
// by a hash, so a torn last record is recognised and ignored:
//   - the header: the identity (device, inode) of FILE and the image of a run
//     file holding FILE's root attributes, /parameters and empty /timeseries
//     and /snapshots (a few KB);
//   - per complete snapshot, after its commit mark is flushed: its index, t,
//     step, dt_next, timeseries_rows, where its spins lie in FILE (offset and
//     size of the contiguous data or of each compressed chunk) with a hash of
//     those bytes, and the time-series rows recorded since the previous one;
//   - on --resume, the snapshot and row counts it continues from.
// The raw data of a complete snapshot are never moved or overwritten while the
// run goes on, so FILE can always be rebuilt up to its last complete snapshot.
// The journal is removed when the run finishes and its file is closed.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace xyzmf {

// One piece of a snapshot's stored spins in the file: the whole contiguous
// dataset, or one chunk of a compressed one (its coordinates and filter mask).
struct JournalPiece {
    std::uint64_t offset = 0, size = 0;
    std::uint32_t filter_mask = 0;
    std::vector<std::uint64_t> chunk_offset;
};

struct JournalSnapshot {
    std::int64_t index = 0;
    double t = 0;
    std::int64_t step = 0;
    double dt_next = 0;
    std::int64_t timeseries_rows = 0;
    std::int32_t value_bytes = 8;  // 4: float, 8: double
    std::int32_t compress = 0;
    std::vector<JournalPiece> pieces;
    std::uint64_t data_hash = 0;
    bool hashed = true;  // false: recorded from an existing file at --resume without reading the data
};

// A time-series row: t, mean (3), staggered (3), residual.
constexpr int kJournalRowValues = 8;

struct JournalContents {
    std::uint64_t device = 0, inode = 0;
    std::vector<unsigned char> base_image;
    std::vector<JournalSnapshot> snapshots;  // in order, after every --resume's cut
    std::vector<double> rows;                // kJournalRowValues per row
    std::int64_t records = 0;
    bool torn_tail = false;  // a last record that a kill cut short (ignored)
};

// Fast 64-bit hash of a byte range (integrity of stored data, not security).
std::uint64_t hash_bytes(const void* data, std::size_t n, std::uint64_t seed = 0x6a09e667f3bcc909ULL);

class RunJournal {
public:
    // ".NAME.journal" beside path.
    static std::string path_for(const std::string& data_path);
    // A new journal at journal_path for the data file at data_path (whose
    // device and inode it records), starting with base_image. Replaces an old
    // journal of that name.
    RunJournal(const std::string& journal_path, const std::string& data_path,
               const std::vector<unsigned char>& base_image);
    // Continues an existing journal (after a --resume's cut record).
    static std::unique_ptr<RunJournal> reopen(const std::string& journal_path);
    ~RunJournal();
    RunJournal(const RunJournal&) = delete;
    RunJournal& operator=(const RunJournal&) = delete;

    // Rows are collected as they are recorded and go out with the next snapshot.
    void add_row(const double row[kJournalRowValues]);
    void add_snapshot(const JournalSnapshot& s);
    // --resume continues from snapshot keep_snapshots - 1 and row keep_rows.
    void cut(std::int64_t keep_snapshots, std::int64_t keep_rows);
    // After the data file was renamed into place: the journal follows it.
    void rename_to(const std::string& journal_path);
    void remove();
    const std::string& path() const { return path_; }

    // The records of a journal, or nullopt if there is none or it is not one.
    static std::optional<JournalContents> read(const std::string& journal_path);

private:
    RunJournal() = default;
    void append(std::uint32_t type, const std::vector<unsigned char>& payload);
    std::string path_;
    int fd_ = -1;
    std::vector<double> pending_rows_;
};

// Where the spins of dataset d lie in the file and a hash of those bytes as
// stored: `written` (the bytes just written, for contiguous spins), else read
// back from the file at disk_path.
void locate_spins(hid_t d, const std::string& disk_path, JournalSnapshot& s, const void* written = nullptr);
// The hash locate_spins records, of the pieces as they are now in the file
// open as fd, read block_bytes at a time (unless their bytes are wanted);
// false if they cannot all be read.
bool hash_pieces(int fd, const std::vector<JournalPiece>& pieces, std::uint64_t& hash,
                 std::vector<std::vector<unsigned char>>* bytes = nullptr, std::size_t block_bytes = std::size_t(1) << 23);

}  // namespace xyzmf
