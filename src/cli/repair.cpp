// `xyzmf repair FILE`: what a run file damaged by a kill still holds, made
// readable again (run_repair.hpp): rebuilt from its journal, or, without one,
// every group, dataset and attribute that still reads.
#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "xyzmf/error.hpp"
#include "output_file.hpp"
#include "run_repair.hpp"
#include "schema.hpp"
#include "signals.hpp"

namespace xyzmf::cli {
namespace {

struct RepairOptions {
    std::string file, out;
    bool overwrite = false, quiet = false;
};

void add_options(CLI::App* sub, RepairOptions& o) {
    sub->add_option("file", o.file, "The damaged run file")->required();
    sub->add_option("-o,--output", o.out, "Write the repaired file here instead of over FILE");
    sub->add_flag("--overwrite", o.overwrite, "Replace an existing -o file");
    sub->add_flag("-q,--quiet", o.quiet, "Print nothing on success");
}

int execute(const RepairOptions& o) {
    struct stat st;
    if (::stat(o.file.c_str(), &st) != 0) throw Error(o.file + ": no such file", exit_code::io);
    if (!S_ISREG(st.st_mode)) throw Error(o.file + ": not a regular file", exit_code::io);
    OutputLock lock(o.file);
    std::unique_ptr<OutputLock> out_lock;
    std::string out = OutputLock::resolve(o.file);
    if (!o.out.empty()) {
        if (OutputLock::resolve(o.out) == out)
            throw Error("-o: " + o.out + " is FILE itself; leave -o away to repair it in place", exit_code::usage);
        out_lock = std::make_unique<OutputLock>(o.out);
        if (::stat(o.out.c_str(), &st) == 0 && !o.overwrite)
            throw Error("-o: " + o.out + " already exists; pass --overwrite to replace it", exit_code::io);
        out = OutputLock::resolve(o.out);
    }
    const std::optional<JournalContents> j = journal_of(o.file);
    if (const std::string what = not_a_run_file(o.file); !what.empty())
        throw Error(o.file + ": " + what + ": nothing to repair (xyzmf repair mends run files)", exit_code::io);
    std::string why;
    if (o.out.empty() && run_file_sound(o.file, j ? &*j : nullptr, &why)) {
        if (!o.quiet) std::printf("repair: %s reads completely; nothing to repair\n", o.file.c_str());
        return 0;
    }
    throw_if_interrupted("before the repair; nothing written");
    const std::string path = OutputLock::resolve(o.file);
    const RepairReport r = j ? rebuild_from_journal(path, *j, out) : salvage(path, out);
    if (!o.quiet) {
        std::printf("repair: %s %s: %lld complete snapshots", out.c_str(),
                    j ? "rebuilt from its journal" : "salvaged (no journal)", (long long)r.snapshots);
        if (r.last_t >= 0) std::printf(" (up to t = %g)", r.last_t);
        std::printf(", %lld time-series rows\n", (long long)r.rows);
        if (!r.damaged_copy.empty()) std::printf("repair: the damaged file is kept as %s\n", r.damaged_copy.c_str());
        for (const std::string& l : r.lost) std::printf("repair: lost: %s\n", l.c_str());
        if (!why.empty()) std::printf("repair: what was wrong: %s\n", why.c_str());
        // A journal holds spins, not their analysis: say how to have it again.
        if (r.from_journal && r.snapshots > 0 && read_run_config(out).analyze)
            std::printf("repair: the analysis of its states is not in the journal: xyzmf run --resume %s analyses "
                        "them again as it goes on (or xyzmf analyze %s --all-snapshots now)\n",
                        out.c_str(), out.c_str());
    }
    return 0;
}

}  // namespace

Command add_repair_command(CLI::App& app, const std::string&) {
    auto o = std::make_shared<RepairOptions>();
    CLI::App* sub = app.add_subcommand(
        "repair",
        "Recover a run file that a kill left unreadable: rebuilt from its journal (.FILE.journal, kept beside a run "
        "file until it finishes) up to its last complete snapshot, or, without one, with every group, dataset and "
        "attribute that still reads. In place the damaged file is kept as FILE.damaged (FILE.damaged.2, ... if that exists)");
    add_options(sub, *o);
    return {sub, [o] { return execute(*o); }};
}

}  // namespace xyzmf::cli
