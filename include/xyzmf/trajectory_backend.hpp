// What the quantum-trajectory driver (src/quantum/trajectories.cpp) needs
// from a backend: a batch of B state vectors of 2^N amplitudes held where the
// work is done (host memory or the GPU), and the few whole-batch operations
// of the waiting-time algorithm. The driver keeps every decision (step sizes,
// jump times, which jump, random numbers) on the host, so the CPU and the GPU
// follow the same trajectories from the same seed. Every operation acts on
// all B trajectories at once (one launch per operation on a GPU); a
// trajectory with step 0 or flag 0 is left alone.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "xyzmf/spin_operators.hpp"

namespace xyzmf {

class TrajectoryBackend {
public:
    virtual ~TrajectoryBackend() = default;
    virtual std::string description() const = 0;
    virtual int batch() const = 0;

    // psi = host states (batch x 2^N amplitudes).
    virtual void load(const std::vector<Amp>& states) = 0;
    // out_b = exp(-shift h_b) * sum_{k <= terms} (-i (H_eff + i shift) h_b)^k / k! psi_b
    // for every b with h_b > 0 (the truncated series of exp(-i H_eff h_b)).
    virtual void propagate(const std::vector<double>& h, int terms) = 0;
    // Whether the backend can keep every term of a propagate, so that a point
    // inside that step costs no product with H_eff (the jump-time search).
    virtual bool evaluates_within_step() const { return false; }
    // The next propagate keeps every term of the trajectories b with keep_b != 0.
    virtual void keep_terms(const std::vector<int>& keep) { (void)keep; }
    // out_b = exp(-shift s h_b) sum_{k <= terms} s^k term_k for every b with
    // s = fraction_b > 0, h_b and term_k from b's last propagate that kept its
    // terms: the same series evaluated at s h_b. Only where evaluates_within_step().
    virtual void evaluate_within_step(const std::vector<double>& fraction) { (void)fraction; }
    // |out_b|^2
    virtual void out_norms(std::vector<double>& n) = 0;
    // psi_b = out_b where take_b != 0.
    virtual void accept(const std::vector<int>& take) = 0;
    // p[b * N + n] = sum_i |psi_b,i|^2 bit_n(i): spin n's up population (unnormalised),
    // for every b with want_b != 0 (a backend may fill the others too, or leave zeros).
    virtual void populations(const std::vector<int>& want, std::vector<double>& p) = 0;
    // psi_b = scale_b * J psi_b with J = s-_n for channel n < N, sz_{n-N} for
    // N <= channel < 2N; channel -1: no jump.
    virtual void jump(const std::vector<int>& channel, const std::vector<double>& scale) = 0;
    // c[(b * 3 + a) * N + r] = sum_m <psi_b| sa_m sa_{m+r} |psi_b> (unnormalised)
    // for every b with want_b != 0.
    virtual void correlations(const std::vector<int>& want, std::vector<double>& c) = 0;
};

// host memory, OpenMP over trajectories and amplitudes. keep_terms > 0: every
// trajectory keeps that many terms of its series (evaluates_within_step).
std::unique_ptr<TrajectoryBackend> make_cpu_trajectories(const SpinModel& m, const std::vector<int>& partners,
                                                        int batch, int keep_terms = 0);
// Throws xyzmf::Error when the build or the machine has no CUDA device.
std::unique_ptr<TrajectoryBackend> make_cuda_trajectories(const SpinModel& m, const std::vector<int>& partners,
                                                         int batch);

}  // namespace xyzmf
