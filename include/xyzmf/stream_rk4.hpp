// Streaming RK4 ("2.5D blocking"): whole RK4 steps per pass over memory, the
// form the CUDA backend runs at the memory roof. See docs/ARCHITECTURE.md,
// "The streaming stepper".
//
// A work item is a cross-section of *lanes* (one site each) that walks down a
// stream of rows, one row per iteration:
//   d = 2: lanes are nx consecutive x of one layer; rows are y.
//   d = 3: lanes are an nx x ny patch of (x, y); rows are the planes z.
//   d = 1: lanes are nx consecutive sites of a ring, and row j holds the sites
//          nx j .. nx j + nx - 1 of the ring unrolled (so a lane's x
//          neighbours at the ends of a row sit in the rows before and after).
// Each lane keeps the values its column needs in small rings of 4 rows (on the
// GPU: registers): the step's input Y, the stage inputs T1, T2, T3 and the
// accumulator. Loading row v, stage s works on row v - 1 - s (a pipeline,
// lag 1 per stage), so the row neighbours it needs are already in its ring;
// x (and y) neighbours come from the neighbouring lanes (on the GPU: warp
// shuffles, shared memory between warps). Only the pass's input is read and
// only its result written: 48 bytes per site and pass in double.
//
// Lanes at the edge of an item have no neighbour on one side; each stage
// therefore produces valid values one lane further in, and the item stores
// only the lanes that are halo = 4 * steps from its edges (d = 2, 3). Rows
// are handled the same way: an item loads halo rows beyond each end of its
// chunk. In 1D rows chain into each other, so only the rows need a halo.
//
// The arithmetic of every site is the four-sweep path's, in the same order
// (neighbour sum x, y, z; bloch_rhs; acc + a k; y + b k), so both agree to
// roundoff (the compiler may fuse multiply-adds differently in per-lane code
// than in the vectorised loops); which lanes and items compute what
// cannot change a result. Team (below) is what differs between the CUDA
// kernel (one thread per lane) and the CPU's emulation of it (one array
// element per lane), which runs the same code in the tests.
#pragma once

#include <algorithm>
#include <type_traits>
#include <utility>

#include "xyzmf/fused_rk4.hpp"

namespace xyzmf {

namespace stream {

// The neighbour sum of one site in the four-sweep order: x pair, then y pair
// (3D), then the pair along the rows (d >= 2).
template <int Dim, class Real>
XYZMF_HD Vec3<Real> neighbour_sum(Vec3<Real> xm, Vec3<Real> xp, Vec3<Real> ym, Vec3<Real> yp, Vec3<Real> rm,
                                  Vec3<Real> rp) {
    Vec3<Real> sum = xm + xp;
    if constexpr (Dim == 3) sum = sum + ym + yp;
    if constexpr (Dim >= 2) sum = sum + rm + rp;
    return sum;
}

// Rows ahead of the pipeline whose loads are in flight (registers on the GPU):
// the default of run_item's Ahead.
constexpr int kPrefetchRows = 2;

// f(integral_constant<int, 0>), ..., f(integral_constant<int, N - 1>), in order:
// every stage index a compile-time constant.
template <class F, int... s>
XYZMF_HD void unroll_each(F&& f, std::integer_sequence<int, s...>) {
    (f(std::integral_constant<int, s>{}), ...);
}
template <int N, class F>
XYZMF_HD void unroll(F&& f) {
    unroll_each(f, std::make_integer_sequence<int, N>{});
}
// The i-th of four references, chosen at compile time (no pointer into the
// register-resident rings).
template <int i, class T>
XYZMF_HD T& pick(T& a0, T& a1, T& a2, T& a3) {
    if constexpr (i == 0) return a0;
    else if constexpr (i == 1) return a1;
    else if constexpr (i == 2) return a2;
    else return a3;
}

// Runs one work item. Team, per lane (one GPU thread, or one element of the
// CPU's arrays), provides:
//   Value<T>             what a lane holds of a T (GPU: T; CPU: an array over lanes)
//   at(v, l)             lane l's T in a Value<T> (GPU: v itself)
//   for_each_lane(f)     f(l) for every lane l this thread runs
//   lx(l), ly(l)         lane l's position in the item's cross-section
//   lateral<Dim>(rm, c, rp, xm, xp, ym, yp)
//                        the x (and y) neighbours of every lane of row c; rm and
//                        rp are the rows before and after (1D: a row's end
//                        lanes' neighbours are there). Where a lane has no
//                        neighbour, any finite value of the item is fine.
#ifdef __CUDACC__
#pragma nv_exec_check_disable
#endif
template <int Dim, int M, class Real, class Team, int Ahead = kPrefetchRows>
XYZMF_HD void run_item(const FusedArgs<Real>& A, const StreamPlan& P, index_t item, Team& team) {
    using V = typename Team::template Value<Real>;
    using I = typename Team::template Value<index_t>;
    using B = typename Team::template Value<bool>;
    using Vec = Vec3<V>;
    constexpr int S = 4 * M;  // stages in the pipeline
    const Lattice& lat = A.lat;
    const index_t Lx = lat.L[0], Ly = lat.L[1];
    index_t q = item;
    const index_t itx = q % P.tiles_x;
    q /= P.tiles_x;
    const index_t ity = q % P.tiles_y;
    q /= P.tiles_y;
    const index_t ich = q % P.chunks, stream = q / P.chunks;
    const int H = P.halo;
    const index_t r0 = ich * P.chunk, r1 = r0 + P.chunk < P.stream_len ? r0 + P.chunk : P.stream_len;
    const index_t vstart = r0 - S, total = (r1 - r0) + 2 * S;  // rows loaded: vstart .. vstart + total - 1
    const index_t CS = lat.component_stride();
    const SiteModel<Real> model = A.models ? SiteModel<Real>::load(A.models, stream) : A.model;  // stream = copy or layer

    // Where each lane reads and writes. d >= 2: a fixed offset inside a row
    // (periodic in x and y) plus the row's base; d = 1: the site of the ring
    // under the lane, which moves on by nx every row.
    const index_t x0 = itx * P.tx, y0 = ity * P.ty;
    const index_t row_size = Dim == 1 ? 0 : Dim == 2 ? Lx : Lx * Ly;
    const index_t stream_base = Dim == 1 ? Lx * stream : row_size * P.stream_len * stream;
    I lane_at;  // d >= 2: offset in a row; d = 1: x of the lane in the row being loaded
    B stores;   // d >= 2: the lane is in the output tile
    team.for_each_lane([&](int l) {
        const int lx = team.lx(l), ly = team.ly(l);
        if (Dim == 1) {
            Team::at(lane_at, l) = fused::wrap(index_t(P.nx) * vstart + lx, Lx);
            Team::at(stores, l) = true;
        } else {
            index_t off = fused::wrap(x0 - H + lx, Lx);
            bool in = lx >= H && index_t(lx - H) < (Lx - x0 < P.tx ? Lx - x0 : P.tx);
            if (Dim == 3) {
                off += Lx * fused::wrap(y0 - H + ly, Ly);
                in = in && ly >= H && index_t(ly - H) < (Ly - y0 < P.ty ? Ly - y0 : P.ty);
            }
            Team::at(lane_at, l) = off;
            Team::at(stores, l) = in;
        }
    });
    const Real *sx = A.y, *sy = A.y + CS, *sz = A.y + 2 * CS;
    Real *dx = A.out, *dy = A.out + CS, *dz = A.out + 2 * CS;
    index_t load_row = Dim == 1 ? 0 : fused::wrap(vstart, P.stream_len);  // the next row to load (d >= 2)
    index_t store_row = r0;                                               // the next row to store
    auto load = [&](Vec& out) {
        const index_t base = stream_base + row_size * load_row;
        team.for_each_lane([&](int l) {
            const index_t n = base + Team::at(lane_at, l);
            Vec3<Real> v{sx[n], sy[n], sz[n]};
            if (A.jumps.on) {  // DTWA (FusedArgs::jumps); stream is the copy, or in 2D its layer
                const index_t copy = Dim == 2 ? stream / lat.L[2] : stream;
                dtwa::dissipate_site(A.jumps, v, std::uint64_t(n - copy * lat.copy_sites()), A.jumps.trajectory(copy));
            }
            Team::at(out.x, l) = v.x;
            Team::at(out.y, l) = v.y;
            Team::at(out.z, l) = v.z;
            if (Dim == 1) {  // on to the same lane of the next row: nx sites on, around the ring
                index_t x = Team::at(lane_at, l) + P.nx;
                while (x >= Lx) x -= Lx;
                Team::at(lane_at, l) = x;
            }
        });
        if (Dim >= 2 && ++load_row == P.stream_len) load_row = 0;
    };

    // The rings (slot = row - vstart mod 4) and the prefetched rows.
    Vec Y[M][4], T1[M][4], T2[M][4], T3[M][4], ACC[M][4];
    Vec pre[Ahead];
    for (int d = 0; d < Ahead; ++d)
        if (d < total) load(pre[d]);

    // One stage (global stage s = 4 k + sub) at row w - 1 - s, where w is the
    // row being loaded; Ph = w mod 4 makes every slot a compile-time constant.
    auto stage = [&](auto Ph_, auto s_) {
        constexpr int Ph = decltype(Ph_)::value, s = decltype(s_)::value;
        constexpr int k = s / 4, sub = s % 4;
        constexpr int cm = (Ph - 2 - s) & 3, c0 = (Ph - 1 - s) & 3, cp = (Ph - s) & 3;  // rows q - 1, q, q + 1
        auto& in = pick<sub>(Y[k], T1[k], T2[k], T3[k]);  // the stage's input ring
        Vec xm, xp, ym, yp;
        team.template lateral<Dim>(in[cm], in[c0], in[cp], xm, xp, ym, yp);
        const Real a = A.a[sub], b = sub < 3 ? A.b[sub] : Real(0);
        Vec& y = Y[k][c0];
        Vec& acc = ACC[k][c0];
        // What the stage writes besides acc: the next stage's input, or the
        // next step's (in the last stage of a step that is not the pass's last).
        Vec& next = pick<sub>(T1[k], T2[k], T3[k], Y[k + 1 < M ? k + 1 : k])[c0];
        const bool last = s == S - 1;
        const index_t out_base = stream_base + row_size * store_row;
        team.for_each_lane([&](int l) {
            auto get = [&](const Vec& v) { return Vec3<Real>{Team::at(v.x, l), Team::at(v.y, l), Team::at(v.z, l)}; };
            auto put = [&](Vec& v, Vec3<Real> u) {
                Team::at(v.x, l) = u.x;
                Team::at(v.y, l) = u.y;
                Team::at(v.z, l) = u.z;
            };
            const Vec3<Real> sum = neighbour_sum<Dim>(get(xm), get(xp), get(Dim == 3 ? ym : xm),
                                                           get(Dim == 3 ? yp : xp), get(in[cm]), get(in[cp]));
            const Vec3<Real> d = bloch_rhs(get(in[c0]), sum, model);
            const Vec3<Real> ain = sub == 0 ? get(y) : get(acc);
            const Vec3<Real> o{ain.x + a * d.x, ain.y + a * d.y, ain.z + a * d.z};
            if (sub < 3) {
                const Vec3<Real> yb = get(y);
                put(next, Vec3<Real>{yb.x + b * d.x, yb.y + b * d.y, yb.z + b * d.z});
                put(acc, o);
            } else if (!last) {
                put(next, o);
            } else {  // the pass's result at row store_row
                if (Dim == 1) {
                    // lane l of this row is site nx row + l of the ring, stored once where it is < Lx
                    const index_t x = index_t(P.nx) * store_row + team.lx(l);
                    if (x < Lx) {
                        dx[out_base + x] = o.x;
                        dy[out_base + x] = o.y;
                        dz[out_base + x] = o.z;
                    }
                } else if (Team::at(stores, l)) {
                    const index_t n = out_base + Team::at(lane_at, l);
                    dx[n] = o.x;
                    dy[n] = o.y;
                    dz[n] = o.z;
                }
            }
        });
        if (last) ++store_row;  // rows r0 .. r1 - 1, never past the stream's end: no wrap
    };
    // Row w (Ph = w mod 4): take it from the prefetch queue, start loading row
    // w + Ahead, then every stage whose row is inside its valid range
    // (stage s computes from w = 2 s + 2 on).
    auto row = [&](auto Ph_, index_t w) {
        constexpr int Ph = decltype(Ph_)::value;
        Y[0][Ph] = pre[0];
        for (int d = 0; d + 1 < Ahead; ++d) pre[d] = pre[d + 1];
        if (w + Ahead < total) load(pre[Ahead - 1]);
        unroll<S>([&](auto s_) {
            constexpr int s = decltype(s_)::value;
            if (w >= 2 * s + 2) stage(Ph_, s_);
        });
    };
    for (index_t w = 0; w < total; w += 4) {
        row(std::integral_constant<int, 0>{}, w);
        if (w + 1 < total) row(std::integral_constant<int, 1>{}, w + 1);
        if (w + 2 < total) row(std::integral_constant<int, 2>{}, w + 2);
        if (w + 3 < total) row(std::integral_constant<int, 3>{}, w + 3);
    }
}

}  // namespace stream
}  // namespace xyzmf
