// Subnormal numbers (below 2.2e-308 in double, 1.2e-38 in float) flushed to
// zero while a command runs.
//
// Why: a component that decays for good (the transverse spin of a stable
// paramagnet, s_x ~ e^{-gamma t / 2}) crosses into the subnormal range near
// t = 1400/gamma in double (175/gamma in float), and x86 cores take ~100
// cycles for every operation that reads or makes a subnormal. A 128^2
// paramagnet run to t = 2000 with --steady-tol 0 took 590 s instead of the
// ~50 s its length implies (48 s with this). Setting FTZ and DAZ (MXCSR; FZ
// on ARM) makes such operations give 0 at full speed: the component's last
// decrements underflow, so it stops within a few hundred DBL_MIN (below 1e-304;
// where exactly depends on whether the build fuses multiply-adds) instead of
// creeping through the subnormals. That is no physics, and the GPU (no
// penalty, subnormals kept) agrees with the CPU to the same roundoff as before.
//
// The mode is per thread: the scope sets it in the calling thread and in the
// OpenMP team, whose new threads inherit it from the calling thread, and puts
// the caller's mode back in both at its end (the Python module's process is
// left as it was found; nested OpenMP teams, which the program does not use,
// would keep flushing). Code of the caller that runs inside a command (a
// Python progress callback) runs under SubnormalsKept.
#pragma once

namespace xyzmf {

class SubnormalsFlushed {
public:
    SubnormalsFlushed();
    ~SubnormalsFlushed();
    SubnormalsFlushed(const SubnormalsFlushed&) = delete;
    SubnormalsFlushed& operator=(const SubnormalsFlushed&) = delete;

    // Whether this thread flushes now (the test asks each OpenMP thread).
    static bool active();

private:
    unsigned long saved_ = 0;
    int team_ = 1;
};

// Subnormals computed as usual in the calling thread for as long as this lives.
class SubnormalsKept {
public:
    SubnormalsKept();
    ~SubnormalsKept();
    SubnormalsKept(const SubnormalsKept&) = delete;
    SubnormalsKept& operator=(const SubnormalsKept&) = delete;

private:
    unsigned long now_ = 0;
};

}  // namespace xyzmf
