// Two vortex censuses the same, vortex for vortex and in order: the host's
// find_vortices against another way of counting (over MPI ranks, through the
// device analysis's numbering and compaction).
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <string>

#include "vortices.hpp"

namespace xyzmf::test {

inline void expect_same_census(const VortexCensus& got, const VortexCensus& want, const std::string& what) {
    EXPECT_EQ(got.vortices, want.vortices) << what;
    EXPECT_EQ(got.antivortices, want.antivortices) << what;
    EXPECT_EQ(got.skipped, want.skipped) << what;
    EXPECT_EQ(got.plaquettes, want.plaquettes) << what;
    EXPECT_EQ(got.pierced, want.pierced) << what;
    EXPECT_EQ(got.lines, want.lines) << what;
    ASSERT_EQ(got.list.size(), want.list.size()) << what;
    std::size_t differ = 0;
    for (std::size_t i = 0; i < want.list.size(); ++i)
        differ += got.list[i].normal != want.list[i].normal || got.list[i].charge != want.list[i].charge ||
                  got.list[i].pos[0] != want.list[i].pos[0] || got.list[i].pos[1] != want.list[i].pos[1] ||
                  got.list[i].pos[2] != want.list[i].pos[2];
    EXPECT_EQ(differ, 0u) << what << ": vortex lists differ (order included)";
}

}  // namespace xyzmf::test
