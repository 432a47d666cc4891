// Host memory available to this process, for the pre-allocation size check.
#include "memory_info.hpp"

#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "xyzmf/error.hpp"

namespace xyzmf {

std::size_t host_available_bytes() {
    std::size_t avail = std::numeric_limits<std::size_t>::max();
    std::ifstream meminfo("/proc/meminfo");
    for (std::string line; std::getline(meminfo, line);) {
        if (line.rfind("MemAvailable:", 0) == 0) {
            std::istringstream in(line.substr(13));
            std::size_t kib = 0;
            if (in >> kib) avail = kib * 1024;
        }
    }
    // A container's limit is lower than the machine's free memory.
    // cgroup v2, then v1 (whose "no limit" is a huge number, harmless under min).
    for (const char* file : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
        std::ifstream cg(file);
        std::string lim;
        if (cg >> lim && lim != "max") {
            try { avail = std::min<std::size_t>(avail, std::stoull(lim)); } catch (...) {}
        }
    }
    // An address-space or data-size limit (ulimit -v, ulimit -d) caps what this
    // process can still allocate: the limit less what it has mapped already.
    struct rlimit lim;
    for (int which : {RLIMIT_AS, RLIMIT_DATA}) {
        if (::getrlimit(which, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) continue;
        std::size_t used = 0;
        std::ifstream status("/proc/self/status");
        const char* key = which == RLIMIT_AS ? "VmSize:" : "VmData:";
        for (std::string line; std::getline(status, line);)
            if (line.rfind(key, 0) == 0) {
                std::istringstream in(line.substr(std::strlen(key)));
                std::size_t kib = 0;
                if (in >> kib) used = kib * 1024;
            }
        const std::size_t cap = std::size_t(lim.rlim_cur);
        avail = std::min(avail, cap > used ? cap - used : 0);
    }
    return avail;
}

std::string format_bytes(double b) {
    const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    while (b >= 1024 && u < 6) { b /= 1024; ++u; }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f %s", b, unit[u]);
    return buf;
}

void check_memory(std::size_t needed, std::size_t available, const char* where, const std::string& size_text,
                  int code) {
    if (needed > available)
        throw Error(std::string(code == exit_code::usage ? "--size " : "lattice ") + size_text + ": needs " +
                        format_bytes(double(needed)) + " of " + where + " memory but only " +
                        format_bytes(double(available)) + " is available",
                    code);
}

}  // namespace xyzmf
