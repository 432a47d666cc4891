// ParaView (and VisIt) access to a run file through an XDMF sidecar: an XML
// document that describes the stored states as a time series on the
// structured lattice, pointing into the run file for the spins (vector
// "spin"), into a companion "fields" file for the scalars sz and the sXY
// phase field psi (vortices.hpp; NaN where undefined) that the XDMF readers
// cannot cut out of the spins themselves (ParaView's Xdmf3 readers ignore
// hyperslabs), and, where the analysis stored them, at the vortex plaquettes
// as points with their charge. The run file itself is never modified.
//
//   run.h5  --export-->  run.xdmf  (open this in ParaView)  +  run.fields.h5
#pragma once

#include <cstdint>
#include <memory>
#include <functional>
#include <string>
#include <vector>

#include "hdf5.hpp"
#include "host_state.hpp"
#include "run_config.hpp"

namespace xyzmf {

struct XdmfOptions {
    std::string xdmf_path;      // "" = the run file's name with .xdmf
    bool overwrite = false;     // replace an existing sidecar and companion file
    double min_amplitude = 0.02;  // psi is NaN where the in-plane amplitude is below this
    std::string command_line;   // provenance of the companion file
    // The sXY phase field of a state, NaN below min_amplitude: analysis's
    // sxy_phase_field, handed in by the command layer (io computes no physics).
    // Needed when the couplings define psi (Jx Jy != 0).
    std::function<std::vector<double>(const Lattice&, const Couplings&, const HostState&, double min_amplitude)>
        phase_field;
    // true (run --xdmf): both files go into place with the first state and the
    // document is rewritten after each, so ParaView can open a run in progress.
    // false (export): nothing is in place before finish(), so a failure (disk
    // full, bad state) leaves no half sidecar and an --overwrite keeps the old one.
    bool stream = true;
};

// The sidecar of one run file, written state by state: each add_state stores
// that state's psi in the companion file and (o.stream) rewrites the XML (under
// a temporary name, renamed into place), so a reader always finds a complete
// document naming only states that exist. Every write first checks that the
// disk and the file-size limit have room for it (ensure_room): HDF5 may report
// a write that did not fit only when the file is closed.
// The sidecar of run_file: o.xdmf_path, else run_file's name with .xdmf.
std::string xdmf_sidecar_path(const std::string& run_file, const XdmfOptions& o);
// Refuses (exit 2) a sidecar for run_file whose data items would name a path
// with ':' in it (ParaView's readers split the item there).
void check_xdmf_names(const std::string& run_file, const XdmfOptions& o);
// The same, and (exit 3) a sidecar whose files exist, unless o.overwrite: before a
// run file (or a continuation's copy) is made for it.
void check_xdmf_free(const std::string& run_file, const XdmfOptions& o);

// Where a state's fields lie in the fields file at `path` (its name on disk
// now), for a lattice spread over processes that write their own rows: each a
// contiguous run of float64 values, little-endian, in the lattice's order, sz
// and psi one a site, spin (1D only) three.
struct FieldsOnDisk {
    std::string path;
    std::uint64_t sz = 0, psi = 0, spin = 0;
    bool has_psi = false, has_spin = false;
};

class XdmfExport {
public:
    // Takes the locks of both outputs and refuses existing ones unless
    // o.overwrite (before any state is computed). Throws xyzmf::Error.
    XdmfExport(const std::string& run_file, const RunConfig& cfg, const XdmfOptions& o);
    ~XdmfExport();
    XdmfExport(const XdmfExport&) = delete;
    XdmfExport& operator=(const XdmfExport&) = delete;

    // State `group` ("/snapshots/000003", "/final") of the run file at time t;
    // `vortex_points` = rows of group/analysis/vortex_positions (0: none stored).
    void add_state(const std::string& group, double t, const HostState& spins, std::int64_t vortex_points);
    // The same for a state no process holds whole: prepare_state allocates the
    // state's fields (not filled) and flushes the file; the processes write
    // their rows there (Domain::write_own_values); finish_state then does
    // what add_state does after its writes. path empty: nothing allocated.
    FieldsOnDisk prepare_state(const std::string& group, double t);
    void finish_state(const std::string& group, double t, std::int64_t vortex_points);
    // !o.stream: puts the fields file, then the document, into place (both
    // complete). Does nothing more when streaming.
    void finish();
    const std::string& xdmf_path() const;
    const std::string& fields_path() const;
    bool has_psi() const;  // false when psi is undefined (Jx Jy = 0)
    std::size_t states() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Adds every complete snapshot of an open run file to x, in order, and its
// complete /final if with_final (the vortex points from each state's stored
// analysis). Returns the number of states added.
std::size_t add_stored_states(XdmfExport& x, hid_t in, const std::string& run_file, bool with_final);

// Exports every complete snapshot and the final state of a run file (the final
// state replaces a snapshot at the same time). Returns the number of states.
std::size_t export_xdmf(const std::string& run_file, const XdmfOptions& o, std::string* xdmf_path = nullptr,
                        std::string* fields_path = nullptr, bool* has_psi = nullptr);

}  // namespace xyzmf
