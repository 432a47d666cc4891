#!/usr/bin/python3
"""README.md's console examples, run as a reader would run them, with every number they print
compared with README's, to the digits README shows, so that the document cannot drift.

    /usr/bin/python3 tests/readme_examples.py BUILD_DIR [--list] [--all] [--keep DIR]

Every ```console block of README.md is a sequence of commands ("$ ..." lines, a quoted
argument may span lines) each followed by what it prints. The commands run in order, in one
scratch directory where build/ and tools/ name this build and this checkout, so they run
verbatim. For each command that README shows output for, the output must have as many lines;
line by line the words must be equal and every number equal as printed. Not compared (README
states measured timings elsewhere as ranges with the machine): wall times ("in 0.0163 s",
"(... s)"), throughputs ("site-steps/s") and the thread count ("(OpenMP, 2 threads)").
Commands that take over a minute on the 2-core development machine are listed in SLOW with
their measured time and run only with --all.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# command prefix -> why it is not run by default (measured on the 2-core development machine)
SLOW = {
}

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
# what varies from machine to machine and run to run
VOLATILE = [
    re.compile(r"in [-+0-9.e]+ s\b"),                       # "in 0.0163 s", "in 43.7 s"
    re.compile(r"\([-+0-9.e]+ site-steps/s\)"),              # "(1.65e+07 site-steps/s)"
    re.compile(r"\([-+0-9.e]+ trajectory site-steps/s\)"),   # dtwa: "(2.27e+06 trajectory site-steps/s)"
    re.compile(r"\(OpenMP, \d+ threads?\)"),                 # the machine's cores
    re.compile(r"; [-+0-9.e]+ s\)"),                         # exact: "(|L rho| / |rho| = ...; 246.2 s)"
    re.compile(r"\|L rho\| / \|rho\| = [-+0-9.e]+"),         # exact: a residual at rounding level
]


def blocks(text):
    """[(first line number, [(command, [output lines])])] of every console block."""
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        if lines[i].strip() != "```console":
            i += 1
            continue
        start, i, cmds = i + 1, i + 1, []
        while i < len(lines) and lines[i].strip() != "```":
            line = lines[i]
            if line.startswith("$ "):
                cmd = line[2:]
                while cmd.count('"') % 2 == 1 and i + 1 < len(lines):   # a quoted argument goes on
                    i += 1
                    cmd += "\n" + lines[i]
                cmds.append([cmd, []])
            elif cmds:
                cmds[-1][1].append(line)
            i += 1
        out.append((start, cmds))
        i += 1
    return out


def masked(line):
    for pattern in VOLATILE:
        line = pattern.sub("<varies>", line)
    return line


class Shown(str):
    """A number as README shows it."""


def close(shown, value):
    """Whether value rounds to the number README shows, to the digits it shows."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return False
    mant, _, exp = shown.lower().partition("e")
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    tol = 0.5 * 10.0 ** (int(exp or 0) - decimals)
    return abs(v - float(shown)) <= tol * (1 + 1e-9) + 1e-300


def compare_json(w, g, where=""):
    if isinstance(w, Shown):
        return [] if close(w, g) else [f"{where}: README {w}, printed {g!r}"]
    if isinstance(w, dict):
        if not isinstance(g, dict):
            return [f"{where}: README an object, printed {g!r}"]
        return [d for k in w for d in compare_json(w[k], g.get(k, "(missing)"), f"{where}.{k}".lstrip("."))]
    if isinstance(w, list):
        if not isinstance(g, list) or len(g) != len(w):
            return [f"{where}: README {len(w)} values, printed {g!r}"]
        return [d for i, (a, b) in enumerate(zip(w, g)) for d in compare_json(a, b, f"{where}[{i}]")]
    return [] if w == g else [f"{where}: README {w!r}, printed {g!r}"]


def compare_line(want, got):
    """Differences between a README line and the printed one: the words, then every number to the
    digits README shows (a JSON line: every key README shows)."""
    if want.lstrip().startswith("{") and got.lstrip().startswith("{"):
        try:
            w = json.loads(want, parse_float=Shown, parse_int=Shown)
            g = json.loads(got)
        except json.JSONDecodeError:
            pass
        else:
            return compare_json(w, g)
    w, g = masked(want), masked(got)
    wn, gn = NUMBER.findall(w), NUMBER.findall(g)
    if NUMBER.sub("#", w).split() != NUMBER.sub("#", g).split():
        return [f"words differ: README {want.strip()!r}, printed {got.strip()!r}"]
    return [f"README {a}, printed {b}" for a, b in zip(wn, gn) if not close(a, b)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", help="the build directory (holds xyzmf)")
    ap.add_argument("--all", action="store_true", help="also the commands of SLOW")
    ap.add_argument("--list", action="store_true", help="list the commands and exit")
    ap.add_argument("--keep", metavar="DIR", help="run in DIR (new) and keep the files the commands write, e.g. to "
                    "compare two builds' files")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    readme = open(os.path.join(REPO, "README.md")).read()
    bs = blocks(readme)
    if a.list:
        for start, cmds in bs:
            for cmd, out in cmds:
                print(f"README.md:{start}: {cmd.splitlines()[0]} ({len(out)} lines)")
        return 0
    if a.keep:
        os.makedirs(a.keep)
        work = os.path.abspath(a.keep)
    else:
        work = tempfile.mkdtemp(prefix="xyzmf-readme-")
    failures, ran, compared, skipped = [], 0, 0, []
    try:
        os.symlink(build, os.path.join(work, "build"))
        os.symlink(os.path.join(REPO, "tools"), os.path.join(work, "tools"))
        env = {k: v for k, v in os.environ.items() if k not in ("XYZMF_PROGRESS_EVERY",)}
        # mpirun examples need an MPI build (-DXYZMF_MPI=ON); Open MPI refuses root (CI) without these.
        mpi_build = "XYZMF_MPI:BOOL=ON" in open(os.path.join(build, "CMakeCache.txt")).read()
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        mpi_files, mpi_skipped = [], set()
        for start, cmds in bs:
            for cmd, want in cmds:
                slow = next((why for prefix, why in SLOW.items() if cmd.startswith(prefix)), None)
                if not mpi_build and (cmd.startswith("mpirun") or any(f in cmd.split() for f in mpi_files)):
                    slow = "this build has no MPI layer (-DXYZMF_MPI=ON)"
                    mpi_files.extend(re.findall(r"-o (\S+)", cmd))  # commands reading these files are skipped too
                    mpi_skipped.add(cmd)
                if slow and (not a.all or cmd in mpi_skipped):
                    skipped.append(f"README.md:{start}: {cmd.splitlines()[0]} ({slow})")
                    continue
                t0 = time.monotonic()
                r = subprocess.run(["bash", "-c", cmd.split("     #")[0]], cwd=work, env=env, capture_output=True,
                                   text=True, timeout=900)
                ran += 1
                where = f"README.md:{start}: $ {cmd.splitlines()[0][:100]}"
                if r.returncode != 0:
                    failures.append(f"{where}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
                    continue
                want = [w for w in want if w.strip()]
                if not want:
                    continue
                got = [g for g in r.stdout.split("\n") if g.strip()]
                if len(got) != len(want):
                    failures.append(f"{where}: printed {len(got)} lines, README shows {len(want)}")
                    continue
                for w, g in zip(want, got):
                    compared += len(NUMBER.findall(masked(w) if not w.lstrip().startswith("{") else w))
                    for d in compare_line(w, g):
                        failures.append(f"{where}: {d}")
                print(f"readme_examples: {where.split(': $ ')[1][:70]}: {time.monotonic() - t0:.1f} s", flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    # A README whose examples the parser no longer finds would pass with nothing compared
    # (16 commands and 307 numbers on 2026-12-07): a floor under both.
    if ran < 12 or compared < 200:
        failures.append(f"only {ran} commands run and {compared} numbers compared: README's examples were not found")
    for s in skipped:
        print(f"readme_examples: not run (over a minute): {s}")
    for f in failures:
        print(f"readme_examples: FAIL {f}")
    print(f"readme_examples: {ran} commands run, {compared} numbers compared, {len(failures)} differences, "
          f"{len(skipped)} not run")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
