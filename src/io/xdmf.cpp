// XDMF sidecars (xdmf.hpp). The XML follows the XDMF 3 model that ParaView's
// "XDMF Reader" and "Xdmf3 Reader" both read: a temporal collection of uniform
// grids on a co-rectilinear mesh (nodes at integer lattice coordinates, the
// same frame as the vortex positions), and a second temporal collection of
// point sets for the vortices. Array extents are listed slowest axis first,
// like the HDF5 datasets they point into.
#include "xdmf.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "xyzmf/error.hpp"
#include "signals.hpp"
#include "hdf5.hpp"
#include "output_file.hpp"
#include "schema.hpp"
#include "xyzmf/version.hpp"

namespace xyzmf {
namespace fs = std::filesystem;

namespace {

struct StateEntry {
    std::string group;
    double t = 0;
    std::int64_t vortex_points = 0;
};

std::string replace_extension(const std::string& path, const std::string& ext) {
    fs::path p(path);
    p.replace_extension(ext);
    return p.string();
}

// How the sidecar names file: relative to the sidecar's directory.
std::string reference(const std::string& file, const std::string& sidecar) {
    const fs::path dir = fs::absolute(sidecar).parent_path();
    return fs::absolute(file).lexically_normal().lexically_relative(dir).string();
}

std::string xml_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '&') o += "&amp;";
        else if (c == '<') o += "&lt;";
        else if (c == '>') o += "&gt;";
        else if (c == '"') o += "&quot;";
        else o += c;
    }
    return o;
}

// Text for inside an XML comment, which must not contain "--".
std::string comment_text(const std::string& s) {
    std::string o;
    for (char c : s) o += c == '-' && !o.empty() && o.back() == '-' ? std::string(" -") : std::string(1, c);
    return o;
}

std::string fmt(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.15g", v);
    return b;
}

}  // namespace

struct XdmfExport::Impl {
    std::string run_ref, fields_ref, xdmf, fields;
    bool has_psi = false;
    RunConfig cfg;
    XdmfOptions opt;
    int precision = 8;  // bytes per stored spin component
    std::unique_ptr<OutputLock> xdmf_lock;
    std::unique_ptr<NewFile> fields_file;
    std::vector<StateEntry> states;

    // Before a state's fields are written: an earlier state at time t dropped
    // (the later one wins), room checked, its group made afresh; the file.
    hid_t begin_state(const std::string& group, double t);
    // The state's fields are in the file: (streaming) flushed or put into place,
    // and the document rewritten to name the state.
    void state_written(const std::string& group, double t, std::int64_t vortex_points);

    // The datasets' extents, slowest axis first (2D and 1D: Ly x Lx and 1 x Lx sheets).
    std::string extents() const {
        const Lattice& l = cfg.lattice;
        if (l.dim == 3) return std::to_string(l.L[2]) + " " + std::to_string(l.L[1]) + " " + std::to_string(l.L[0]);
        return std::to_string(l.dim == 2 ? l.L[1] : 1) + " " + std::to_string(l.L[0]);
    }
    // The mesh's: always three axes, so that ParaView puts a 2D lattice (and a 1D
    // chain) in the X-Y plane at z = 0, where the vortex points are. A two-axis
    // 2DCoRectMesh lands in its Y-Z plane (x extent 1): nothing lines up and the
    // default camera looks at an edge.
    std::string mesh_extents() const { return cfg.lattice.dim == 3 ? extents() : "1 " + extents(); }
    // Extents of the fields file's datasets: the mesh's.
    std::vector<hsize_t> field_dims() const {
        const Lattice& l = cfg.lattice;
        if (l.dim == 3) return {hsize_t(l.L[2]), hsize_t(l.L[1]), hsize_t(l.L[0])};
        return {hsize_t(l.dim == 2 ? l.L[1] : 1), hsize_t(l.L[0])};
    }

    std::string data_item(const std::string& dims, int bytes, const std::string& path, const char* type = "Float") const {
        return "<DataItem Dimensions=\"" + dims + "\" NumberType=\"" + type + "\" Precision=\"" + std::to_string(bytes) +
               "\" Format=\"HDF\">" + xml_escape(path) + "</DataItem>";
    }

    std::string lattice_grid(const StateEntry& s) const {
        const std::string ext = extents(), fields = fields_ref + ":" + s.group + "/";
        // 1D spins come from the fields file, stored there as a 1 x Lx sheet: the
        // readers want a dataset of the mesh's rank.
        const std::string spins = cfg.lattice.dim == 1 ? fields + "spin" : run_ref + ":" + s.group + "/spins";
        const int spin_bytes = cfg.lattice.dim == 1 ? 8 : precision;
        std::ostringstream x;
        x << "   <Grid Name=\"" << s.group << "\" GridType=\"Uniform\">\n"
          << "    <Time Value=\"" << fmt(s.t) << "\"/>\n"
          << "    <Topology TopologyType=\"3DCoRectMesh\" Dimensions=\"" << mesh_extents() << "\"/>\n"
          << "    <Geometry GeometryType=\"ORIGIN_DXDYDZ\">\n"
          << "     <DataItem Dimensions=\"3\" Format=\"XML\">0 0 0</DataItem>\n"
          << "     <DataItem Dimensions=\"3\" Format=\"XML\">1 1 1</DataItem>\n"
          << "    </Geometry>\n"
          << "    <Attribute Name=\"spin\" AttributeType=\"Vector\" Center=\"Node\">\n"
          << "     " << data_item(ext + " 3", spin_bytes, spins) << "\n"
          << "    </Attribute>\n"
          << "    <Attribute Name=\"sz\" AttributeType=\"Scalar\" Center=\"Node\">\n"
          << "     " << data_item(ext, 8, fields + "sz") << "\n"
          << "    </Attribute>\n";
        if (has_psi)
            x << "    <Attribute Name=\"psi\" AttributeType=\"Scalar\" Center=\"Node\">\n"
              << "     " << data_item(ext, 8, fields + "psi") << "\n"
              << "    </Attribute>\n";
        x << "   </Grid>\n";
        return x.str();
    }

    std::string vortex_grid(const StateEntry& s) const {
        const std::string n = std::to_string(s.vortex_points), a = run_ref + ":" + s.group + "/analysis/";
        std::ostringstream x;
        x << "   <Grid Name=\"" << s.group << " vortices\" GridType=\"Uniform\">\n"
          << "    <Time Value=\"" << fmt(s.t) << "\"/>\n"
          << "    <Topology TopologyType=\"Polyvertex\" NumberOfElements=\"" << n << "\" NodesPerElement=\"1\"/>\n"
          << "    <Geometry GeometryType=\"XYZ\">\n"
          << "     " << data_item(n + " 3", 8, a + "vortex_positions") << "\n"
          << "    </Geometry>\n"
          << "    <Attribute Name=\"charge\" AttributeType=\"Scalar\" Center=\"Node\">\n"
          << "     " << data_item(n, 8, a + "vortex_charges") << "\n"
          << "    </Attribute>\n"
          << "    <Attribute Name=\"normal\" AttributeType=\"Scalar\" Center=\"Node\">\n"
          << "     " << data_item(n, 8, a + "vortex_normals") << "\n"
          << "    </Attribute>\n"
          << "   </Grid>\n";
        return x.str();
    }

    // The document naming the states so far, written completely into a
    // temporary file beside the sidecar; returns its path.
    std::string write_temp_document() const {
        std::ostringstream x;
        x << "<?xml version=\"1.0\" ?>\n<Xdmf Version=\"3.0\">\n"
          << " <!-- xyzmf " << XYZMF_VERSION << ": the states of " << comment_text(xml_escape(run_ref))
          << " (" << lattice_text(cfg.lattice) << "); spin = Bloch vector (sx, sy, sz), sz, psi = sXY phase field"
          << " (radians, NaN where undefined); time in 1/gamma, lengths in lattice sites -->\n"
          << " <Domain>\n  <Grid Name=\"lattice\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
        for (const StateEntry& s : states) x << lattice_grid(s);
        x << "  </Grid>\n";
        bool any = false;
        for (const StateEntry& s : states) any = any || s.vortex_points > 0;
        if (any) {
            x << "  <Grid Name=\"vortices\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
            for (const StateEntry& s : states)
                if (s.vortex_points > 0) x << vortex_grid(s);
            x << "  </Grid>\n";
        }
        x << " </Domain>\n</Xdmf>\n";
        // A reader must never see half a document: write beside it, then rename.
        const std::string temp = (fs::path(xdmf).parent_path() / ("." + fs::path(xdmf).filename().string() + ".tmp-" +
                                                                   std::to_string(getpid()))).string();
        {
            std::ofstream f(temp, std::ios::trunc);
            f << x.str();
            f.flush();
            if (!f) {
                std::remove(temp.c_str());
                throw Error(xdmf + ": cannot write the XDMF file (disk full or no permission?)", exit_code::io);
            }
        }
        return temp;
    }
    void install_document(const std::string& temp) const {
        if (std::rename(temp.c_str(), xdmf.c_str()) != 0) {
            std::remove(temp.c_str());
            throw Error(xdmf + ": cannot rename the XDMF file into place", exit_code::io);
        }
    }
    void write_document() const { install_document(write_temp_document()); }

    // After a failed write the fields file is never flushed again (an
    // uncommitted one is removed), and no further state is added.
    template <class F>
    void guarded(F&& write) {
        if (failed) throw Error(fields + ": not written after an earlier failure", exit_code::io);
        try {
            write();
        } catch (...) {
            failed = true;
            fields_file->abandon();
            throw;
        }
    }
    bool failed = false;
};

std::string xdmf_sidecar_path(const std::string& run_file, const XdmfOptions& o) {
    return o.xdmf_path.empty() ? replace_extension(run_file, ".xdmf") : o.xdmf_path;
}

void check_xdmf_names(const std::string& run_file, const XdmfOptions& o) {
    const std::string xdmf = xdmf_sidecar_path(run_file, o);
    const std::string fields = replace_extension(xdmf, ".fields.h5");
    // A data item reads FILE:/path; ParaView's Xdmf3 readers end the file name at
    // the first ':' and abort, so no ':' may appear in the names the sidecar holds.
    for (const std::string& ref : {reference(run_file, xdmf), reference(fields, xdmf)})
        if (ref.find(':') != std::string::npos)
            throw Error((o.xdmf_path.empty() ? std::string("--xdmf: ") : "--xdmf-out: ") + "the sidecar " + xdmf +
                            " would name " + ref + ", and ParaView's XDMF readers take the ':' in it for the end of "
                            "the file name; rename it, or put the sidecar where the path it names has no ':'",
                        exit_code::usage);
}

void check_xdmf_free(const std::string& run_file, const XdmfOptions& o) {
    check_xdmf_names(run_file, o);
    if (o.overwrite) return;
    const std::string xdmf = xdmf_sidecar_path(run_file, o);
    for (const std::string& f : {xdmf, replace_extension(xdmf, ".fields.h5")})
        if (fs::exists(f)) throw Error(f + " already exists; pass --overwrite to replace it", exit_code::io);
}

XdmfExport::XdmfExport(const std::string& run_file, const RunConfig& cfg, const XdmfOptions& o)
    : impl_(std::make_unique<Impl>()) {
    check_xdmf_names(run_file, o);
    Impl& m = *impl_;
    m.cfg = cfg;
    m.opt = o;
    m.xdmf = xdmf_sidecar_path(run_file, o);
    if (fs::path(m.xdmf).extension() != ".xdmf" && fs::path(m.xdmf).extension() != ".xmf")
        throw Error("--xdmf-out: " + m.xdmf + " must end in .xdmf or .xmf (ParaView picks its reader by the name)",
                    exit_code::usage);
    m.fields = replace_extension(m.xdmf, ".fields.h5");
    std::error_code ec;
    if (fs::equivalent(m.xdmf, run_file, ec))
        throw Error(m.xdmf + ": is the run file itself", exit_code::usage);
    // (--xdmf-out a.xdmf of the run file a.fields.h5: --overwrite would replace the run by its fields)
    if (fs::equivalent(m.fields, run_file, ec))
        throw Error("--xdmf-out: " + m.xdmf + " would put its fields file " + m.fields +
                        " over the run file itself; choose another name",
                    exit_code::usage);
    m.precision = cfg.precision == Precision::float32 ? 4 : 8;
    m.run_ref = reference(run_file, m.xdmf);
    m.xdmf_lock = std::make_unique<OutputLock>(m.xdmf);
    if (fs::exists(m.xdmf) && !o.overwrite)
        throw Error(m.xdmf + " already exists; pass --overwrite to replace it", exit_code::io);
    if (fs::exists(m.xdmf) && !fs::is_regular_file(m.xdmf))
        throw Error(m.xdmf + " exists and is not a regular file", exit_code::io);
    m.fields_ref = reference(m.fields, m.xdmf);
    m.fields_file = std::make_unique<NewFile>(m.fields, o.overwrite, "fields file");
    const hid_t f = m.fields_file->handle();
    write_provenance(f, o.command_line, "fields for the XDMF sidecar " + fs::path(m.xdmf).filename().string());
    h5::set_attr(f, "fields_of", m.run_ref);
    // psi needs Jx Jy != 0 (its B-sublattice direction divides by them).
    m.has_psi = cfg.couplings.Jx * cfg.couplings.Jy != 0;
    if (m.has_psi && !o.phase_field) throw std::logic_error("XdmfOptions::phase_field not given");
    if (m.has_psi) {
        h5::set_attr(f, "psi_min_amplitude", o.min_amplitude);
        h5::set_attr(f, "psi_definition",
                     std::string("psi = atan2(sy, sx) on sites with i + j + k even, atan2(Jx sx, -Jy sy) on the others; "
                                 "NaN where sqrt(sx^2 + sy^2) < psi_min_amplitude"));
    }
}

XdmfExport::~XdmfExport() = default;

// The state's group in the fields file and its parents, without the fields
// an earlier export of the same group left.
static void fresh_fields_group(hid_t f, const std::string& group) {
    std::string path;  // the group's parents: "/snapshots", then "/snapshots/000003"
    std::stringstream parts(group.substr(1));
    for (std::string part; std::getline(parts, part, '/');) {
        path += "/" + part;
        if (!h5::exists(f, path)) h5::create_group(f, path);
    }
    for (const char* name : {"sz", "psi", "spin"})
        if (h5::exists(f, group + "/" + name)) h5::remove(f, group + "/" + name);
}

hid_t XdmfExport::Impl::begin_state(const std::string& group, double t) {
    for (std::size_t i = 0; i < states.size(); ++i)
        if (states[i].t == t) {  // one state per time: the later one (the final state) wins
            states.erase(states.begin() + std::ptrdiff_t(i));
            break;
        }
    const index_t N = cfg.lattice.sites();
    // sz, psi and (1D) the spins, plus a margin for the metadata written with them.
    const double bytes = 8.0 * double(N) * (1 + (has_psi ? 1 : 0) + (cfg.lattice.dim == 1 ? 3 : 0));
    ensure_room(fields_file->disk_path(), bytes * 1.0625 + 65536, fields);
    const hid_t f = fields_file->handle();
    fresh_fields_group(f, group);
    return f;
}

void XdmfExport::Impl::state_written(const std::string& group, double t, std::int64_t vortex_points) {
    guarded([&] {
        if (!opt.stream) return;  // finish() puts everything into place
        if (!fields_file->committed()) fields_file->commit();
        else flush_file(fields_file->handle(), fields);
    });
    states.push_back({group, t, vortex_points});
    if (opt.stream) write_document();
}

void XdmfExport::add_state(const std::string& group, double t, const HostState& spins, std::int64_t vortex_points) {
    Impl& m = *impl_;
    m.guarded([&] {
        const hid_t f = m.begin_state(group, t);
        const std::vector<hsize_t> dims = m.field_dims();
        const index_t N = m.cfg.lattice.sites();
        auto put = [&](const char* name, const std::vector<hsize_t>& d, const double* v) {
            h5::write_array(f, group + "/" + name, d, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, v, 0);
        };
        put("sz", dims, spins.data() + 2 * N);  // the z block of the state (x fastest, like the mesh)
        if (m.has_psi) put("psi", dims, m.opt.phase_field(m.cfg.lattice, m.cfg.couplings, spins, m.opt.min_amplitude).data());
        if (m.cfg.lattice.dim == 1) put("spin", {1, hsize_t(N), 3}, to_aos(spins, N).data());
    });
    m.state_written(group, t, vortex_points);
}

FieldsOnDisk XdmfExport::prepare_state(const std::string& group, double t) {
    Impl& m = *impl_;
    FieldsOnDisk on_disk;
    m.guarded([&] {
        const hid_t f = m.begin_state(group, t);
        const std::vector<hsize_t> dims = m.field_dims();
        const index_t N = m.cfg.lattice.sites();
        auto allocate = [&](const char* name, const std::vector<hsize_t>& d) {
            h5::Id ds = h5::create_array(f, group + "/" + name, d, H5T_IEEE_F64LE, 0, true);
            const haddr_t a = H5Dget_offset(ds);
            if (a == HADDR_UNDEF) throw Error(m.fields + ": no storage for " + group + "/" + name, exit_code::io);
            return std::uint64_t(a);
        };
        on_disk.sz = allocate("sz", dims);
        if (m.has_psi) on_disk.psi = allocate("psi", dims);
        if (m.cfg.lattice.dim == 1) on_disk.spin = allocate("spin", {1, hsize_t(N), 3});
        flush_file(f, m.fields);
        on_disk.path = m.fields_file->disk_path();
        on_disk.has_psi = m.has_psi;
        on_disk.has_spin = m.cfg.lattice.dim == 1;
    });
    return on_disk;
}

void XdmfExport::finish_state(const std::string& group, double t, std::int64_t vortex_points) {
    impl_->state_written(group, t, vortex_points);
}

void XdmfExport::finish() {
    Impl& m = *impl_;
    if (m.opt.stream) return;
    m.guarded([&] {
        // The document first (into its temporary file), then the fields file,
        // then the document: a failure before the last step keeps the old pair.
        const std::string temp = m.write_temp_document();
        try {
            m.fields_file->commit();
        } catch (...) {
            std::remove(temp.c_str());
            throw;
        }
        m.install_document(temp);
    });
}

const std::string& XdmfExport::xdmf_path() const { return impl_->xdmf; }
const std::string& XdmfExport::fields_path() const { return impl_->fields; }
bool XdmfExport::has_psi() const { return impl_->has_psi; }
std::size_t XdmfExport::states() const { return impl_->states.size(); }

std::size_t add_stored_states(XdmfExport& x, hid_t in, const std::string& run_file, bool with_final) {
    std::vector<std::string> groups;
    for (std::int64_t i : snapshot_indices(in)) groups.push_back(snapshot_group(i));
    if (with_final && is_complete(in, "/final")) groups.push_back("/final");
    for (const std::string& g : groups) {
        throw_if_interrupted("before the export of " + g + "; nothing written");
        const StoredState st = read_state_group(in, run_file, g);
        std::int64_t points = 0;
        const std::string v = g + "/analysis/vortex_positions";
        if (h5::exists(in, g + "/analysis") && h5::exists(in, v)) points = std::int64_t(h5::dataset_dims(in, v).at(0));
        x.add_state(g, st.t, st.spins, points);
    }
    return groups.size();
}

std::size_t export_xdmf(const std::string& run_file, const XdmfOptions& o, std::string* xdmf_path,
                        std::string* fields_path, bool* has_psi) {
    const RunConfig cfg = read_run_config(run_file);
    h5::Id in = open_xyzmf(run_file, false);
    if (const std::string why = why_no_states(in); !why.empty())
        throw Error(run_file + ": holds no states to export: " + why, exit_code::io);
    if (snapshot_indices(in).empty() && !is_complete(in, "/final"))
        throw Error(run_file + ": holds no state to export (no snapshots, no /final)", exit_code::io);
    XdmfOptions all_or_nothing = o;
    all_or_nothing.stream = false;
    throw_if_interrupted("before the export; nothing written");
    XdmfExport x(run_file, cfg, all_or_nothing);
    add_stored_states(x, in, run_file, true);
    throw_if_interrupted("before the sidecar was complete; nothing written");
    x.finish();
    if (xdmf_path) *xdmf_path = x.xdmf_path();
    if (fields_path) *fields_path = x.fields_path();
    if (has_psi) *has_psi = x.has_psi();
    return x.states();
}

}  // namespace xyzmf
