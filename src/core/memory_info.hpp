// How much memory a run needs and how much the machine has, so impossible
// sizes are refused with numbers BEFORE anything is allocated.
#pragma once

#include <cstddef>
#include <string>

namespace xyzmf {

std::size_t host_available_bytes();   // MemAvailable, capped by a cgroup limit and by ulimit -v / -d (less what is mapped)
std::string format_bytes(double bytes);  // "1.5 GiB"

// Throws xyzmf::Error(usage) "--size ...: needs X of <where> memory, Y available".
// exit_code: usage for sizes from the command line, io for sizes read from a file.
void check_memory(std::size_t needed, std::size_t available, const char* where, const std::string& size_text,
                  int exit_code = 2);

}  // namespace xyzmf
