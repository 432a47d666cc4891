#include "subnormals.hpp"

#include <omp.h>

#include <algorithm>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define XYZMF_FLUSH_MXCSR 1
#endif

namespace xyzmf {
namespace {

#if defined(XYZMF_FLUSH_MXCSR)
constexpr unsigned long kFlushBits = 0x8000 | 0x0040;  // FTZ (results) | DAZ (operands)
unsigned long mode() { return _mm_getcsr(); }
void set_mode(unsigned long m) { _mm_setcsr(unsigned(m)); }
#elif defined(__aarch64__)
constexpr unsigned long kFlushBits = 1ul << 24;  // FPCR.FZ
unsigned long mode() {
    unsigned long m;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(m));
    return m;
}
void set_mode(unsigned long m) { __asm__ __volatile__("msr fpcr, %0" : : "r"(m)); }
#else
constexpr unsigned long kFlushBits = 0;  // (elsewhere: left as it is)
unsigned long mode() { return 0; }
void set_mode(unsigned long) {}
#endif

void set_in_team(unsigned long m, int team) {
    set_mode(m);
#pragma omp parallel num_threads(team)
    set_mode(m);
}

}  // namespace

SubnormalsFlushed::SubnormalsFlushed() : saved_(mode()), team_(omp_get_max_threads()) {
    set_in_team(saved_ | kFlushBits, team_);
}

SubnormalsFlushed::~SubnormalsFlushed() {
    // The command may have grown the team (--threads): those threads began
    // flushing, inherited from this one, and are put back too.
    set_in_team(saved_, std::max(team_, omp_get_max_threads()));
}

SubnormalsKept::SubnormalsKept() : now_(mode()) { set_mode(now_ & ~kFlushBits); }

SubnormalsKept::~SubnormalsKept() { set_mode(now_); }

bool SubnormalsFlushed::active() { return kFlushBits != 0 && (mode() & kFlushBits) == kFlushBits; }

}  // namespace xyzmf
