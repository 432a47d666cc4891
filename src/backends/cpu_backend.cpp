// CPU backend: OpenMP loops over the shared per-site functions of
// include/xyzmf/stage_ops.hpp. Rows (fixed j, k) are distributed over threads with a
// static schedule, so results never depend on the number of threads.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <unordered_map>
#include <vector>

#include "cpu_stream_team.hpp"
#include "xyzmf/backend.hpp"
#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

// Below this many elements a loop runs on one thread: forking costs more than
// it saves, and on an oversubscribed machine (several runs or tests at once)
// spinning barriers of tiny parallel regions slow everything down badly.
constexpr std::int64_t kParallelMin = 1 << 15;

// 64-byte aligned host arrays (vector loads, whole cache lines).
template <class Real>
Real* new_aligned(std::size_t count) {
    return static_cast<Real*>(::operator new[](count * sizeof(Real), std::align_val_t(64)));
}
inline void delete_aligned(void* p) { ::operator delete[](p, std::align_val_t(64)); }

template <class Real>
class CpuBackend final : public Backend<Real> {
public:
    BackendKind kind() const override { return BackendKind::cpu; }
    std::string description() const override {
        const int n = omp_get_max_threads();
        return "cpu (OpenMP, " + std::to_string(n) + (n == 1 ? " thread)" : " threads)");
    }

    Real* allocate(std::size_t count) override {
        // 64-byte alignment for vector loads. Successive buffers start at
        // different offsets modulo 4 KiB (like the padded x/y/z blocks, see
        // Lattice::component_stride): an RK stage streams 4-5 buffers at the
        // same index, which would otherwise share L1 sets. First touch in
        // parallel so pages land near the threads that use them.
        const std::size_t shift = (allocations_++ % 8) * 576;  // 9 cache lines apart
        char* raw = new_aligned<char>(count * sizeof(Real) + shift);
        auto* p = reinterpret_cast<Real*>(raw + shift);
        raw_[p] = raw;
#pragma omp parallel for schedule(static) if (std::int64_t(count) >= kParallelMin)
        for (std::int64_t e = 0; e < std::int64_t(count); ++e) p[e] = Real(0);
        return p;
    }
    void release(Real* p) override {
        const auto it = raw_.find(p);
        delete_aligned(it->second);
        raw_.erase(it);
    }
    Real* allocate_host(std::size_t count) override { return new_aligned<Real>(count); }
    void release_host(Real* p) override { delete_aligned(p); }
    std::function<void()> start_download(Real* host, const Real* src, const Lattice& lat) override {
        const index_t N = lat.sites(), S = lat.component_stride();
        for (int c = 0; c < 3; ++c) copy(host + c * N, src + c * S, std::size_t(N));
        return [] {};
    }
    void upload(Real* dst, const Real* src, std::size_t count) override { copy(dst, src, count); }
    void download(Real* dst, const Real* src, std::size_t count) override { copy(dst, src, count); }
    void copy(Real* dst, const Real* src, std::size_t count) override {
        if (dst == src) return;
#pragma omp parallel for schedule(static) if (std::int64_t(count) >= kParallelMin)
        for (std::int64_t e = 0; e < std::int64_t(count); ++e) dst[e] = src[e];
    }

    void stage(const StageArgs<Real>& A) override {
        // Row by row: the neighbour rows are found once per row, so the inner
        // loop over x is plain unit-stride arithmetic that the compiler
        // vectorises. Outputs are written only at the site itself and never
        // alias src (see integrators.cpp), which is what `omp simd` asserts.
        with_stage_shape(A, [&](auto shape) { stage_rows<decltype(shape)>(A); });
    }

    template <class Shape>
    static void stage_rows(const StageArgs<Real>& A) {
        const Lattice& lat = A.lat;
        const index_t Lx = lat.L[0], Ly = lat.L[1], Lz = lat.L[2], rows = Ly * lat.layers();
#pragma omp parallel for schedule(static) if (rows * Lx >= kParallelMin)
        for (index_t r = 0; r < rows; ++r) {
            const index_t j = r % Ly, kk = r / Ly, base = r * Lx;
            const index_t k = lat.z_of(kk), k0 = kk - k;  // z within its copy; the copy's first layer
            const index_t ym = lat.site(0, j == 0 ? Ly - 1 : j - 1, kk), yp = lat.site(0, j == Ly - 1 ? 0 : j + 1, kk);
            const index_t zm = lat.site(0, j, k0 + (k == 0 ? Lz - 1 : k - 1));
            const index_t zp = lat.site(0, j, k0 + (k == Lz - 1 ? 0 : k + 1));
            const SiteModel<Real> model = A.model_of_layer(kk);
            auto site = [&](index_t i, index_t im, index_t ip) {
                const index_t nb[6] = {base + im, base + ip, ym + i, yp + i, zm + i, zp + i};
                stage_at<Shape>(A, model, base + i, nb);
            };
            site(0, Lx - 1, Lx > 1 ? 1 : 0);
#pragma omp simd
            for (index_t i = 1; i < Lx - 1; ++i) site(i, i - 1, i + 1);
            if (Lx > 1) site(Lx - 1, Lx - 2, 0);
        }
    }

    // Tiles: whole rows of up to 4096 sites (long contiguous runs keep the hardware
    // prefetcher busy), and 256 x 32 cross-sections in 3D (narrower ones redo more
    // of the y halo); the measurements are in results/bench/cpu-tuning.md. Several
    // chunks per thread let the dynamic schedule balance.
    //
    // The streaming scheme runs here only so that the tests check the CUDA
    // kernel's pipeline on any machine; it plans what the CUDA backend plans: its
    // default cross-sections (stream_lanes) and steps per pass (at most two; one
    // in 3D, where a patch holds one step's halo). Passes the GPU never runs
    // would only cost the tests time (3D at two steps: 640 lanes an item).
    FusedPlan fused_plan(const Lattice& lat, int steps, FusedScheme scheme) const override {
        const int threads = omp_get_max_threads();
        if (scheme == FusedScheme::stream) {
            FusedPlan p;
            p.scheme = FusedScheme::stream;
            p.dim = lat.dim;
            for (int m = std::min(steps, kMaxStreamSteps); m >= 1; --m) {
                const StreamLanes lanes = stream_lanes(lat.dim, m, sizeof(Real));
                p.stream = make_stream_plan(lat, m, lanes.nx, lanes.ny, 4 * threads, 16);
                if (p.stream.steps > 0) break;
            }
            p.steps = p.stream.steps;
            return p;
        }
        const int tx = lat.dim == 3 ? 256 : 4096, ty = 32;
        return make_fused_plan(lat, steps, tx, ty, 4 * threads, 16 * 4 * steps);
    }

    // Two steps per pass in 1D and 2D (half the memory traffic, 8-site halos), one
    // in 3D (the halo of a 2D cross-section costs more than the traffic saved), one
    // below 128 sites a side, and none (the four-sweep path) below 64, where the halo
    // is a large share of the work and the state sits in cache anyway. Measured:
    // results/bench/cpu-tuning.md.
    int fused_steps_per_pass(const Lattice& lat) const override {
        index_t shortest = lat.L[0];
        for (int a = 1; a < lat.dim; ++a) shortest = std::min(shortest, lat.L[a]);
        if (shortest < 64) return 0;
        return lat.dim <= 2 && shortest >= 128 ? 2 : 1;
    }

    // One parallel region per pass: each thread runs whole work items with its
    // own scratch, so there is no barrier between stages (a descheduled thread
    // on a shared machine used to stall the other at every stage).
    void rk4_fused(const FusedArgs<Real>& A) override {
        if (A.plan.scheme == FusedScheme::stream) return rk4_stream(A);
        const FusedPlan& P = A.plan;
        const index_t items = P.items();
        const std::size_t need = std::size_t(P.scratch_reals());
        const int threads = omp_get_max_threads();
        if (int(scratch_.size()) < threads) scratch_.resize(threads);
        const bool parallel = items > 1 && A.lat.sites() >= kParallelMin;
#pragma omp parallel if (parallel)
        {
            Scratch& mine = scratch_[omp_get_thread_num()];
            if (mine.size < need) {  // grown by the thread that uses it: first touch near it
                mine.data.reset(new_aligned<Real>(need));
                mine.size = need;
            }
            CpuTeam team;
#pragma omp for schedule(dynamic, 1)
            for (index_t it = 0; it < items; ++it) {
                switch (P.dim) {
                    case 1: fused::run_item<1>(A, it, mine.data.get(), team); break;
                    case 2: fused::run_item<2>(A, it, mine.data.get(), team); break;
                    default: fused::run_item<3>(A, it, mine.data.get(), team); break;
                }
            }
        }
    }

    // The streaming pass: items over threads; every item one thread's, lanes
    // in arrays of N (128 covers 1D and 2D items, 528 the 3D patches of up to
    // 512: arrays of exactly 4 KiB put a lane's x, y and z in one cache set, which
    // made the 3D pass 3x slower).
    template <int N, int Dim, int M>
    static void stream_items(const FusedArgs<Real>& A) {
        const StreamPlan& P = A.plan.stream;
        const index_t items = P.items();
        CpuStreamTeam<N> team;
        team.nx = P.nx;
        team.ny = P.ny;
#pragma omp parallel for schedule(dynamic, 1) firstprivate(team) if (items > 1 && A.lat.sites() >= kParallelMin)
        for (index_t it = 0; it < items; ++it) stream::run_item<Dim, M>(A, P, it, team);
    }
    template <int M>
    static void stream_pass(const FusedArgs<Real>& A) {
        const StreamPlan& P = A.plan.stream;
        if (P.lanes() > (P.dim == 3 ? 528 : 128)) throw Error("stream pass: an item of " + std::to_string(P.lanes()) + " lanes");
        switch (P.dim) {
            case 1: stream_items<128, 1, M>(A); break;
            case 2: stream_items<128, 2, M>(A); break;
            default:  // (3D patches: one step a pass, as on the GPU)
                if constexpr (M == 1) stream_items<528, 3, M>(A);
                else throw Error("stream pass: two steps a pass in 3D (internal error)");
                break;
        }
    }
    void rk4_stream(const FusedArgs<Real>& A) {
        if (A.plan.stream.steps == 2) stream_pass<2>(A); else stream_pass<1>(A);
    }

    // Blocks of kStageBlock elements, a stage at a time (stage_ops.hpp).
    void combine(const CombineArgs<Real>& A, index_t count) override {
        const index_t blocks = (count + kStageBlock - 1) / kStageBlock;
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
        for (index_t b = 0; b < blocks; ++b)
            combine_block(A, b * kStageBlock, std::min(kStageBlock, count - b * kStageBlock));
    }

    void dissipate(const DissipateArgs<Real>& A) override {
        constexpr index_t kRun = 1024;  // sites per call: Philox vectorises over them
        const index_t per = A.lat.copy_sites(), copies = A.lat.copies, runs = (per + kRun - 1) / kRun;
#pragma omp parallel for collapse(2) schedule(static) if (A.lat.sites() >= kParallelMin)
        for (index_t b = 0; b < copies; ++b)
            for (index_t r = 0; r < runs; ++r) dissipate_sites(A, b, r * kRun, int(std::min(kRun, per - r * kRun)));
    }

    double error_norm(const ErrorArgs<Real>& A, index_t count) override {
        const index_t blocks = (count + kStageBlock - 1) / kStageBlock;
        double worst = 0;
#pragma omp parallel for schedule(static) reduction(max : worst) if (count >= kParallelMin)
        for (index_t b = 0; b < blocks; ++b)
            worst = std::max(worst, error_block(A, b * kStageBlock, std::min(kStageBlock, count - b * kStageBlock)));
        return worst;
    }

    // The fused pass's workers: rectangles of a slice as plain loops, the
    // unit-stride x loop vectorised (outputs never alias inputs, see fused_rk4.hpp).
    struct CpuTeam {
        template <class F>
        void rect(int xa, int xb, int ya, int yb, int nx, F&& f) {
            for (int ly = ya; ly < yb; ++ly) {
                const int row = ly * nx;
#pragma omp simd
                for (int lx = xa; lx < xb; ++lx) f(row + lx, lx, ly);
            }
        }
        template <class F>
        void rows(int xa, int xb, int ya, int yb, F&& f) {
            for (int ly = ya; ly < yb; ++ly) f(ly, xa, xb);
        }
        // Streaming (non-temporal) stores were tried here and were no faster on
        // the 2-core development machine (three interleaved A/B rounds, medians
        // of 5: 2048^2 double 1.10-1.29e8 plain vs 1.08-1.14e8 streaming,
        // 128^3 double 6.5-8.8e7 vs 7.0-7.3e7 site-steps/s).
        static void put(Real* dst, const Real* src, int n) {
#pragma omp simd
            for (int i = 0; i < n; ++i) dst[i] = src[i];
        }
        void sync() {}
    };
    struct AlignedDelete {
        void operator()(Real* p) const { delete_aligned(p); }
    };
    struct Scratch {
        std::unique_ptr<Real[], AlignedDelete> data;
        std::size_t size = 0;
    };
    std::vector<Scratch> scratch_;  // one per OpenMP thread

    std::size_t allocations_ = 0;
    std::unordered_map<Real*, char*> raw_;  // shifted pointer -> what operator new returned

public:
    using Backend<Real>::observe;  // (the whole lattice)
    Observables observe(const Real* s, const Real* dsdt, const Lattice& lat, index_t first, index_t last) override {
        // Per-thread partials merged in thread order: with the static schedule
        // the recorded sums are identical from run to run.
        const index_t Lx = lat.L[0], Ly = lat.L[1];
        const index_t r0 = first / Lx, r1 = last > first ? (last - 1) / Lx + 1 : r0;
        std::vector<Observables> part(omp_get_max_threads());
#pragma omp parallel if ((last - first) >= kParallelMin)
        {
            Observables mine;
#pragma omp for schedule(static)
            for (index_t r = r0; r < r1; ++r) {
                const index_t j = r % Ly, k = r / Ly;
                const index_t i0 = std::max<index_t>(0, first - r * Lx), i1 = std::min<index_t>(Lx, last - r * Lx);
                for (index_t i = i0; i < i1; ++i) mine.merge(observe_site(s, dsdt, lat, i, j, k));
            }
            part[omp_get_thread_num()] = mine;
        }
        Observables total;
        for (const auto& p : part) total.merge(p);
        return total;
    }
    std::vector<Observables> observe_copies(const Real* s, const Real* dsdt, const Lattice& lat) override {
        // A copy per thread at a time, its sites in order: each copy's sums are
        // those of the copy alone, whatever the thread count.
        std::vector<Observables> out(std::size_t(lat.copies));
        const index_t Lx = lat.L[0], Ly = lat.L[1], rows = lat.L[1] * lat.L[2];
#pragma omp parallel for schedule(static) if (lat.copies > 1)
        for (index_t b = 0; b < lat.copies; ++b) {
            Observables mine;
            for (index_t r = b * rows; r < (b + 1) * rows; ++r)
                for (index_t i = 0; i < Lx; ++i) mine.merge(observe_site(s, dsdt, lat, i, r % Ly, r / Ly));
            out[std::size_t(b)] = mine;
        }
        return out;
    }
};

}  // namespace

template <class Real>
std::unique_ptr<Backend<Real>> make_cpu_backend() {
    return std::make_unique<CpuBackend<Real>>();
}
template std::unique_ptr<Backend<float>> make_cpu_backend<float>();
template std::unique_ptr<Backend<double>> make_cpu_backend<double>();

}  // namespace xyzmf
