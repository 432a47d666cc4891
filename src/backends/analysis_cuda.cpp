// DeviceAnalysis on CUDA (include/xyzmf/device_analysis.hpp): device buffers
// made once per lattice, cuFFT plans for the three components at once, and the
// drivers of kernels/analysis_drivers.hpp, all on a stream of the analysis's
// own so that it runs beside the stepping.
//
// cuFFT is loaded when the first device analysis is made, not linked: the
// library is 270 MB, not every machine with a GPU driver has it, and a
// program that cannot start without it would also lose every CPU run.
#include <cuda_runtime_api.h>
#include <cufft.h>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "analysis_drivers.hpp"
#include "cuda_check.hpp"
#include "cuda_drivers.hpp"
#include "xyzmf/backend.hpp"
#include "xyzmf/device_analysis.hpp"
#include "xyzmf/error.hpp"
#include "xyzmf/spectrum_geometry.hpp"
#include "xyzmf/sxy_winding.hpp"

namespace xyzmf {
namespace {

using cuda_check::check;
using cuda_check::check_driver;

// The four cuFFT calls used, from libcufft.so.12 (CUDA 12 and 13 toolkits).
struct CufftApi {
    decltype(&cufftPlanMany) plan_many = nullptr;
    decltype(&cufftSetStream) set_stream = nullptr;
    decltype(&cufftExecD2Z) exec_d2z = nullptr;
    decltype(&cufftDestroy) destroy = nullptr;
    std::string error;  // why it could not be loaded; empty when loaded
};

const CufftApi& cufft() {
    static CufftApi api;
    static std::once_flag once;
    std::call_once(once, [] {
        // XYZMF_CUFFT: a library file of the user's choice (a toolkit off the
        // loader's path, or a Python wheel's); else the loader's search.
        const char* chosen = std::getenv("XYZMF_CUFFT");
        void* lib = chosen && *chosen ? dlopen(chosen, RTLD_NOW | RTLD_LOCAL) : nullptr;
        if (!lib) lib = dlopen("libcufft.so.12", RTLD_NOW | RTLD_LOCAL);
        if (!lib) lib = dlopen("libcufft.so", RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            const char* why = dlerror();
            api.error = why ? why : "not found";
            return;
        }
        api.plan_many = reinterpret_cast<decltype(api.plan_many)>(dlsym(lib, "cufftPlanMany"));
        api.set_stream = reinterpret_cast<decltype(api.set_stream)>(dlsym(lib, "cufftSetStream"));
        api.exec_d2z = reinterpret_cast<decltype(api.exec_d2z)>(dlsym(lib, "cufftExecD2Z"));
        api.destroy = reinterpret_cast<decltype(api.destroy)>(dlsym(lib, "cufftDestroy"));
        if (!api.plan_many || !api.set_stream || !api.exec_d2z || !api.destroy) api.error = "a cuFFT function is missing";
    });
    if (!api.error.empty())
        throw Error("--analysis-backend cuda: cannot load cuFFT (libcufft.so.12 of the CUDA toolkit: " + api.error +
                        "); analyse on the host with --analysis-backend cpu",
                    exit_code::usage);
    return api;
}

void check_fft(cufftResult r, const char* call) {
    if (r != CUFFT_SUCCESS) throw Error(std::string("cuFFT: ") + call + " failed (cufftResult " + std::to_string(int(r)) + ")");
}

// A device array released with its owner.
template <class T>
class DeviceArray {
public:
    DeviceArray() = default;
    explicit DeviceArray(std::size_t count, const char* what) : count_(count) {
        if (count) check(cudaMalloc(reinterpret_cast<void**>(&p_), count * sizeof(T)), what);
    }
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;
    DeviceArray(DeviceArray&& o) noexcept : p_(o.p_), count_(o.count_) { o.p_ = nullptr; }
    DeviceArray& operator=(DeviceArray&& o) noexcept {
        std::swap(p_, o.p_);
        std::swap(count_, o.count_);
        return *this;
    }
    ~DeviceArray() { if (p_) cudaFree(p_); }
    T* data() const { return p_; }
    std::size_t size() const { return count_; }

private:
    T* p_ = nullptr;
    std::size_t count_ = 0;
};

class CudaAnalysis final : public DeviceAnalysis {
public:
    CudaAnalysis(const Lattice& lat, const Couplings& c, double min_amplitude, double stationary_residual, bool radial)
        : lat_(lat), couplings_(c), min_amplitude_(min_amplitude), stationary_residual_(stationary_residual) {
        const CufftApi& fft = cufft();
        if (3 * lat.sites() > INT_MAX)  // cufftPlanMany's sizes are int: three components of N
            throw Error("--analysis-backend cuda: " + lattice_text(lat) +
                            " is larger than the device analysis takes (3 N < 2^31); use --analysis-backend cpu",
                        exit_code::usage);
        // The device of the thread that makes it: the analysis itself runs on the
        // writer thread, whose current device is otherwise device 0.
        check(cudaGetDevice(&device_), "cudaGetDevice");
        check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags (analysis)");
        try {
            plan(lat, fft, radial);
        } catch (...) {  // (no destructor runs for a constructor that throws)
            if (planned_) fft.destroy(plan_);
            cudaStreamDestroy(stream_);
            throw;
        }
    }
    ~CudaAnalysis() override {
        cudaStreamSynchronize(stream_);
        if (planned_) cufft().destroy(plan_);
        cudaStreamDestroy(stream_);
        cudaGetLastError();
    }

    DeviceAnalysisResult analyze(const void* host_state, bool single, DeviceSpectrumRequest request,
                                 bool (*psi_spectrum)(const TallyTerms&, const void*), const void* context) override {
        const auto t0 = std::chrono::steady_clock::now();
        check(cudaSetDevice(device_), "cudaSetDevice (analysis)");
        if (request.radial && radial_bins_ == 0)
            throw Error("device analysis: radial sums asked for, but not planned (internal error)");
        // Whatever throws below, the stream's work (an upload from the caller's
        // pinned buffer among it) is over before the caller may reuse that buffer.
        struct Drain {
            cudaStream_t s;
            ~Drain() { cudaStreamSynchronize(s); }
        } drain{stream_};
        const index_t N = lat_.sites();
        void* stream = stream_;
        DeviceAnalysisResult r;
        if (single) {
            // Half the bytes to upload, into the spectrum's buffer (3N floats fit
            // in its 3 (N / Lx) (Lx / 2 + 1) complex values), then widened.
            float* staged = reinterpret_cast<float*>(spectrum_.data());
            check(cudaMemcpyAsync(staged, host_state, sizeof(float) * std::size_t(3 * N), cudaMemcpyHostToDevice, stream_),
                  "cudaMemcpyAsync (analysis state)");
            cuda::launch_widen(staged, 3 * N, state_.data(), stream);
            check_driver("float state to double");
        } else {
            check(cudaMemcpyAsync(state_.data(), host_state, sizeof(double) * std::size_t(3 * N), cudaMemcpyHostToDevice,
                                  stream_),
                  "cudaMemcpyAsync (analysis state)");
        }
        // What reads the state comes before its transform: cuFFT leaves an
        // out-of-place D2Z's input as it was, but not every FFT library does.
        r.phase = sxy_;
        if (r.phase) {
            cuda::launch_sxy_phase(state_.data(), lat_, couplings_.Jx, couplings_.Jy, min_amplitude_, psi_.data(), stream);
            check_driver("sXY phase field");
        }
        r.tallies = cuda::reduce_tallies(state_.data(), r.phase ? psi_.data() : nullptr, lat_,
                                         SiteModel<double>::make(couplings_, lat_.dim), stationary_residual_,
                                         scratch_.data(), stream);
        check_driver("site tallies");
        transform();
        summarize(request, r.spectrum);
        if (request.power) fetch_power(r.power);
        if (r.phase && lat_.dim >= 2) windings(r);
        if (r.phase && psi_spectrum && psi_spectrum(r.tallies, context)) {
            cuda::launch_phase_field(psi_.data(), N, state_.data(), stream);  // the state is no longer needed
            check_driver("phase field");
            transform();
            fetch_marginals(r.psi_marginal);
            r.psi_spectrum = true;
        }
        check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (analysis)");
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return r;
    }

private:
    // The constructor's work: the device buffers and the FFT plan, on stream_.
    void plan(const Lattice& lat, const CufftApi& fft, bool radial) {
        const index_t N = lat.sites();
        half_ = lat.L[0] / 2 + 1;
        spectrum_count_ = N / lat.L[0] * half_;
        state_ = DeviceArray<double>(std::size_t(3 * N), "cudaMalloc (analysis state)");
        spectrum_ = DeviceArray<double>(std::size_t(2 * 3 * spectrum_count_), "cudaMalloc (analysis spectrum)");
        power_ = DeviceArray<double>(std::size_t(3 * spectrum_count_), "cudaMalloc (analysis power)");
        scratch_ = DeviceArray<char>(cuda::reduce_scratch_bytes(), "cudaMalloc (analysis scratch)");
        headline_scratch_ = DeviceArray<char>(cuda::headline_scratch_bytes(), "cudaMalloc (spectrum reduction scratch)");
        headline_ = DeviceArray<cuda::SpectrumHeadline>(1, "cudaMalloc (spectrum headline)");
        for (int a = 0; a < lat.dim; ++a) marginal_values_ += lat.L[a];
        marginals_ = DeviceArray<double>(std::size_t(marginal_values_), "cudaMalloc (spectrum marginals)");
        if (radial) radial_tables();
        if (sxy_) psi_ = DeviceArray<double>(std::size_t(N), "cudaMalloc (sXY phase)");
        if (sxy_ && lat.dim >= 2) {
            const std::int64_t P = plaquette_count(lat);
            winding_ = DeviceArray<signed char>(std::size_t(P), "cudaMalloc (plaquette windings)");
            counts_ = DeviceArray<unsigned long long>(2, "cudaMalloc (plaquette counts)");
            selected_ = DeviceArray<std::int64_t>(1, "cudaMalloc (vortex count)");
            const std::size_t bytes = cuda::compact_scratch_bytes(P);
            check_driver("vortex compaction scratch");
            // (never empty: CUB takes a null scratch for a question about its size)
            compact_scratch_ = DeviceArray<char>(std::max<std::size_t>(bytes, 256), "cudaMalloc (vortex compaction scratch)");
        }
        // As FFTW: the slowest axis first, (Lz, Ly, Lx); the three components as a
        // batch of three, N reals apart in, spectrum_count_ complex values apart out.
        int n[3] = {1, 1, 1};
        for (int a = 0; a < lat.dim; ++a) n[a] = int(lat.L[lat.dim - 1 - a]);
        int out_n[3] = {n[0], n[1], n[2]};
        out_n[lat.dim - 1] = int(half_);
        check_fft(fft.plan_many(&plan_, lat.dim, n, n, 1, int(N), out_n, 1, int(spectrum_count_), CUFFT_D2Z, 3),
                  "cufftPlanMany");
        planned_ = true;
        check_fft(fft.set_stream(plan_, stream_), "cufftSetStream");
    }

    // |F(k)|^2 of the three blocks now in state_, on the half spectrum, into power_.
    void transform() {
        check_fft(cufft().exec_d2z(plan_, state_.data(), reinterpret_cast<cufftDoubleComplex*>(spectrum_.data())),
                  "cufftExecD2Z");
        cuda::launch_power(spectrum_.data(), 3 * spectrum_count_, power_.data(), stream_);
        check_driver("power spectrum");
    }

    // power_'s half spectrum to the host (only where the full grid is stored: 134 MB at 4096^2).
    void fetch_power(std::vector<double> (&power)[3]) {
        for (int c = 0; c < 3; ++c) {
            power[c].resize(std::size_t(spectrum_count_));
            check(cudaMemcpyAsync(power[c].data(), power_.data() + c * spectrum_count_,
                                  sizeof(double) * std::size_t(spectrum_count_), cudaMemcpyDeviceToHost, stream_),
                  "cudaMemcpyAsync (power spectrum)");
        }
        check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (power spectrum)");
    }

    // The marginals of power_'s S_perp, to the host, axis by axis.
    void fetch_marginals(std::vector<double> (&marginal)[3]) {
        cuda::reduce_marginals(power_.data(), power_.data() + spectrum_count_, lat_, marginals_.data(), stream_);
        check_driver("spectrum marginals");
        std::vector<double> all(static_cast<std::size_t>(marginal_values_));
        check(cudaMemcpyAsync(all.data(), marginals_.data(), sizeof(double) * all.size(), cudaMemcpyDeviceToHost, stream_),
              "cudaMemcpyAsync (spectrum marginals)");
        check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (spectrum marginals)");
        std::size_t at = 0;
        for (int a = 0; a < 3; ++a) {
            const std::size_t n = a < lat_.dim ? std::size_t(lat_.L[a]) : 0;
            marginal[a].assign(all.begin() + std::ptrdiff_t(at), all.begin() + std::ptrdiff_t(at + n));
            at += n;
        }
    }

    // What the classification reads of power_ (and the radial sums), to the host.
    void summarize(DeviceSpectrumRequest request, ReducedSpectrum& d) {
        const double* px = power_.data();
        cuda::reduce_headline(px, px + spectrum_count_, lat_, headline_.data(), headline_scratch_.data(), stream_);
        check_driver("spectrum headline");
        if (request.radial) {
            cuda::reduce_radial(px, spectrum_count_, lat_, radial_order_.data(), radial_offsets_.data(), radial_bins_,
                                radial_sums_.data(), stream_);
            check_driver("radial sums");
        }
        cuda::SpectrumHeadline h;
        check(cudaMemcpyAsync(&h, headline_.data(), sizeof h, cudaMemcpyDeviceToHost, stream_),
              "cudaMemcpyAsync (spectrum headline)");
        std::vector<double> radial(request.radial ? std::size_t(3 * radial_bins_) : 0);
        if (request.radial)
            check(cudaMemcpyAsync(radial.data(), radial_sums_.data(), sizeof(double) * radial.size(), cudaMemcpyDeviceToHost,
                                  stream_), "cudaMemcpyAsync (radial sums)");
        fetch_marginals(d.marginal);  // (synchronises the stream: h and radial are in)
        d.total_perp = h.total_perp;
        d.perp_k0 = h.perp_k0;
        d.perp_kpi = h.perp_kpi;
        d.strongest.clear();
        for (int i = 0; i < h.count; ++i) d.strongest.push_back({h.value[i], h.key[i], h.mirror_value[i]});
        if (request.radial) {
            for (int c = 0; c < 3; ++c)
                d.radial_sum[c].assign(radial.begin() + c * radial_bins_, radial.begin() + (c + 1) * radial_bins_);
            d.radial_count = radial_count_;
        }
    }

    // The half-spectrum points of each radial bin (spectrum_geometry.hpp): made once.
    void radial_tables() {
        radial_bins_ = radial_bin_count(lat_);
        const RadialLayout layout = radial_layout(lat_);
        const std::vector<int>& order = layout.order;
        const std::vector<int>& offsets = layout.offsets;
        radial_count_ = layout.count;
        radial_order_ = DeviceArray<int>(order.size(), "cudaMalloc (radial bins)");
        radial_offsets_ = DeviceArray<int>(offsets.size(), "cudaMalloc (radial bins)");
        radial_sums_ = DeviceArray<double>(std::size_t(3 * radial_bins_), "cudaMalloc (radial sums)");
        check(cudaMemcpy(radial_order_.data(), order.data(), sizeof(int) * order.size(), cudaMemcpyHostToDevice),
              "cudaMemcpy (radial bins)");
        check(cudaMemcpy(radial_offsets_.data(), offsets.data(), sizeof(int) * offsets.size(), cudaMemcpyHostToDevice),
              "cudaMemcpy (radial bins)");
    }

    void windings(DeviceAnalysisResult& r) {
        const std::int64_t P = plaquette_count(lat_);
        void* stream = stream_;
        cuda::launch_plaquette_windings(psi_.data(), lat_, winding_.data(), counts_.data(), stream);
        check_driver("plaquette windings");
        unsigned long long counts[2] = {0, 0};
        check(cudaMemcpyAsync(counts, counts_.data(), sizeof counts, cudaMemcpyDeviceToHost, stream_),
              "cudaMemcpyAsync (plaquette counts)");
        check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (plaquette counts)");
        r.plaquettes = P;
        r.skipped = std::int64_t(counts[0]);
        const std::int64_t wound = std::int64_t(counts[1]);
        r.wound.resize(std::size_t(wound));
        r.winding.clear();
        if (wound == 0) return;
        // Grown, never shrunk: a free waits for the stepping too (analysis_kernels.cu).
        if (std::size_t(wound) > number_.size()) {
            const std::size_t room = std::size_t(wound) + std::size_t(wound) / 2;
            number_ = DeviceArray<std::int64_t>(room, "cudaMalloc (vortex plaquettes)");
            charge_ = DeviceArray<signed char>(room, "cudaMalloc (vortex charges)");
        }
        cuda::compact_wound(winding_.data(), P, number_.data(), charge_.data(), selected_.data(), compact_scratch_.data(),
                            compact_scratch_.size(), stream);
        check_driver("vortex compaction");
        std::vector<signed char> w(static_cast<std::size_t>(wound));
        check(cudaMemcpyAsync(r.wound.data(), number_.data(), sizeof(std::int64_t) * std::size_t(wound),
                              cudaMemcpyDeviceToHost, stream_), "cudaMemcpyAsync (vortex plaquettes)");
        check(cudaMemcpyAsync(w.data(), charge_.data(), std::size_t(wound), cudaMemcpyDeviceToHost, stream_),
              "cudaMemcpyAsync (vortex charges)");
        std::int64_t selected = 0;
        check(cudaMemcpyAsync(&selected, selected_.data(), sizeof selected, cudaMemcpyDeviceToHost, stream_),
              "cudaMemcpyAsync (vortex count)");
        check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (vortices)");
        if (selected != wound)
            throw Error("device analysis: " + std::to_string(selected) + " vortex plaquettes compacted, " +
                        std::to_string(wound) + " counted (internal error)");
        r.winding.assign(w.begin(), w.end());
    }

    Lattice lat_;
    Couplings couplings_;
    double min_amplitude_, stationary_residual_;
    // An sXY point (classify.hpp, is_sxy_point): the phase field, its windings in 2D and 3D.
    bool sxy_ = couplings_.Jz == 0 && couplings_.Jx * couplings_.Jy < 0;
    int device_ = 0;
    cudaStream_t stream_ = nullptr;
    cufftHandle plan_ = 0;
    bool planned_ = false;
    index_t half_ = 0, spectrum_count_ = 0, marginal_values_ = 0, radial_bins_ = 0;
    DeviceArray<double> state_, spectrum_, power_, psi_, marginals_, radial_sums_;
    DeviceArray<cuda::SpectrumHeadline> headline_;
    DeviceArray<int> radial_order_, radial_offsets_;
    std::vector<double> radial_count_;
    DeviceArray<signed char> winding_, charge_;
    DeviceArray<std::int64_t> number_, selected_;
    DeviceArray<unsigned long long> counts_;
    DeviceArray<char> scratch_, compact_scratch_, headline_scratch_;
};

}  // namespace

std::unique_ptr<DeviceAnalysis> make_device_analysis(const Lattice& lat, const Couplings& c, double min_amplitude,
                                                     double stationary_residual, bool radial) {
    if (cuda_device_count() == 0)
        throw Error("--analysis-backend cuda: no CUDA device here; analyse on the host with --analysis-backend cpu", exit_code::usage);
    return std::make_unique<CudaAnalysis>(lat, c, min_amplitude, stationary_residual, radial);
}

}  // namespace xyzmf
