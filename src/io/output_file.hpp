// How xyzmf writes files so that nothing already on disk is lost
// (docs/ARCHITECTURE.md, "Write protocol"):
//  - one writer per file: a command that writes FILE first takes an exclusive
//    lock on FILE's lock file (.FILE.lock beside it); a second writer is
//    refused before it touches anything;
//  - new files (and --overwrite) are written under a temporary name in the
//    same directory and renamed over FILE only when complete, so a failure
//    (disk full, kill, bad input) leaves any earlier FILE as it was;
//  - updates of an existing file (run --resume, sweep --resume) append groups
//    whose commit mark is written last (schema.hpp), and in-place analyses
//    write into a copy that replaces FILE when complete.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hdf5.hpp"

namespace xyzmf {

// Exclusive advisory lock on .NAME.lock beside path, held for the object's
// life; the lock file is removed on release. Throws Error(io) naming the
// process that holds it. Where path exists, the file itself is locked too, by
// its identity (device and inode: an open-file-description lock on a byte far
// past its end, which HDF5's readers never touch), so that a second writer
// through a hard link, whose lock file has another name, is refused as well.
class OutputLock {
public:
    // Where the data of `path` really live: a symbolic link (or another
    // spelling of the path) resolves to one file, so to one lock.
    static std::string resolve(const std::string& path);
    explicit OutputLock(const std::string& path);
    ~OutputLock();
    OutputLock(const OutputLock&) = delete;
    OutputLock& operator=(const OutputLock&) = delete;
    // Locks the file at path (a new file's temporary file: the file it will be
    // once renamed) by its identity as well, for the lock's life.
    void hold_file(const std::string& path, const std::string& shown_as);

private:
    std::string lock_path_;
    int fd_ = -1;
    std::vector<int> file_fds_;
};

// A new xyzmf file for `path`: locked, refused if path exists and !overwrite,
// written as a temporary file beside it (a copy of `copy_of` when given) until
// commit() renames it over path. Destroyed uncommitted, the temporary file is
// removed and path is untouched.
class NewFile {
public:
    NewFile(const std::string& path, bool overwrite, const std::string& option = "-o",
            const std::string& copy_of = "");
    ~NewFile();
    NewFile(const NewFile&) = delete;
    NewFile& operator=(const NewFile&) = delete;

    hid_t handle() const { return file_; }
    // True when path existed (--overwrite): callers commit only when their
    // file is finished, so a failure keeps the old file.
    bool replaces() const { return replaces_; }
    const std::string& path() const { return path_; }
    bool committed() const { return committed_; }
    // Flushes and renames the temporary file over path. The file stays open
    // (its handle is still valid, now under its final name).
    void commit();
    // Closes the file (committed or not; an uncommitted one is removed).
    void close();
    // After a failed write: forgets the handle without flushing (see
    // h5::Id::abandon) and removes the file if it was not yet committed.
    void abandon();
    // Where the file is on disk now: the temporary name until commit().
    const std::string& disk_path() const { return committed_ ? path_ : temp_; }

private:
    OutputLock lock_;
    std::string path_, temp_;
    h5::Id file_;
    bool committed_ = false;
    bool replaces_ = false;
};

// The file a resumable command (sweep, quantum trajectories) writes: a new one
// (renamed into place once its datasets exist) or, on --resume, the existing
// one under its lock.
struct ResumableFile {
    std::unique_ptr<NewFile> created;
    std::unique_ptr<OutputLock> lock;
    h5::Id opened;
    std::string path;
    hid_t handle() const { return created ? created->handle() : opened.get(); }
    bool is_open() const { return created || opened.get() >= 0; }
    // The root attribute `status`, flushed.
    void set_status(const std::string& s);
    void commit() {
        if (created) created->commit();
    }
    // After a failed write: never flush again (h5::Id::abandon), so the file
    // keeps every batch committed before.
    void abandon() {
        if (created) created->abandon();
        opened.abandon();
    }
    // A run of batches that stopped on e: without a file, e itself; after a
    // failed write (io), e with the file abandoned; otherwise the file marked
    // "stopped after DONE: WHY" and kept, and e's message ends with "; finished
    // KEPT kept in FILE (continue with --resume FILE)" (without the advice after a
    // blow-up, which a resume would repeat). Always throws.
    // With none finished (any_kept false), "; none finished, FILE marked" instead.
    [[noreturn]] void stop(const class Error& e, const std::string& done, const std::string& kept, bool any_kept = true);
    // "; finished KEPT kept in FILE (continue with --resume FILE)": the one wording
    // (without the advice where a resume would only repeat the stop).
    static std::string kept_note(const std::string& kept, const std::string& path, bool resumable = true) {
        return "; finished " + kept + " kept in " + path + (resumable ? " (continue with --resume " + path + ")" : "");
    }
    // Marks the file "finished" and commits it (abandons it if that fails).
    void finish();
};

// Flushes an open file; a failure (disk full) is Error(io) naming path.
void flush_file(hid_t file, const std::string& path);

// Refuses (Error io, "disk full") to write `bytes` more into the file at
// disk_path when its file system or the file-size limit (ulimit -f) has no
// room for them: HDF5 cannot undo a write that fails half way, so writes that
// cannot fit are not started.
void ensure_room(const std::string& disk_path, double bytes, const std::string& name);

}  // namespace xyzmf
