// Random123's Philox4x32-10 on several counters at once, with the host's SIMD
// multiply (32 x 32 -> 64 bits in each 64-bit lane): the same words as
// r123::Philox4x32, kLanes counters a call (test_dtwa checks them word for
// word). The DTWA draws one Philox call per site and step, which is most of a
// step's cost on the CPU when done one site at a time; compilers do not
// vectorise Random123's scalar rounds themselves (GCC 12 reports the loop
// vectorised and emits scalar code).
//
// Host x86 only (SSE2 and up; AVX2 and AVX-512 widen it); elsewhere, and in
// CUDA translation units, XYZMF_PHILOX_LANES is 0 and callers use r123.
#pragma once

#if !defined(__CUDACC__) && defined(__SSE2__)
#define XYZMF_PHILOX_LANES 1
#include <immintrin.h>

#include <cstdint>

namespace xyzmf {
namespace philox_lanes {

#if defined(__AVX512F__) && defined(__AVX512DQ__)
constexpr int kLanes = 8;
typedef std::uint64_t Lanes __attribute__((vector_size(64)));
// vpmullq: exact here, the lanes being < 2^32 (the _mm512_mul_epu32 intrinsic
// draws a false -Wmaybe-uninitialized from GCC 12's header, and is no faster).
inline Lanes mul32(Lanes a, Lanes b) { return a * b; }
#elif defined(__AVX2__)
constexpr int kLanes = 4;
typedef std::uint64_t Lanes __attribute__((vector_size(32)));
inline Lanes mul32(Lanes a, Lanes b) { return (Lanes)_mm256_mul_epu32((__m256i)a, (__m256i)b); }
#else
constexpr int kLanes = 2;
typedef std::uint64_t Lanes __attribute__((vector_size(16)));
inline Lanes mul32(Lanes a, Lanes b) { return (Lanes)_mm_mul_epu32((__m128i)a, (__m128i)b); }
#endif

// 0, 1, ..., kLanes - 1.
inline Lanes iota() {
    Lanes v{};
    for (int j = 0; j < kLanes; ++j) v[j] = std::uint64_t(j);
    return v;
}

// Ten Philox4x32 rounds on the counters (c[0..3], one 32-bit word per lane,
// zero-extended) with the key (k0, k1): r123's philox4x32_R<10>, constants and
// key schedule included.
inline void philox4x32_10(Lanes c[4], std::uint32_t k0, std::uint32_t k1) {
    const Lanes lo = Lanes{} + 0xffffffffu, m0 = Lanes{} + 0xD2511F53u, m1 = Lanes{} + 0xCD9E8D57u;
    for (int r = 0; r < 10; ++r) {
        const Lanes p0 = mul32(c[0], m0), p1 = mul32(c[2], m1);
        const Lanes n0 = (p1 >> 32) ^ c[1] ^ k0, n2 = (p0 >> 32) ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = p1 & lo;
        c[2] = n2;
        c[3] = p0 & lo;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

}  // namespace philox_lanes
}  // namespace xyzmf
#else
#define XYZMF_PHILOX_LANES 0
#endif
