"""Class 4, full disk (RLIMIT_FSIZE).
"""
import os

from harness import (
    Case, FX, FX_SIZE, Q, check_run_file, check_sweep_file, cp, exported, fsize_limit, h5_state,
    post_export_ok, post_names, post_run_ok, posts, seq)
from fixtures import MAP5, RUN16, SWEEP3


def full_disk_cases():
    C = []
    K = 1024

    def lim(fx, f):
        return lambda: int(f(FX_SIZE[fx]))

    def after_lift_resume(name="out.h5", ref=None):
        def f(ctx, res):
            if res.rc != 0 and os.path.exists(ctx.p(name)):
                st = h5_state(ctx.p(name))
                if st["ok"] and st["attrs"].get("content") == "run":
                    r = ctx.run(["run", "--resume", name] + Q, (0,), modifies=(name,))
                    if r.rc == 0:
                        check_run_file(ctx, name, r.argv, ref=FX.get(ref) if ref else None)
        return f

    def after_lift(argv, expect=(0,), modifies=()):
        def f(ctx, res):
            if res.rc != 0:
                ctx.run(argv, expect, modifies=modifies)
        return f

    new_run = RUN16 + ["-o", "out.h5"]
    for label, n in [("0", 0), ("2 KB", 2 * K), ("20 KB", 20 * K), ("half", lim("run16", lambda s: s // 2)),
                     ("size - 1 KB", lim("run16", lambda s: s - K)), ("size - 1", lim("run16", lambda s: s - 1))]:
        C.append(Case("full_disk", f"run new file, limit {label}", new_run, expect=(3,), creates=("out.h5",),
                      preexec=fsize_limit(n), post=after_lift_resume(ref="run16")))
    C.append(Case("full_disk", "run new file, limit 4 x size (control)", new_run, creates=("out.h5",),
                  preexec=fsize_limit(lim("run16", lambda s: 4 * s)), post=post_run_ok(ref="run16")))
    over = RUN16 + ["--seed", "5", "-o", "out.h5", "--overwrite"]
    for label, n in [("0", 0), ("2 KB", 2 * K), ("20 KB", 20 * K), ("size - 1 KB", lim("run16", lambda s: s - K))]:
        C.append(Case("full_disk", f"run --overwrite a good file, limit {label}", over, setup=cp("run16", "out.h5"),
                      expect=(3,), replaces=("out.h5",), preexec=fsize_limit(n)))
    res_argv = ["run", "--resume", "out.h5"] + Q
    for label, n in [("0", 0), ("file size", lim("part16", lambda s: s)),
                     ("file size + 4 KB", lim("part16", lambda s: s + 4 * K))]:
        C.append(Case("full_disk", f"run --resume, limit {label}", res_argv, setup=cp("part16", "out.h5"),
                      expect=(3,), modifies=("out.h5",), preexec=fsize_limit(n),
                      post=after_lift_resume(ref="run16")))
    for label, n in [("file size", lim("run16", lambda s: s)), ("file size + 1 KB", lim("run16", lambda s: s + K))]:
        C.append(Case("full_disk", f"analyze in place, limit {label}", ["analyze", "out.h5"],
                      setup=cp("run16", "out.h5"), expect=(3,), modifies=("out.h5",), preexec=fsize_limit(n),
                      post=after_lift(["analyze", "out.h5"], modifies=("out.h5",))))
    for label, n in [("file size", lim("run16", lambda s: s)), ("file size + 16 KB", lim("run16", lambda s: s + 16 * K))]:
        C.append(Case("full_disk", f"analyze --all-snapshots, limit {label}", ["analyze", "out.h5", "--all-snapshots"],
                      setup=cp("run16", "out.h5"), expect=(3,), modifies=("out.h5",), preexec=fsize_limit(n),
                      post=after_lift(["analyze", "out.h5", "--all-snapshots"], modifies=("out.h5",))))
    for label, n in [("0", 0), ("2 KB", 2 * K), ("4 KB", 4 * K)]:
        C.append(Case("full_disk", f"analyze --out new.h5, limit {label}", ["analyze", "in.h5", "--out", "new.h5"],
                      setup=cp("run16", "in.h5"), expect=(3,), creates=("new.h5",), preexec=fsize_limit(n)))
    new_sweep = SWEEP3 + ["-o", "out.h5"]
    for label, n in [("0", 0), ("2 KB", 2 * K), ("half", lim("sweep", lambda s: s // 2)),
                     ("size - 1 KB", lim("sweep", lambda s: s - K))]:
        C.append(Case("full_disk", f"sweep new file, limit {label}", new_sweep, expect=(3,), creates=("out.h5",),
                      preexec=fsize_limit(n)))
    sres = ["sweep", "--resume", "out.h5"] + Q
    C.append(Case("full_disk", "sweep --resume, limit 0", sres, setup=cp("sweep_part", "out.h5"), expect=(3,),
                  modifies=("out.h5",), preexec=fsize_limit(0),
                  post=posts(after_lift(sres, modifies=("out.h5",)),
                             lambda ctx, res: check_sweep_file(ctx, "out.h5", sres, ref=FX["sweep"]))))
    C.append(Case("full_disk", "sweep --resume, limit = file size", sres, setup=cp("sweep_part", "out.h5"),
                  expect=(0, 3), modifies=("out.h5",), preexec=fsize_limit(lim("sweep_part", lambda s: s)),
                  post=posts(after_lift(sres, modifies=("out.h5",)),
                             lambda ctx, res: check_sweep_file(ctx, "out.h5", sres, ref=FX["sweep"]))))
    merge = ["merge", "-o", "m.h5", "a.h5", "b.h5"]
    for label, n in [("0", 0), ("2 KB", 2 * K), ("half", lim("merged", lambda s: s // 2))]:
        C.append(Case("full_disk", f"merge, limit {label}", merge, setup=seq(cp("sh0", "a.h5"), cp("sh1", "b.h5")),
                      expect=(3,), creates=("m.h5",), preexec=fsize_limit(n)))
    # a write stopped by the limit says so and names the file (a67327b: "HDF5: write k")
    for label, cmd in [("stability (241 x 241)", ["stability", "-o", "m.h5"]),
                       ("sweep (41 x 41 x 8 replicas)", ["sweep", "--x", "Jx:-2:2:41", "--y", "Jy:-2:2:41", "--size", "4",
                                                         "--t-end", "1", "--replicas", "8"] + Q + ["-o", "m.h5"])]:
        for n in (100 * K, 400 * K, 1000 * K):
            C.append(Case("full_disk", f"{label}, limit {n // K} KB: the message names the limit and the file", cmd,
                          expect=(3,), creates=("m.h5",), preexec=fsize_limit(n),
                          post=post_names("file-size limit", "disk full")))
    stab = MAP5 + ["-o", "m.h5"]
    for label, n in [("0", 0), ("2 KB", 2 * K), ("half", lim("map", lambda s: s // 2))]:
        C.append(Case("full_disk", f"stability -o, limit {label}", stab, expect=(3,), creates=("m.h5",),
                      preexec=fsize_limit(n)))
    C.append(Case("full_disk", "run --analyze, limit size - 1 KB", RUN16 + ["--analyze", "-o", "out.h5"],
                  expect=(3,), creates=("out.h5",), preexec=fsize_limit(lim("run16", lambda s: s - K))))

    # export of a 64^2 run: its fields file (about 680 KB) is larger than the 256 KB of room that
    # a flush asks for, so some limits let the first states in and stop a later one.
    SIDECAR = ("big.xdmf", "big.fields.h5")
    exp = ["export", "big.h5", "-q"]

    def after_lift_export(argv):
        def f(ctx, res):
            if res.rc != 0:     # nothing left behind blocks the same export without the limit
                r = ctx.run(argv, (0,), creates=tuple(n for n in SIDECAR if not os.path.exists(ctx.p(n))),
                            replaces=tuple(n for n in SIDECAR if os.path.exists(ctx.p(n))))
                post_export_ok("big.h5", "big.xdmf")(ctx, r)
        return f

    fields = lambda f: lim("run64_fields", f)   # noqa: E731
    for label, n in [("0", 0), ("2 KB", 2 * K), ("20 KB", 20 * K), ("300 KB", 300 * K),
                     ("0.6 x fields size", fields(lambda s: 0.6 * s)), ("0.75 x fields size", fields(lambda s: 0.75 * s)),
                     ("0.9 x fields size", fields(lambda s: 0.9 * s)), ("fields size - 1", fields(lambda s: s - 1))]:
        C.append(Case("full_disk", f"export new sidecar, limit {label}", exp, setup=cp("run64", "big.h5"),
                      expect=(3,), creates=SIDECAR, preexec=fsize_limit(n), post=after_lift_export(exp)))
    C.append(Case("full_disk", "export new sidecar, limit fields size + 64 KB", exp, setup=cp("run64", "big.h5"),
                  expect=(0, 3), creates=SIDECAR, preexec=fsize_limit(fields(lambda s: s + 64 * K)),
                  post=posts(post_export_ok("big.h5", "big.xdmf"), after_lift_export(exp))))
    C.append(Case("full_disk", "export new sidecar, limit fields size + 1 MB (control)", exp,
                  setup=cp("run64", "big.h5"), creates=SIDECAR, preexec=fsize_limit(fields(lambda s: s + 1024 * K)),
                  post=post_export_ok("big.h5", "big.xdmf")))
    over = exp + ["--overwrite"]
    for label, n in [("0", 0), ("20 KB", 20 * K), ("0.6 x fields size", fields(lambda s: 0.6 * s)),
                     ("0.9 x fields size", fields(lambda s: 0.9 * s))]:
        C.append(Case("full_disk", f"export --overwrite a sidecar, limit {label}", over,
                      setup=seq(cp("run64", "big.h5"), exported("big.h5", ["--vortex-amplitude", "0.5"])),
                      expect=(3,), replaces=SIDECAR, preexec=fsize_limit(n)))
    return C


# ----------------------------------------------------------------------------------------
