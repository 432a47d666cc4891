// The journal of a run file (run_journal.hpp).
#include "run_journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

constexpr char kMagic[8] = {'X', 'Y', 'Z', 'M', 'F', 'J', '0', '1'};
constexpr std::uint32_t kRecordMark = 0x4A524543u;  // "CERJ"
enum : std::uint32_t { kHeader = 1, kSnapshot = 2, kCut = 3 };
// A record larger than this is not ours (a base image is a few KB, a snapshot
// record a few KB per thousand chunks, rows 64 bytes each).
constexpr std::uint64_t kMaxPayload = std::uint64_t(1) << 32;

struct Writer {
    std::vector<unsigned char> b;
    template <class T>
    void put(T v) {
        bytes(&v, sizeof v);
    }
    void bytes(const void* p, std::size_t n) {
        if (n == 0) return;
        const std::size_t at = b.size();
        b.resize(at + n);
        std::memcpy(b.data() + at, p, n);
    }
};

struct Reader {
    const unsigned char* p;
    std::size_t n, at = 0;
    bool ok = true;
    template <class T>
    T get() {
        T v{};
        if (at + sizeof v > n) {
            ok = false;
            return v;
        }
        std::memcpy(&v, p + at, sizeof v);
        at += sizeof v;
        return v;
    }
};

bool write_all(int fd, const unsigned char* p, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= std::size_t(w);
    }
    return true;
}

bool read_file(const std::string& path, std::vector<unsigned char>& out) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0) {
        ::close(fd);
        return false;
    }
    out.resize(std::size_t(st.st_size));
    std::size_t got = 0;
    while (got < out.size()) {
        const ssize_t r = ::pread(fd, out.data() + got, out.size() - got, off_t(got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += std::size_t(r);
    }
    ::close(fd);
    out.resize(got);
    return true;
}

}  // namespace

namespace {

// hash_bytes in parts: words() on whole 8-byte words as they come, finish() on the
// last bytes, so that a piece too large for memory is hashed as it is read.
class ByteHash {
public:
    ByteHash(std::uint64_t seed, std::size_t n) : h_(seed ^ (std::uint64_t(n) * 0x9E3779B97F4A7C15ULL)) {}
    void words(const unsigned char* p, std::size_t n) {  // n: a multiple of 8
        for (std::size_t i = 0; i + 8 <= n; i += 8) {
            std::uint64_t w;
            std::memcpy(&w, p + i, 8);
            h_ ^= w * 0xC2B2AE3D27D4EB4FULL;
            h_ = (h_ << 31 | h_ >> 33) * 0x9E3779B97F4A7C15ULL;
        }
    }
    std::uint64_t finish(const unsigned char* p, std::size_t n) {
        const std::size_t whole = n / 8 * 8;
        words(p, whole);
        std::uint64_t tail = 0;
        for (std::size_t k = 0; whole + k < n; ++k) tail |= std::uint64_t(p[whole + k]) << (8 * k);
        std::uint64_t h = h_ ^ tail * 0x165667B19E3779F9ULL;
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDULL;
        h ^= h >> 33;
        return h;
    }

private:
    std::uint64_t h_;
};

bool read_fully(int fd, unsigned char* buf, std::size_t n, std::uint64_t offset) {
    std::size_t got = 0;
    while (got < n) {
        const ssize_t r = ::pread(fd, buf + got, n - got, off_t(offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += std::size_t(r);
    }
    return true;
}

}  // namespace

std::uint64_t hash_bytes(const void* data, std::size_t n, std::uint64_t seed) {
    return ByteHash(seed, n).finish(static_cast<const unsigned char*>(data), n);
}

std::string RunJournal::path_for(const std::string& data_path) {
    const std::size_t slash = data_path.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : data_path.substr(0, slash + 1);
    const std::string name = slash == std::string::npos ? data_path : data_path.substr(slash + 1);
    return dir + "." + name + ".journal";
}

RunJournal::RunJournal(const std::string& journal_path, const std::string& data_path,
                       const std::vector<unsigned char>& base_image)
    : path_(journal_path) {
    struct stat st;
    if (::stat(data_path.c_str(), &st) != 0)
        throw Error(data_path + ": cannot stat it to start its journal (" + std::strerror(errno) + ")", exit_code::io);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw Error(path_ + ": cannot create the run's journal (" + std::string(std::strerror(errno)) + ")", exit_code::io);
    Writer w;
    w.put(std::uint64_t(st.st_dev));
    w.put(std::uint64_t(st.st_ino));
    w.put(std::uint64_t(base_image.size()));
    w.bytes(base_image.data(), base_image.size());
    if (!write_all(fd_, reinterpret_cast<const unsigned char*>(kMagic), sizeof kMagic)) {
        ::close(fd_);
        fd_ = -1;
        ::unlink(path_.c_str());
        throw Error(path_ + ": cannot write the run's journal (disk full?)", exit_code::io);
    }
    append(kHeader, w.b);
}

std::unique_ptr<RunJournal> RunJournal::reopen(const std::string& journal_path) {
    std::unique_ptr<RunJournal> j(new RunJournal());
    j->path_ = journal_path;
    j->fd_ = ::open(journal_path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (j->fd_ < 0)
        throw Error(journal_path + ": cannot open the run's journal (" + std::string(std::strerror(errno)) + ")",
                    exit_code::io);
    return j;
}

RunJournal::~RunJournal() {
    if (fd_ >= 0) ::close(fd_);
}

void RunJournal::append(std::uint32_t type, const std::vector<unsigned char>& payload) {
    Writer w;
    w.put(kRecordMark);
    w.put(type);
    w.put(std::uint64_t(payload.size()));
    w.bytes(payload.data(), payload.size());
    w.put(hash_bytes(w.b.data(), w.b.size()));
    // One write: a kill leaves the record whole or recognisably torn.
    if (!write_all(fd_, w.b.data(), w.b.size()))
        throw Error(path_ + ": cannot write the run's journal (disk full?)", exit_code::io);
}

void RunJournal::add_row(const double row[kJournalRowValues]) {
    pending_rows_.insert(pending_rows_.end(), row, row + kJournalRowValues);
}

void RunJournal::add_snapshot(const JournalSnapshot& s) {
    Writer w;
    w.put(s.index);
    w.put(s.t);
    w.put(s.step);
    w.put(s.dt_next);
    w.put(s.timeseries_rows);
    w.put(s.value_bytes);
    w.put(s.compress);
    w.put(std::uint32_t(s.hashed));
    w.put(s.data_hash);
    w.put(std::uint64_t(s.pieces.size()));
    for (const JournalPiece& p : s.pieces) {
        w.put(p.offset);
        w.put(p.size);
        w.put(p.filter_mask);
        w.put(std::uint32_t(p.chunk_offset.size()));
        for (std::uint64_t c : p.chunk_offset) w.put(c);
    }
    w.put(std::uint64_t(pending_rows_.size() / kJournalRowValues));
    w.bytes(pending_rows_.data(), pending_rows_.size() * sizeof(double));
    append(kSnapshot, w.b);
    pending_rows_.clear();
}

void RunJournal::cut(std::int64_t keep_snapshots, std::int64_t keep_rows) {
    Writer w;
    w.put(keep_snapshots);
    w.put(keep_rows);
    append(kCut, w.b);
    pending_rows_.clear();
}

void RunJournal::rename_to(const std::string& journal_path) {
    if (journal_path == path_) return;
    if (::rename(path_.c_str(), journal_path.c_str()) != 0)
        throw Error(path_ + ": cannot rename the run's journal (" + std::string(std::strerror(errno)) + ")",
                    exit_code::io);
    path_ = journal_path;
}

void RunJournal::remove() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(path_.c_str());
}

std::optional<JournalContents> RunJournal::read(const std::string& journal_path) {
    std::vector<unsigned char> data;
    if (!read_file(journal_path, data) || data.size() < sizeof kMagic ||
        std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
        return std::nullopt;
    JournalContents c;
    std::size_t at = sizeof kMagic;
    bool have_header = false;
    while (at < data.size()) {
        Reader head{data.data() + at, data.size() - at};
        const auto mark = head.get<std::uint32_t>();
        const auto type = head.get<std::uint32_t>();
        const auto len = head.get<std::uint64_t>();
        if (!head.ok || mark != kRecordMark || len > kMaxPayload || head.at + len + 8 > head.n) {
            c.torn_tail = true;
            break;
        }
        std::uint64_t stored;
        std::memcpy(&stored, data.data() + at + head.at + len, 8);
        if (hash_bytes(data.data() + at, head.at + len) != stored) {
            c.torn_tail = true;
            break;
        }
        Reader r{data.data() + at + head.at, std::size_t(len)};
        at += head.at + len + 8;
        if (type == kHeader && !have_header) {
            c.device = r.get<std::uint64_t>();
            c.inode = r.get<std::uint64_t>();
            const auto n = r.get<std::uint64_t>();
            if (!r.ok || n > r.n - r.at) return std::nullopt;
            c.base_image.assign(r.p + r.at, r.p + r.at + n);
            have_header = true;
        } else if (type == kSnapshot && have_header) {
            JournalSnapshot s;
            s.index = r.get<std::int64_t>();
            s.t = r.get<double>();
            s.step = r.get<std::int64_t>();
            s.dt_next = r.get<double>();
            s.timeseries_rows = r.get<std::int64_t>();
            s.value_bytes = r.get<std::int32_t>();
            s.compress = r.get<std::int32_t>();
            s.hashed = r.get<std::uint32_t>() != 0;
            s.data_hash = r.get<std::uint64_t>();
            const auto pieces = r.get<std::uint64_t>();
            for (std::uint64_t i = 0; r.ok && i < pieces; ++i) {
                JournalPiece p;
                p.offset = r.get<std::uint64_t>();
                p.size = r.get<std::uint64_t>();
                p.filter_mask = r.get<std::uint32_t>();
                const auto rank = r.get<std::uint32_t>();
                for (std::uint32_t k = 0; r.ok && k < rank && k < 8; ++k) p.chunk_offset.push_back(r.get<std::uint64_t>());
                s.pieces.push_back(std::move(p));
            }
            const auto rows = r.get<std::uint64_t>();
            if (!r.ok || rows > (r.n - r.at) / (kJournalRowValues * sizeof(double))) return std::nullopt;
            const std::size_t first = c.rows.size();
            c.rows.resize(first + rows * kJournalRowValues);
            std::memcpy(c.rows.data() + first, r.p + r.at, rows * kJournalRowValues * sizeof(double));
            c.snapshots.push_back(std::move(s));
        } else if (type == kCut && have_header) {
            const auto keep_snapshots = r.get<std::int64_t>();
            const auto keep_rows = r.get<std::int64_t>();
            if (!r.ok) return std::nullopt;
            while (!c.snapshots.empty() && c.snapshots.back().index >= keep_snapshots) c.snapshots.pop_back();
            if (keep_rows >= 0 && std::size_t(keep_rows) * kJournalRowValues < c.rows.size())
                c.rows.resize(std::size_t(keep_rows) * kJournalRowValues);
        } else {
            return std::nullopt;  // not a journal we wrote
        }
        ++c.records;
    }
    if (!have_header) return std::nullopt;
    return c;
}

bool hash_pieces(int fd, const std::vector<JournalPiece>& pieces, std::uint64_t& hash,
                 std::vector<std::vector<unsigned char>>* bytes, std::size_t block_bytes) {
    std::uint64_t h = 0;
    std::vector<unsigned char> buf;
    // Read in blocks: a contiguous snapshot is one piece as large as the state,
    // which the root of a spread run never holds whole.
    const std::size_t block = std::max<std::size_t>(8, block_bytes / 8 * 8);
    for (const JournalPiece& p : pieces) {
        if (p.size > (std::uint64_t(1) << 40)) return false;
        const std::uint64_t seed = h ^ p.offset;  // one piece: seed = its offset
        if (bytes) {
            buf.resize(std::size_t(p.size));
            if (!read_fully(fd, buf.data(), buf.size(), p.offset)) return false;
            h = hash_bytes(buf.data(), buf.size(), seed);
            bytes->push_back(buf);
            continue;
        }
        ByteHash piece(seed, std::size_t(p.size));
        std::uint64_t done = 0;
        for (;;) {
            const std::size_t n = std::size_t(std::min<std::uint64_t>(block, p.size - done));
            buf.resize(n);
            if (!read_fully(fd, buf.data(), n, p.offset + done)) return false;
            done += n;
            if (done == p.size) break;
            piece.words(buf.data(), n);
        }
        h = piece.finish(buf.data(), buf.size());
    }
    hash = h;
    return true;
}

void locate_spins(hid_t d, const std::string& disk_path, JournalSnapshot& s, const void* written) {
    s.pieces.clear();
    const hid_t dcpl = H5Dget_create_plist(d);
    const bool chunked = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED;
    if (dcpl >= 0) H5Pclose(dcpl);
    if (!chunked) {
        const haddr_t a = H5Dget_offset(d);
        const hsize_t n = H5Dget_storage_size(d);
        if (a == HADDR_UNDEF) throw Error(disk_path + ": cannot locate the spins just written", exit_code::io);
        s.pieces.push_back({std::uint64_t(a), std::uint64_t(n), 0, {}});
    } else {
        const hid_t space = H5Dget_space(d);
        hsize_t count = 0;
        if (space < 0 || H5Dget_num_chunks(d, space, &count) < 0) {
            if (space >= 0) H5Sclose(space);
            throw Error(disk_path + ": cannot list the chunks of the spins just written", exit_code::io);
        }
        const int rank = H5Sget_simple_extent_ndims(space);
        for (hsize_t i = 0; i < count; ++i) {
            hsize_t off[8] = {0};
            unsigned mask = 0;
            haddr_t addr = HADDR_UNDEF;
            hsize_t size = 0;
            if (H5Dget_chunk_info(d, space, i, off, &mask, &addr, &size) < 0 || addr == HADDR_UNDEF) {
                H5Sclose(space);
                throw Error(disk_path + ": cannot locate a chunk of the spins just written", exit_code::io);
            }
            JournalPiece p{std::uint64_t(addr), std::uint64_t(size), std::uint32_t(mask), {}};
            for (int k = 0; k < rank && k < 8; ++k) p.chunk_offset.push_back(off[k]);
            s.pieces.push_back(std::move(p));
        }
        H5Sclose(space);
    }
    // The hash is of the bytes as they are on disk: for contiguous spins those
    // just written from memory, else as read back (the data were flushed).
    if (written && !chunked) {
        s.data_hash = hash_bytes(written, std::size_t(s.pieces[0].size), s.pieces[0].offset);
        s.hashed = true;
        return;
    }
    const int fd = ::open(disk_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(disk_path + ": cannot read back the spins just written", exit_code::io);
    std::uint64_t h = 0;
    const bool ok = hash_pieces(fd, s.pieces, h);
    ::close(fd);
    if (!ok) throw Error(disk_path + ": the spins just written are not all on disk", exit_code::io);
    s.data_hash = h;
    s.hashed = true;
}

}  // namespace xyzmf
