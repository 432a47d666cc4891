// The write protocol (output_file.hpp): lock, temporary file, rename.
#include "output_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

// "dir/run.h5" -> {"dir/", "run.h5"}
std::pair<std::string, std::string> split(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) return {"", path};
    return {path.substr(0, slash + 1), path.substr(slash + 1)};
}

std::string beside(const std::string& path, const std::string& suffix) {
    const auto [dir, name] = split(path);
    return dir + "." + name + suffix;
}

std::string temp_prefix(const std::string& path) { return beside(path, ".tmp-"); }

// Temporary files of writers that died (kill -9) before their commit: the
// caller holds the lock, so no live process owns them.
void remove_stale_temps(const std::string& path) {
    const auto [dir, name] = split(path);
    DIR* d = ::opendir(dir.empty() ? "." : dir.c_str());
    if (!d) return;
    const std::string prefix = "." + name + ".tmp-";
    while (dirent* e = ::readdir(d))
        if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) == 0) ::unlink((dir + e->d_name).c_str());
    ::closedir(d);
}

}  // namespace

std::string OutputLock::resolve(const std::string& path) {
    std::error_code ec;
    const std::filesystem::path p = std::filesystem::weakly_canonical(path, ec);
    return ec ? path : p.string();
}

OutputLock::OutputLock(const std::string& path) : lock_path_(beside(resolve(path), ".lock")) {
    for (int attempt = 0; attempt < 10; ++attempt) {
        fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0)
            throw Error(path + ": cannot create the lock file " + lock_path_ + " (" + std::strerror(errno) + ")",
                        exit_code::io);
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            char pid[32] = {0};
            const ssize_t n = ::pread(fd_, pid, sizeof pid - 1, 0);
            ::close(fd_);
            fd_ = -1;
            throw Error(path + ": is being written by another xyzmf" +
                            (n > 0 ? std::string(" (pid ") + pid + ")" : std::string()) + "; refusing to touch it",
                        exit_code::io);
        }
        // The holder before us may have removed the file after we opened it:
        // the lock is ours only if it is still the file at lock_path_.
        struct stat held, now;
        if (::fstat(fd_, &held) == 0 && ::stat(lock_path_.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
            held.st_dev == now.st_dev) {
            struct stat data;
            if (::stat(path.c_str(), &data) == 0 && S_ISREG(data.st_mode)) {
                try {
                    hold_file(path, path);  // the file itself, under any other name (a hard link)
                } catch (...) {
                    ::unlink(lock_path_.c_str());
                    ::close(fd_);
                    fd_ = -1;
                    throw;
                }
            }
            // The pid last, once every lock is held: whoever reads it (a refused
            // second writer's message, the drill's harness) may rely on that.
            const std::string pid = std::to_string(::getpid());
            if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
                // The pid is only for the message of a refused second writer.
            }
            return;
        }
        ::close(fd_);
        fd_ = -1;
    }
    throw Error(path + ": cannot lock " + lock_path_, exit_code::io);
}

void OutputLock::hold_file(const std::string& path, const std::string& shown_as) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return;  // not writable by us: whatever writes it next fails on its own
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = off_t(1) << 62;  // a byte no reader or writer of the data ever touches
    fl.l_len = 1;
    if (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
        const int e = errno;
        ::close(fd);
        if (e == EAGAIN || e == EACCES)
            throw Error(shown_as + ": is being written by another xyzmf under another name (a hard link of it); "
                                   "refusing to touch it",
                        exit_code::io);
        return;  // a file system without such locks: the lock file alone guards it
    }
    file_fds_.push_back(fd);
}

OutputLock::~OutputLock() {
    for (int fd : file_fds_) ::close(fd);
    if (fd_ < 0) return;
    ::unlink(lock_path_.c_str());
    ::close(fd_);
}

NewFile::NewFile(const std::string& path, bool overwrite, const std::string& option, const std::string& copy_of)
    : lock_(path), path_(OutputLock::resolve(path)) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
        replaces_ = true;
        if (!overwrite) throw Error(option + ": " + path + " already exists; pass --overwrite to replace it", exit_code::io);
        if (!S_ISREG(st.st_mode)) throw Error(option + ": " + path + " exists and is not a regular file", exit_code::io);
    }
    remove_stale_temps(path_);
    temp_ = temp_prefix(path_) + std::to_string(::getpid());
    if (copy_of.empty()) {
        const hid_t f = H5Fcreate(temp_.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, h5::writer_access());
        if (f < 0) {
            ::unlink(temp_.c_str());
            throw Error(option + ": cannot create " + path + " (directory missing, not writable, or disk full?)",
                        exit_code::io);
        }
        file_ = h5::Id(f, H5Fclose, "create " + path);
        lock_.hold_file(temp_, path);
        return;
    }
    std::error_code ec;
    std::filesystem::copy_file(copy_of, temp_, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) {
        ::unlink(temp_.c_str());
        throw Error(path + ": cannot copy it to write the analysis beside it (" + ec.message() + ")", exit_code::io);
    }
    const hid_t f = H5Fopen(temp_.c_str(), H5F_ACC_RDWR, h5::writer_access());
    if (f < 0) {
        ::unlink(temp_.c_str());
        throw Error(path + ": cannot open its working copy", exit_code::io);
    }
    file_ = h5::Id(f, H5Fclose, "open " + temp_);
    lock_.hold_file(temp_, path);
}

void flush_file(hid_t file, const std::string& path) {
    // A flush that fails half way can leave metadata pointing past the end of
    // the file: start none without room for it.
    char disk_path[4096] = {0};
    if (H5Fget_name(file, disk_path, sizeof disk_path) > 0) ensure_room(disk_path, 256 * 1024, path);
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) throw Error(path + ": cannot write (disk full?)", exit_code::io);
}

void NewFile::commit() {
    if (committed_) return;
    flush_file(file_, path_);
    if (::rename(temp_.c_str(), path_.c_str()) != 0)
        throw Error(path_ + ": cannot rename the finished file into place (" + std::strerror(errno) + ")", exit_code::io);
    committed_ = true;
}

void NewFile::close() {
    if (committed_) file_ = h5::Id();
    else abandon();  // nothing to keep: no flush, no close-time writes
}

void NewFile::abandon() {
    file_.abandon();
    if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
    temp_.clear();
}

void ensure_room(const std::string& disk_path, double bytes, const std::string& name) {
    const auto [dir, file] = split(disk_path);
    struct statvfs fs;
    if (::statvfs(dir.empty() ? "." : dir.c_str(), &fs) == 0) {
        const double free_bytes = double(fs.f_bavail) * double(fs.f_frsize);
        if (free_bytes < bytes)
            throw Error(name + ": disk full (the next write needs " + std::to_string((long long)bytes) + " bytes, " +
                            std::to_string((long long)free_bytes) + " are free)",
                        exit_code::io);
    }
    struct rlimit lim;
    struct stat st;
    if (::getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY && ::stat(disk_path.c_str(), &st) == 0 &&
        double(st.st_size) + bytes > double(lim.rlim_cur))
        throw Error(name + ": file size limit reached (ulimit -f: " + std::to_string((long long)lim.rlim_cur) +
                        " bytes; the next write needs " + std::to_string((long long)bytes) + " more)",
                    exit_code::io);
}

NewFile::~NewFile() { close(); }

void ResumableFile::set_status(const std::string& s) {
    h5::set_attr(handle(), "status", s);
    flush_file(handle(), path);
}

void ResumableFile::stop(const Error& e, const std::string& done, const std::string& kept, bool any_kept) {
    if (!is_open()) throw e;
    if (e.exit_code() == exit_code::io) {
        abandon();
        throw e;
    }
    try {
        set_status("stopped after " + done + ": " + e.what());
        commit();
    } catch (const Error&) {
    }
    // A blow-up would come back on --resume (same steps, same numbers): no advice to.
    const bool resumable = e.exit_code() != exit_code::blow_up;
    if (!any_kept)
        throw Error(std::string(e.what()) + "; none finished, " + path + " marked" +
                        (resumable ? " (continue with --resume " + path + ")" : ""),
                    e.exit_code());
    throw Error(std::string(e.what()) + kept_note(kept, path, resumable), e.exit_code());
}

void ResumableFile::finish() {
    if (!is_open()) return;
    try {
        set_status("finished");
        commit();
    } catch (const Error&) {
        abandon();
        throw;
    }
}

}  // namespace xyzmf
