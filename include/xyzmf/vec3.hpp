// A Bloch vector (or any 3-vector) usable in host and device code.
#pragma once

#include "xyzmf/hd.hpp"

namespace xyzmf {

template <class Real>
struct Vec3 {
    Real x, y, z;
};

template <class Real>
XYZMF_HD Vec3<Real> operator+(Vec3<Real> a, Vec3<Real> b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }

template <class Real>
XYZMF_HD Real norm2(Vec3<Real> a) { return a.x * a.x + a.y * a.y + a.z * a.z; }

}  // namespace xyzmf
