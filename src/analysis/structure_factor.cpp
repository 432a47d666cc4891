// FFTW3 structure factors (see structure_factor.hpp). A real-to-complex
// transform per component; the half spectrum is unfolded with S(-k) = S(k).
// Each transform runs on one thread (the three components side by side), so
// that its result cannot depend on how FFTW would split it among threads: the
// analysis, like the stepping, must not depend on the run or the thread count.
#include "structure_factor.hpp"

#include <fftw3.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "xyzmf/error.hpp"
#include "xyzmf/spectrum_geometry.hpp"

namespace xyzmf {

double StructureFactor::k(int axis, index_t m) const {
    return 2 * M_PI * double(coord(axis, m)) / double(lattice.L[axis]);
}

index_t StructureFactor::coord(int axis, index_t m) const {
    const index_t Lx = lattice.L[0], Ly = lattice.L[1];
    return axis == 0 ? m % Lx : axis == 1 ? (m / Lx) % Ly : m / (Lx * Ly);
}

struct StructureFactorEngine::Plan {
    double* in[3] = {nullptr, nullptr, nullptr};
    fftw_complex* out[3] = {nullptr, nullptr, nullptr};
    fftw_plan plan = nullptr;
    index_t half = 0;  // Lx/2 + 1
};

namespace {
// FFTW's planner is not thread-safe and its thread setup must run once.
std::mutex& planner_mutex() {
    static std::mutex m;
    return m;
}
}  // namespace

StructureFactorEngine::StructureFactorEngine(const Lattice& lat) : lat_(lat), plan_(std::make_unique<Plan>()) {
    std::lock_guard<std::mutex> lock(planner_mutex());
    const index_t N = lat.sites();
    plan_->half = lat.L[0] / 2 + 1;
    const index_t complex_count = N / lat.L[0] * plan_->half;
    for (int c = 0; c < 3; ++c) {
        plan_->in[c] = fftw_alloc_real(std::size_t(N));
        plan_->out[c] = fftw_alloc_complex(std::size_t(complex_count));
        if (!plan_->in[c] || !plan_->out[c]) {
            for (int d = 0; d <= c; ++d) fftw_free(plan_->in[d]), fftw_free(plan_->out[d]);
            throw Error("structure factor: cannot allocate FFT buffers");
        }
    }
    // FFTW wants the slowest axis first: (Lz, Ly, Lx) for our x-fastest order.
    int n[3];
    for (int a = 0; a < lat.dim; ++a) n[a] = int(lat.L[lat.dim - 1 - a]);
    plan_->plan = fftw_plan_dft_r2c(lat.dim, n, plan_->in[0], plan_->out[0], FFTW_ESTIMATE);
    if (!plan_->plan) throw Error("structure factor: no FFT plan for this lattice (out of memory?)");
}

StructureFactorEngine::~StructureFactorEngine() {
    std::lock_guard<std::mutex> lock(planner_mutex());
    if (plan_->plan) fftw_destroy_plan(plan_->plan);
    for (int c = 0; c < 3; ++c) fftw_free(plan_->in[c]), fftw_free(plan_->out[c]);
}

const StructureFactorEngine::HalfPower& StructureFactorEngine::half_power(const std::function<void(int, double*)>& fill,
                                                                           int components) {
    const index_t N = lat_.sites(), rows = N / lat_.L[0], H = plan_->half;
    // (fftw_execute_dft_r2c on arrays of the plan's alignment is thread-safe.) Small
    // lattices stay on one thread: DTWA transforms every trajectory's state at every
    // record, and a region each spins at its barrier when another program holds a core.
#pragma omp parallel for schedule(static, 1) num_threads(std::max(1, std::min(components, omp_get_max_threads()))) \
    if (N >= 32768)
    for (int c = 0; c < components; ++c) {
        fill(c, plan_->in[c]);
        fftw_execute_dft_r2c(plan_->plan, plan_->in[c], plan_->out[c]);
    }
    for (int c = 0; c < components; ++c) {
        power_[c].resize(std::size_t(rows * H));
        double* P = power_[c].data();
        const fftw_complex* F = plan_->out[c];
#pragma omp parallel for schedule(static) if (N >= 32768)
        for (index_t m = 0; m < rows * H; ++m) P[m] = F[m][0] * F[m][0] + F[m][1] * F[m][1];
    }
    return power_;
}

const StructureFactorEngine::HalfPower& StructureFactorEngine::half_power(const HostState& s) {
    const index_t N = lat_.sites();
    return half_power([&](int c, double* in) { std::copy(s.begin() + c * N, s.begin() + (c + 1) * N, in); }, 3);
}

StructureFactor StructureFactorEngine::compute(const HostState& s) {
    StructureFactor sf;
    sf.lattice = lat_;
    unfold_half_spectrum(half_power(s), sf);
    return sf;
}

void unfold_half_spectrum(const std::vector<double> (&power)[3], StructureFactor& sf, int components) {
    const Lattice& lat = sf.lattice;
    const index_t N = lat.sites(), Lx = lat.L[0], Ly = lat.L[1], Lz = lat.L[2], H = Lx / 2 + 1;
    for (int c = 0; c < components; ++c) {
        std::vector<double>& S = sf.S[c];
        S.assign(std::size_t(N), 0.0);
        const std::vector<double>& P = power[c];
        // Threads only where there is work for them: a DTWA batch takes the
        // S(k) of thousands of small lattices one after another.
#pragma omp parallel for schedule(static) if (N >= 32768)
        for (index_t row = 0; row < Ly * Lz; ++row) {
            const index_t my = row % Ly, mz = row / Ly;
            // the row holding -k for the mirrored half
            const index_t mirror = ((Ly - my) % Ly) + Ly * ((Lz - mz) % Lz);
            for (index_t mx = 0; mx < H; ++mx) {
                const double v = P[std::size_t(row * H + mx)] / double(N);
                S[row * Lx + mx] = v;
                // The mirror of k, unless it lies in the half computed itself (the
                // Nyquist column of an even Lx): two threads writing one element
                // with values equal only up to roundoff made S(k) differ in the
                // last bit from run to run, and sweeps' peak weights with it.
                if (mx > 0 && Lx - mx >= H) S[mirror * Lx + (Lx - mx) % Lx] = v;
            }
        }
    }
}

RadialAverage radial_average(const StructureFactor& sf) {
    const Lattice& lat = sf.lattice;
    const std::size_t bins = std::size_t(radial_bin_count(lat));
    std::vector<double> sum[3], count(bins, 0.0);
    for (auto& S : sum) S.assign(bins, 0);
    index_t m = 0;
    for (index_t z = 0; z < lat.L[2]; ++z)
        for (index_t y = 0; y < lat.L[1]; ++y)
            for (index_t x = 0; x < lat.L[0]; ++x, ++m) {
                const std::size_t b = std::size_t(radial_bin(lat, x, y, z));
                count[b] += 1;
                for (int c = 0; c < 3; ++c) sum[c][b] += sf.S[c][std::size_t(m)];
            }
    return radial_average_of_sums(lat, sum, std::move(count));
}

RadialAverage radial_average_of_sums(const Lattice& lat, std::vector<double> (&sum)[3], std::vector<double> count) {
    const double dk = radial_bin_width(lat);
    RadialAverage r;
    for (int c = 0; c < 3; ++c) r.S[c] = std::move(sum[c]);
    r.count = std::move(count);
    for (std::size_t b = 0; b < r.count.size(); ++b) {
        r.k.push_back((double(b) + 0.5) * dk);
        for (int c = 0; c < 3; ++c)
            if (r.count[b] > 0) r.S[c][b] /= r.count[b];
    }
    return r;
}

}  // namespace xyzmf
