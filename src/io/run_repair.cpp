// Recovery of damaged run files (run_repair.hpp).
#include "run_repair.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "xyzmf/error.hpp"
#include "hdf5.hpp"
#include "output_file.hpp"
#include "schema.hpp"

namespace xyzmf {
namespace {

const char* const kTimeseries[] = {"t", "mean", "staggered", "residual"};
constexpr hsize_t kTimeseriesCols[] = {1, 3, 3, 1};

// HDF5 calls that may fail on a damaged file, without an exception.
struct Quiet {
    H5E_auto2_t func = nullptr;
    void* data = nullptr;
    Quiet() {
        H5Eget_auto2(H5E_DEFAULT, &func, &data);
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }
    ~Quiet() { H5Eset_auto2(H5E_DEFAULT, func, data); }
};

std::string temp_beside(const std::string& path, const char* what) {
    const std::size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    return dir + "." + name + ".tmp-" + what + std::to_string(::getpid());
}

void write_bytes(const std::string& path, const std::vector<unsigned char>& b) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(path + ": cannot create (" + std::string(std::strerror(errno)) + ")", exit_code::io);
    std::size_t at = 0;
    while (at < b.size()) {
        const ssize_t w = ::write(fd, b.data() + at, b.size() - at);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            ::close(fd);
            ::unlink(path.c_str());
            throw Error(path + ": cannot write (disk full?)", exit_code::io);
        }
        at += std::size_t(w);
    }
    ::close(fd);
}

void create_run_tables(hid_t f) {
    h5::Id ts = h5::create_group(f, "/timeseries");
    for (int i = 0; i < 4; ++i) h5::create_table(ts, kTimeseries[i], kTimeseriesCols[i]);
    h5::create_group(f, "/snapshots");
}

// Puts a finished rebuild into place: in place, the damaged file stays as
// path.damaged (a hard link made first, so that at every moment path is either
// the damaged or the rebuilt file); the journal follows its file. A file torn
// again after a rebuild (a later kill during a flush) keeps that copy too, as
// path.damaged.2, .3, ...: no damaged copy replaces another.
void install(const std::string& temp, const std::string& path, const std::string& out, RepairReport& r,
             const std::string& temp_journal) {
    if (out == path) {
        std::string keep;
        for (int n = 1;; ++n) {
            keep = path + ".damaged" + (n == 1 ? std::string() : "." + std::to_string(n));
            if (::link(path.c_str(), keep.c_str()) == 0) break;
            if (errno != EEXIST || n == 1000)
                throw Error(path + ": cannot keep the damaged file as " + keep + " (" + std::strerror(errno) + ")",
                            exit_code::io);
        }
        r.damaged_copy = keep;
    }
    if (::rename(temp.c_str(), out.c_str()) != 0)
        throw Error(out + ": cannot rename the repaired file into place (" + std::string(std::strerror(errno)) + ")",
                    exit_code::io);
    if (!temp_journal.empty() && ::rename(temp_journal.c_str(), RunJournal::path_for(out).c_str()) != 0)
        throw Error(out + ": cannot put its journal into place (" + std::string(std::strerror(errno)) + ")", exit_code::io);
}

// Depth-first copy of what reads (salvage); false if something under src was
// lost (a group that lost a member loses its commit mark: it is not complete).
bool copy_tree(hid_t src, hid_t dst, const std::string& where, RepairReport& r, std::int64_t& copied) {
    H5G_info_t info;
    const std::size_t lost_before = r.lost.size();
    if (H5Gget_info(src, &info) < 0) {
        r.lost.push_back(where + " (its members cannot be listed)");
        return false;
    }
    for (hsize_t i = 0; i < info.nlinks; ++i) {
        char name[1024] = {0};
        if (H5Lget_name_by_idx(src, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) < 0) {
            r.lost.push_back(where + " member " + std::to_string(i) + " (its name cannot be read)");
            continue;
        }
        const std::string child = (where == "/" ? "/" : where + "/") + name;
        H5O_info_t oi;
        if (H5Oget_info_by_name2(src, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
            r.lost.push_back(child + " (its header cannot be read)");
            continue;
        }
        if (oi.type == H5O_TYPE_GROUP) {
            const hid_t g = H5Gopen2(src, name, H5P_DEFAULT);
            if (g < 0) {
                r.lost.push_back(child + " (cannot be opened)");
                continue;
            }
            h5::Id sg(g, H5Gclose, "open " + child);
            const hid_t d = H5Gcreate2(dst, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            if (d < 0) throw Error("repair: cannot create " + child + " in the new file (disk full?)", exit_code::io);
            h5::Id dg(d, H5Gclose, "create " + child);
            for (const std::string& a : copy_attributes(sg, dg)) r.lost.push_back(child + " attribute " + a);
            if (!copy_tree(sg, dg, child, r, copied) && H5Aexists(dg, "complete") > 0) H5Adelete(dg, "complete");
            ++copied;
        } else if (H5Ocopy(src, name, dst, name, H5P_DEFAULT, H5P_DEFAULT) >= 0) {
            ++copied;
        } else {
            if (H5Lexists(dst, name, H5P_DEFAULT) > 0) H5Ldelete(dst, name, H5P_DEFAULT);
            r.lost.push_back(child + " (its data do not read)");
        }
    }
    return r.lost.size() == lost_before;
}

// The names of obj's attributes that can be listed.
std::vector<std::string> attribute_names(hid_t obj) {
    std::vector<std::string> names;
    H5O_info_t oi;
    if (H5Oget_info2(obj, &oi, H5O_INFO_NUM_ATTRS) < 0) return names;
    for (hsize_t i = 0; i < oi.num_attrs; ++i) {
        char name[1024] = {0};
        if (H5Aget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) >= 0)
            names.push_back(name);
    }
    return names;
}

}  // namespace

std::vector<std::string> copy_attributes(hid_t src, hid_t dst, const std::vector<std::string>& skip) {
    Quiet quiet;
    std::vector<std::string> unread;
    H5O_info_t oi;
    if (H5Oget_info2(src, &oi, H5O_INFO_NUM_ATTRS) < 0) return {"(all: the object's attributes cannot be listed)"};
    for (hsize_t i = 0; i < oi.num_attrs; ++i) {
        char name[1024] = {0};
        if (H5Aget_name_by_idx(src, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) < 0 &&
            H5Aget_name_by_idx(src, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) < 0) {
            unread.push_back("#" + std::to_string(i));
            continue;
        }
        bool skipped = false;
        for (const std::string& s : skip) skipped = skipped || s == name;
        if (skipped) continue;
        const hid_t a = H5Aopen(src, name, H5P_DEFAULT);
        if (a < 0) {
            unread.push_back(name);
            continue;
        }
        h5::Id aa(a, H5Aclose, "attribute");
        const hid_t type = H5Aget_type(a), space = H5Aget_space(a);
        if (type < 0 || space < 0) {
            if (type >= 0) H5Tclose(type);
            if (space >= 0) H5Sclose(space);
            unread.push_back(name);
            continue;
        }
        h5::Id ty(type, H5Tclose, "type"), sp(space, H5Sclose, "space");
        const hssize_t n = std::max<hssize_t>(H5Sget_simple_extent_npoints(space), 1);
        std::vector<unsigned char> buf(std::size_t(n) * H5Tget_size(type) + 16);
        if (H5Aread(a, type, buf.data()) < 0) {
            unread.push_back(name);
            continue;
        }
        const bool vlen = H5Tis_variable_str(type) > 0 || H5Tdetect_class(type, H5T_VLEN) > 0;
        if (H5Aexists(dst, name) > 0) H5Adelete(dst, name);
        const hid_t b = H5Acreate2(dst, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
        const bool ok = b >= 0 && H5Awrite(b, type, buf.data()) >= 0;
        if (b >= 0) H5Aclose(b);
        if (vlen) H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf.data());
        if (!ok) throw Error(std::string("repair: cannot write attribute ") + name + " (disk full?)", exit_code::io);
    }
    return unread;
}

std::vector<unsigned char> run_base_image(hid_t src) {
    h5::Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "file access property list");
    if (H5Pset_fapl_core(fapl, 1 << 16, 0) < 0) throw Error("HDF5: in-memory file", exit_code::io);
    h5::Id f(H5Fcreate("xyzmf-journal-base.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl), H5Fclose, "create an in-memory file");
    copy_attributes(src, f);
    if (H5Ocopy(src, "/parameters", f, "/parameters", H5P_DEFAULT, H5P_DEFAULT) < 0)
        throw Error("HDF5: copy /parameters into the journal", exit_code::io);
    create_run_tables(f);
    if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) throw Error("HDF5: flush an in-memory file", exit_code::io);
    const ssize_t n = H5Fget_file_image(f, nullptr, 0);
    if (n <= 0) throw Error("HDF5: image of an in-memory file", exit_code::io);
    std::vector<unsigned char> image(static_cast<std::size_t>(n));
    if (H5Fget_file_image(f, image.data(), image.size()) != n) throw Error("HDF5: image of an in-memory file", exit_code::io);
    return image;
}

std::optional<JournalContents> journal_of(const std::string& path) {
    std::optional<JournalContents> j = RunJournal::read(RunJournal::path_for(OutputLock::resolve(path)));
    struct stat st;
    if (!j || ::stat(path.c_str(), &st) != 0 || std::uint64_t(st.st_dev) != j->device ||
        std::uint64_t(st.st_ino) != j->inode)
        return std::nullopt;
    return j;
}

bool run_file_sound(const std::string& path, const JournalContents* journal, std::string* why) {
    Quiet quiet;
    auto say = [&](const std::string& w) {
        if (why) *why = w;
        return false;
    };
    try {
        h5::Id f = open_xyzmf(path, false);
        read_run_config(f, path);
        // Every object header HDF5 can reach (what h5py's visititems reads).
        if (H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_INC, [](hid_t, const char*, const H5O_info_t*, void*) -> herr_t {
                return 0;
            }, nullptr, H5O_INFO_BASIC) < 0)
            return say("not every object of it reads");
        std::int64_t rows = -1;
        for (const char* t : kTimeseries) {
            const std::int64_t n = std::int64_t(h5::table_rows(f, std::string("/timeseries/") + t));
            rows = rows < 0 ? n : std::min(rows, n);
        }
        const std::vector<std::int64_t> snaps = snapshot_indices(f);
        if (journal && !journal->snapshots.empty()) {
            const JournalSnapshot& last = journal->snapshots.back();
            if (snaps.empty() || snaps.back() < last.index)
                return say("its last complete snapshot is " +
                           (snaps.empty() ? std::string("none") : std::to_string(snaps.back())) + ", its journal's " +
                           std::to_string(last.index));
            if (rows < last.timeseries_rows)
                return say("it has " + std::to_string(rows) + " time-series rows, its journal " +
                           std::to_string(last.timeseries_rows));
        }
        if (!snaps.empty()) {
            h5::Id g = h5::open_group(f, snapshot_group(snaps.back()));
            if (h5::has_attr(g, "timeseries_rows") && h5::attr_int(g, "timeseries_rows") > rows)
                return say("its time series is shorter than its last snapshot says");
        }
    } catch (const Error& e) {
        return say(e.what());
    }
    return true;
}

RepairReport rebuild_from_journal(const std::string& path, const JournalContents& j, const std::string& out) {
    RepairReport r;
    r.from_journal = true;
    const std::string temp = temp_beside(out, "repair-");
    const std::string temp_journal = temp + ".journal";
    ::unlink(temp.c_str());
    write_bytes(temp, j.base_image);
    try {
        {
            h5::Id f = h5::open_file(temp, true);
            Quiet quiet;
            // The damaged file's root attributes where they still read (its status,
            // history and provenance); the base image has them as they were at the start.
            const hid_t old = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
            if (old >= 0) {
                h5::Id o(old, H5Fclose, "open " + path);
                copy_attributes(o, f, {"status"});
                // and of its /parameters only what the run set after its start (the method
                // that stepped it, its last session's backend, a continuation's end and
                // snapshot interval): the journal's record of the physics stands.
                const hid_t pg = H5Lexists(o, "parameters", H5P_DEFAULT) > 0 ? H5Gopen2(o, "parameters", H5P_DEFAULT) : -1;
                if (pg >= 0) {
                    h5::Id po(pg, H5Gclose, "open " + path + ": /parameters");
                    h5::Id pn = h5::open_group(f, "/parameters");
                    std::vector<std::string> keep;
                    for (const std::string& name : attribute_names(pn))
                        if (name != "method" && name != "backend" && name != "t_end" && name != "snapshot_every")
                            keep.push_back(name);
                    for (const std::string& a : copy_attributes(po, pn, keep))
                        r.lost.push_back("/parameters attribute " + a + " (the journal's value kept)");
                }
            }
            const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) throw Error(path + ": cannot read it (" + std::string(std::strerror(errno)) + ")", exit_code::io);
            const RunConfig cfg = read_run_config(f, path);
            const std::vector<hsize_t> dims = spin_dims(cfg.lattice);
            std::int64_t need_rows = 0;
            std::vector<std::int64_t> written;
            for (const JournalSnapshot& s : j.snapshots) {
                std::uint64_t h = 0;
                std::vector<std::vector<unsigned char>> bytes;
                if (!hash_pieces(fd, s.pieces, h, &bytes) || (s.hashed && h != s.data_hash)) {
                    r.lost.push_back("snapshot " + std::to_string(s.index) + " (its data on disk do not match its journal)");
                    continue;
                }
                const hid_t ftype = s.value_bytes == 4 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
                h5::Id g = h5::create_group(f, snapshot_group(s.index));
                h5::Id d = h5::create_array(g, "spins", dims, ftype, s.compress);
                if (s.compress > 0) {
                    for (std::size_t k = 0; k < s.pieces.size(); ++k) {
                        std::vector<hsize_t> off(s.pieces[k].chunk_offset.begin(), s.pieces[k].chunk_offset.end());
                        if (H5Dwrite_chunk(d, H5P_DEFAULT, s.pieces[k].filter_mask, off.data(), bytes[k].size(),
                                           bytes[k].data()) < 0)
                            throw Error(out + ": cannot write a chunk of snapshot " + std::to_string(s.index), exit_code::io);
                    }
                } else if (H5Dwrite(d, ftype, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.at(0).data()) < 0) {
                    throw Error(out + ": cannot write snapshot " + std::to_string(s.index) + " (disk full?)", exit_code::io);
                }
                h5::write_scalar(g, "t", s.t);
                h5::set_attr(g, "step", s.step);
                h5::set_attr(g, "dt_next", s.dt_next);
                h5::set_attr(g, "timeseries_rows", s.timeseries_rows);
                mark_complete(g);
                need_rows = s.timeseries_rows;
                written.push_back(s.index);
                r.last_t = s.t;
                ++r.snapshots;
            }
            ::close(fd);
            const std::int64_t have = std::int64_t(j.rows.size() / kJournalRowValues);
            if (have < need_rows)
                r.lost.push_back("time-series rows " + std::to_string(have) + " to " + std::to_string(need_rows - 1));
            const std::int64_t rows = std::min(have, need_rows);
            std::vector<double> col[4];
            for (std::int64_t i = 0; i < rows; ++i) {
                const double* row = &j.rows[std::size_t(i) * kJournalRowValues];
                col[0].push_back(row[0]);
                col[1].insert(col[1].end(), row + 1, row + 4);
                col[2].insert(col[2].end(), row + 4, row + 7);
                col[3].push_back(row[7]);
            }
            for (int c = 0; c < 4; ++c)
                h5::append_rows(f, std::string("/timeseries/") + kTimeseries[c], col[c].data(), hsize_t(rows),
                                kTimeseriesCols[c]);
            r.rows = rows;
            h5::set_attr(f, "status", std::string("interrupted; rebuilt from its journal after a kill, up to ") +
                                          (r.snapshots ? "snapshot " + std::to_string(written.back()) : "its start") +
                                          " (continue with --resume)");
            flush_file(f, out);
            // The new file's own journal: the same base, its snapshots where they now lie.
            RunJournal nj(temp_journal, temp, j.base_image);
            std::int64_t row = 0;
            for (std::int64_t index : written) {
                h5::Id g = h5::open_group(f, snapshot_group(index));
                JournalSnapshot s;
                s.index = index;
                s.t = h5::read_scalar(g, "t");
                s.step = h5::attr_int(g, "step");
                s.dt_next = h5::attr_double(g, "dt_next");
                s.timeseries_rows = std::min(h5::attr_int(g, "timeseries_rows"), rows);
                h5::Id d = h5::open_dataset(g, "spins");
                h5::Id type(H5Dget_type(d), H5Tclose, "type");
                s.value_bytes = std::int32_t(H5Tget_size(type));
                const hid_t dcpl = H5Dget_create_plist(d);
                s.compress = 0;
                if (dcpl >= 0) {
                    for (int k = 0, n = H5Pget_nfilters(dcpl); k < n; ++k) {
                        unsigned flags = 0, cd[4] = {0};
                        std::size_t ncd = 4;
                        if (H5Pget_filter2(dcpl, unsigned(k), &flags, &ncd, cd, 0, nullptr, nullptr) == H5Z_FILTER_DEFLATE)
                            s.compress = std::int32_t(ncd > 0 ? cd[0] : 1);
                    }
                    H5Pclose(dcpl);
                }
                locate_spins(d, temp, s);
                for (; row < s.timeseries_rows; ++row) nj.add_row(&j.rows[std::size_t(row) * kJournalRowValues]);
                nj.add_snapshot(s);
            }
        }
        install(temp, path, out, r, temp_journal);
    } catch (...) {
        ::unlink(temp.c_str());
        ::unlink(temp_journal.c_str());
        throw;
    }
    return r;
}

std::string not_a_run_file(const std::string& path) {
    Quiet quiet;
    if (H5Fis_hdf5(path.c_str()) <= 0) return "";  // (a damaged superblock: the journal may help)
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return "";
    h5::Id file(f, H5Fclose, "open " + path);
    try {
        if (H5Aexists(file, "schema") == 0) return "not an xyzmf file (no schema = \"xyzmf\" attribute)";
        if (attr_is_string(file, "schema") && h5::attr_string(file, "schema") != kSchemaName)
            return "not an xyzmf file (schema = \"" + h5::attr_string(file, "schema") + "\")";
        if (attr_is_string(file, "content") && h5::attr_string(file, "content") != "run")
            return "an xyzmf " + h5::attr_string(file, "content") + " file, not a run file";
    } catch (const Error&) {
    }
    return "";
}

RepairReport salvage(const std::string& path, const std::string& out) {
    RepairReport r;
    Quiet quiet;
    if (H5Fis_hdf5(path.c_str()) <= 0)
        throw Error(path + ": not an HDF5 file, or its superblock is damaged: nothing to recover without its journal",
                    exit_code::io);
    const hid_t s = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (s < 0)
        throw Error(path + ": cannot be opened (its root is damaged): nothing to recover without its journal",
                    exit_code::io);
    h5::Id src(s, H5Fclose, "open " + path);
    const std::string temp = temp_beside(out, "repair-");
    ::unlink(temp.c_str());
    try {
        std::int64_t copied = 0;
        {
            h5::Id dst = h5::create_file(temp);
            for (const std::string& a : copy_attributes(src, dst)) r.lost.push_back("/ attribute " + a);
            copy_tree(src, dst, "/", r, copied);
            if (copied == 0) throw Error(path + ": nothing in it reads; nothing to recover", exit_code::io);
            std::vector<std::int64_t> snaps;
            try {
                snaps = snapshot_indices(dst);
            } catch (const Error&) {
            }
            r.snapshots = std::int64_t(snaps.size());
            if (h5::exists(dst, "/timeseries/t")) r.rows = std::int64_t(h5::table_rows(dst, "/timeseries/t"));
            if (!r.lost.empty() && h5::has_attr(dst, "status")) {
                const std::string st = h5::attr_string(dst, "status");
                const std::string lost = "salvaged by xyzmf repair (" + std::to_string(r.lost.size()) + " part(s) lost)";
                // A run that lost a part is not finished any more, unless its final state
                // is whole (what --continue-from carries on): --resume may complete it.
                if (st.rfind("finished", 0) == 0 && is_complete(dst, "/final"))
                    h5::set_attr(dst, "status", st + "; " + lost);
                else if (st.rfind("finished", 0) == 0 || st == "running")
                    h5::set_attr(dst, "status", "interrupted; " + lost);
            }
            flush_file(dst, out);
        }
        install(temp, path, out, r, "");
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
    return r;
}

}  // namespace xyzmf
