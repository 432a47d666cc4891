// Fused, temporally blocked RK4: `steps` whole RK4 steps per pass over memory,
// shared by the CPU backend (one work item per OpenMP thread at a time) and
// the CUDA backend (one work item per thread block). See docs/ARCHITECTURE.md,
// "The fused stepper", for the picture.
//
// The lattice is cut into independent *streams* of *slices*:
//   d = 2: a stream is one layer (one copy); its slices are the rows y = j.
//   d = 3: a stream is one copy; its slices are the xy planes z = k.
//   d = 1: one stream; its slices are the copies (rings), which do not couple.
// A work item is a tile of the slice cross-section (x, and y in 3D) times a
// chunk of consecutive slices. It loads its tile with a halo of `halo`
// sites in x (and y) and its chunk with `halo` extra slices on each side
// (d >= 2), all periodic, then sweeps down the slices: loading slice v,
// stage 0 runs on slice v - 1, stage 1 on v - 2, ... (a pipeline, lag 1 per
// stage), each stage on a region one site smaller on each side than the one
// before. Stage inputs live in small rings of slices in scratch (cache on the
// CPU, shared memory on the GPU); only the final state goes back to memory:
// 48 bytes per site and pass in double instead of 384 per step.
//
// The arithmetic of every site is the four-sweep path's, in the same order
// (neighbour sum x, y, z; bloch_rhs; acc + a k; y + b k), so both agree to
// roundoff (in practice bit for bit), and redundant halo work cannot change
// a result: tiles and chunks only decide who computes what.
#pragma once

#include <algorithm>

#include "xyzmf/dtwa_site.hpp"
#include "xyzmf/stage_ops.hpp"
#include "xyzmf/stream_plan.hpp"

namespace xyzmf {

// RK4 steps a pass may fuse (halo 4 per step).
constexpr int kMaxFusedSteps = 4;

// How a fused pass walks through memory: tiles of slices with rings in scratch
// (fused::run_item, below; the CPU's choice), or items of lanes streaming down
// rows with rings per lane (stream::run_item in stream_rk4.hpp; the GPU's).
// `best` asks the backend for its measured choice.
enum class FusedScheme { best, tiles, stream };

// Geometry of one pass: how the lattice is cut into work items. Made on the
// host (make_fused_plan) with tile sizes chosen by each backend.
struct FusedPlan {
    FusedScheme scheme = FusedScheme::tiles;  // never `best` in a plan
    StreamPlan stream;    // the geometry when scheme is stream (the fields below are the tiles')
    int dim = 2;
    int steps = 1;        // RK4 steps per pass (either scheme)
    int lag = 1;          // slices between successive stages: 1 when slices couple (d >= 2), 0 in 1D
    int halo = 4;         // 4 * steps: sites of halo around a tile in x (and y in 3D)
    int tx = 1, ty = 1;   // output tile in x and (3D) y
    int nx = 1, ny = 1;   // tile + halo: the local cross-section (ny = 1 unless 3D)
    int nloc = 1;         // padded length of one component of a local slice
    index_t stream_len = 1, streams = 1;  // slices per stream, independent streams
    index_t chunk = 1;    // output slices per work item
    index_t chunks = 1, tiles_x = 1, tiles_y = 1;

    // Scratch slices per step: Y (input of the step, ring of 4), T1, T2, T3
    // (stage inputs, rings of 3) and ACC (accumulator, ring of 4).
    static constexpr int kSlicesPerStep = 17;
    XYZMF_HD index_t items() const { return streams * chunks * tiles_y * tiles_x; }
    XYZMF_HD int slice_stride() const { return 3 * nloc; }
    XYZMF_HD index_t scratch_reals() const { return index_t(kSlicesPerStep) * steps * slice_stride(); }
    XYZMF_HD index_t stream_halo() const { return index_t(lag) * halo; }
};

inline index_t fused_ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }

// Cuts `lat` for `steps` fused steps: output tiles of at most tx_max x ty_max
// sites (balanced), and chunks of slices so that there are at least
// `min_items` work items where the streams are long enough for chunks of
// `min_chunk` slices. Host only.
inline FusedPlan make_fused_plan(const Lattice& lat, int steps, int tx_max, int ty_max, index_t min_items,
                                 index_t min_chunk) {
    FusedPlan P;
    P.dim = lat.dim;
    P.steps = steps;
    P.halo = 4 * steps;
    P.lag = lat.dim >= 2 ? 1 : 0;
    const index_t Lx = lat.L[0], Ly = lat.L[1];
    P.tiles_x = fused_ceil_div(Lx, tx_max);
    P.tx = int(fused_ceil_div(Lx, P.tiles_x));
    P.tiles_x = fused_ceil_div(Lx, P.tx);
    if (lat.dim == 3) {
        P.tiles_y = fused_ceil_div(Ly, ty_max);
        P.ty = int(fused_ceil_div(Ly, P.tiles_y));
        P.tiles_y = fused_ceil_div(Ly, P.ty);
    }
    P.nx = P.tx + 2 * P.halo;
    P.ny = lat.dim == 3 ? P.ty + 2 * P.halo : 1;
    // A multiple of 8 Reals plus one cache line, so the many slices of the
    // rings do not start at the same offset modulo 4 KiB (see Lattice).
    P.nloc = int((index_t(P.nx) * P.ny + 7) / 8 * 8 + 8);
    switch (lat.dim) {
        case 1: P.stream_len = lat.copies; P.streams = 1; break;
        case 2: P.stream_len = Ly; P.streams = lat.layers(); break;
        default: P.stream_len = lat.L[2]; P.streams = lat.copies; break;
    }
    const index_t per_chunk = P.streams * P.tiles_x * P.tiles_y;
    index_t chunks = fused_ceil_div(min_items, per_chunk);
    chunks = std::min(chunks, std::max<index_t>(1, P.stream_len / std::max<index_t>(1, min_chunk)));
    chunks = std::max<index_t>(1, std::min(chunks, P.stream_len));
    P.chunk = fused_ceil_div(P.stream_len, chunks);
    P.chunks = fused_ceil_div(P.stream_len, P.chunk);
    return P;
}

// Everything one pass reads: y (padded blocks, lat.component_stride() apart)
// advances `plan.steps` RK4 steps of size h into out, which must not alias y.
template <class Real>
struct FusedArgs {
    const Real* y;
    Real* out;
    Lattice lat;
    SiteModel<Real> model;  // the couplings of every copy...
    const Real* models;     // ...unless set: SiteModel::kFields Reals per copy (batches)
    Real a[4];              // h/6, h/3, h/3, h/6: accumulator weights of the four stages
    Real b[3];              // h/2, h/2, h: stage-input weights
    FusedPlan plan;
    // DTWA: jumps applied to every site as the pass loads it (plan.steps must
    // be 1), so that dissipation and precession share one pass over memory.
    // Halo sites get them too, each from its own global site: the same numbers.
    dtwa::BoundaryJumps jumps;
};

// Vectorise a copy loop on the host (its iterations are independent).
#if defined(__CUDA_ARCH__) || !defined(_OPENMP)
#define XYZMF_SIMD
#else
#define XYZMF_SIMD _Pragma("omp simd")
#endif

namespace fused {

// A local slice: three component arrays of plan.nloc Reals.
template <class Real>
struct Slice {
    Real* c;
    int n;
    XYZMF_HD Real* x() const { return c; }
    XYZMF_HD Real* y() const { return c + n; }
    XYZMF_HD Real* z() const { return c + 2 * n; }
};

// One stage over one slice: the pointers and weights of the site loop.
template <class Real>
struct StageSlice {
    const Real *ux, *uy, *uz;     // stage input at this slice
    const Real *mx, *my, *mz;     // ... at the previous slice (d >= 2)
    const Real *px, *py, *pz;     // ... at the next slice (d >= 2)
    const Real *yx, *yy, *yz;     // the step's base state
    const Real *ax, *ay, *az;     // accumulator in
    Real *ox, *oy, *oz;           // accumulator out (or the next step's state at the last stage)
    Real *tx, *ty, *tz;           // next stage input (null at the last stage)
    Real a, b;
    int row;                      // local distance between y neighbours (3D)
    SiteModel<Real> model;
};

// The RK stage at local point p: the same arithmetic, in the same order, as
// stage_at() of the four-sweep path.
template <int Dim, bool Tmp, class Real>
XYZMF_HD void stage_point(const StageSlice<Real>& S, int p) {
    Vec3<Real> sum = Vec3<Real>{S.ux[p - 1], S.uy[p - 1], S.uz[p - 1]} + Vec3<Real>{S.ux[p + 1], S.uy[p + 1], S.uz[p + 1]};
    if constexpr (Dim == 2) {
        sum = sum + Vec3<Real>{S.mx[p], S.my[p], S.mz[p]} + Vec3<Real>{S.px[p], S.py[p], S.pz[p]};
    } else if constexpr (Dim == 3) {
        sum = sum + Vec3<Real>{S.ux[p - S.row], S.uy[p - S.row], S.uz[p - S.row]} +
              Vec3<Real>{S.ux[p + S.row], S.uy[p + S.row], S.uz[p + S.row]};
        sum = sum + Vec3<Real>{S.mx[p], S.my[p], S.mz[p]} + Vec3<Real>{S.px[p], S.py[p], S.pz[p]};
    }
    const Vec3<Real> d = bloch_rhs(Vec3<Real>{S.ux[p], S.uy[p], S.uz[p]}, sum, S.model);
    const Real ax = S.ax[p], ay = S.ay[p], az = S.az[p];
    if constexpr (Tmp) {
        const Real yx = S.yx[p], yy = S.yy[p], yz = S.yz[p];
        S.tx[p] = yx + S.b * d.x;
        S.ty[p] = yy + S.b * d.y;
        S.tz[p] = yz + S.b * d.z;
    }
    S.ox[p] = ax + S.a * d.x;
    S.oy[p] = ay + S.a * d.y;
    S.oz[p] = az + S.a * d.z;
}

// v mod L in [0, L). Halo sites are the only ones outside [0, L), so the
// division is skipped for the rest.
XYZMF_HD index_t wrap(index_t v, index_t L) {
    if (v >= 0 && v < L) return v;
    const index_t r = v % L;
    return r < 0 ? r + L : r;
}

// Runs one work item of a pass. Team spreads a rectangle [xa, xb) x [ya, yb)
// of a slice over its workers and synchronises them: rect() calls f(p, lx, ly)
// per point (p = ly * nx + lx), rows() calls f(ly, xa', xb') per run of a
// row (the whole row on the CPU, one point per GPU thread), put(dst, src, n)
// copies a run of the result to memory. scratch holds plan.scratch_reals() Reals.
#ifdef __CUDACC__
#pragma nv_exec_check_disable
#endif
template <int Dim, class Real, class Team>
XYZMF_HD void run_item(const FusedArgs<Real>& A, index_t item, Real* scratch, Team& team) {
    const FusedPlan& P = A.plan;
    const Lattice& lat = A.lat;
    const index_t Lx = lat.L[0], Ly = lat.L[1];
    index_t q = item;
    const index_t itx = q % P.tiles_x;
    q /= P.tiles_x;
    const index_t ity = q % P.tiles_y;
    q /= P.tiles_y;
    const index_t ich = q % P.chunks, stream = q / P.chunks;

    const index_t x0 = itx * P.tx, y0 = ity * P.ty;
    const int H = P.halo, wx = int(Lx - x0 < P.tx ? Lx - x0 : P.tx);
    const int wy = Dim == 3 ? int(Ly - y0 < P.ty ? Ly - y0 : P.ty) : 1;
    const int nxe = wx + 2 * H, nye = Dim == 3 ? wy + 2 * H : 1;  // loaded extent
    const int nx = P.nx;
    const index_t r0 = ich * P.chunk, r1 = r0 + P.chunk < P.stream_len ? r0 + P.chunk : P.stream_len;
    const index_t Hs = P.stream_halo(), vstart = r0 - Hs, vend = r1 + Hs;
    const index_t S = lat.component_stride();
    const int lag = P.lag, nstages = 4 * P.steps;

    auto slice = [&](int step, int ring, index_t w) {  // w: slice number relative to vstart
        int idx;
        switch (ring) {
            case 0: idx = int(w % 4); break;                 // Y
            case 4: idx = 13 + int(w % 4); break;            // ACC
            default: idx = 4 + 3 * (ring - 1) + int(w % 3);  // T1, T2, T3
        }
        return Slice<Real>{scratch + index_t(FusedPlan::kSlicesPerStep * step + idx) * P.slice_stride(), P.nloc};
    };
    // Global index of local point (lx, ly) of stream slice g, and its model.
    auto global_row = [&](index_t g, index_t gy) -> index_t {
        if (Dim == 1) return Lx * g;                         // g is the copy
        if (Dim == 2) return Lx * (g + Ly * stream);         // g is the row j of layer `stream`
        return Lx * (gy + Ly * (g + lat.L[2] * stream));     // g is z of copy `stream`
    };
    auto model_of = [&](index_t g) {
        const index_t copy = Dim == 1 ? g : stream;
        return A.models ? SiteModel<Real>::load(A.models, copy) : A.model;
    };

    for (index_t v = vstart; v < vend; ++v) {
        const index_t w = v - vstart;
        const index_t g = lag ? wrap(v, P.stream_len) : v;
        {  // load slice v of the pass input, periodic in x and y: runs of
           // consecutive x that do not wrap are plain copies
            const Slice<Real> Y = slice(0, 0, w);
            Real *Yx = Y.x(), *Yy = Y.y(), *Yz = Y.z();
            const Real *sx = A.y, *sy = A.y + S, *sz = A.y + 2 * S;
            const index_t gx0 = x0 - H, gy0 = y0 - H;
            team.rows(0, nxe, 0, nye, [&](int ly, int xa, int xb) {
                const index_t base = global_row(g, Dim == 3 ? wrap(gy0 + ly, Ly) : 0);
                const int row = ly * nx;
                index_t gx = wrap(gx0 + xa, Lx);
                for (int lx = xa; lx < xb;) {
                    const int run = int(xb - lx < Lx - gx ? xb - lx : Lx - gx);
                    const index_t off = base + gx - lx;  // global index of local lx
                    XYZMF_SIMD
                    for (int i = lx; i < lx + run; ++i) {
                        Yx[row + i] = sx[off + i];
                        Yy[row + i] = sy[off + i];
                        Yz[row + i] = sz[off + i];
                    }
                    if (A.jumps.on) {
                        const index_t copy = Dim == 1 ? g : Dim == 2 ? stream / lat.L[2] : stream;
                        dtwa::dissipate_run(A.jumps, Yx + row + lx, Yy + row + lx, Yz + row + lx, run,
                                            std::uint64_t(off + lx - copy * lat.copy_sites()), A.jumps.trajectory(copy));
                    }
                    lx += run;
                    gx = 0;
                }
            });
        }
        team.sync();
        for (int s = 0; s < nstages; ++s) {
            const index_t ws = w - index_t(s + 1) * lag;  // this stage's slice, relative to vstart
            if (ws < index_t(s + 1) * lag) break;          // the pipeline is not yet full this deep
            const int step = s / 4, sub = s % 4;
            const index_t r = vstart + ws, gr = lag ? wrap(r, P.stream_len) : r;
            StageSlice<Real> st;
            // Stage `sub` reads ring `sub`: Y for the first stage, then T1, T2, T3.
            const Slice<Real> u = slice(step, sub, ws);
            st.ux = u.x(); st.uy = u.y(); st.uz = u.z();
            const Slice<Real> um = slice(step, sub, ws - lag);
            const Slice<Real> up = slice(step, sub, ws + lag);
            st.mx = um.x(); st.my = um.y(); st.mz = um.z();
            st.px = up.x(); st.py = up.y(); st.pz = up.z();
            const Slice<Real> yb = slice(step, 0, ws);
            st.yx = yb.x(); st.yy = yb.y(); st.yz = yb.z();
            const Slice<Real> acc = slice(step, 4, ws);
            const Slice<Real> ain = sub == 0 ? yb : acc;
            st.ax = ain.x(); st.ay = ain.y(); st.az = ain.z();
            // The last stage of a step writes the next step's Y ring (the
            // last step's too: it is stored from there).
            const Slice<Real> o = sub == 3 ? slice(step + 1 < P.steps ? step + 1 : step, 0,
                                                   step + 1 < P.steps ? ws : ws + 1)
                                           : acc;
            st.ox = o.x(); st.oy = o.y(); st.oz = o.z();
            if (sub < 3) {
                const Slice<Real> t = slice(step, sub + 1, ws);
                st.tx = t.x(); st.ty = t.y(); st.tz = t.z();
            } else {
                st.tx = st.ty = st.tz = nullptr;
            }
            st.a = A.a[sub];
            st.b = sub < 3 ? A.b[sub] : Real(0);
            st.row = nx;
            st.model = model_of(gr);
            const int e = s + 1;  // the region shrinks by one site per stage in x (and y in 3D)
            const int ya = Dim == 3 ? e : 0, yb_ = Dim == 3 ? nye - e : 1;
            if (sub < 3)
                team.rect(e, nxe - e, ya, yb_, nx, [&](int p, int, int) { stage_point<Dim, true>(st, p); });
            else
                team.rect(e, nxe - e, ya, yb_, nx, [&](int p, int, int) { stage_point<Dim, false>(st, p); });
            team.sync();
        }
        // Store: the output slice leaves the pipeline nstages * lag slices behind the load.
        const index_t wo = w - index_t(nstages) * lag;
        if (wo >= index_t(nstages) * lag) {
            const index_t r = vstart + wo, gr = lag ? wrap(r, P.stream_len) : r;
            // The last step's result sits in ring Y of that step, one slot on
            // (see above), so it cannot overwrite a Y slice still in use.
            const Slice<Real> o = slice(P.steps - 1, 0, wo + 1);
            const Real *ox = o.x(), *oy = o.y(), *oz = o.z();
            Real *dx = A.out, *dy = A.out + S, *dz = A.out + 2 * S;
            team.rows(H, H + wx, Dim == 3 ? H : 0, Dim == 3 ? H + wy : 1, [&](int ly, int xa, int xb) {
                const index_t off = global_row(gr, Dim == 3 ? y0 + ly - H : 0) + x0 - H;  // global index of local x 0
                const int row = ly * nx;
                team.put(dx + off + xa, ox + row + xa, xb - xa);
                team.put(dy + off + xa, oy + row + xa, xb - xa);
                team.put(dz + off + xa, oz + row + xa, xb - xa);
            });
            team.sync();
        }
    }
}

}  // namespace fused
}  // namespace xyzmf
