#!/usr/bin/python3
"""The include graph between xyzmf's layers, and whether every arrow points down.

    /usr/bin/python3 tools/layers.py [--root DIR] [--all]

Each C++/CUDA file belongs to a layer by its folder: src/LAYER/ (sources and the layer's
headers), kernels/, python/module.cpp to python, and include/xyzmf/ (the shared types and
interfaces) to the layer "include". An arrow A -> B counts the files of A that include a
header of B. The build enforces the same order (each layer's library sees only its own
folder and those of the layers below; CMakeLists.txt, "The layers"). Layers may include only layers below them in ORDER;
the Python package's modules (python/xyzmf/*.py) may not import each other in a circle.

Prints the arrows (--all: every arrow; default: the ones that point up) and the Python
circles; exit status 1 if there is one, or a file outside every layer. CTest runs
it as docs.Layers (docs/ARCHITECTURE.md, "Layers").
"""
import argparse
import collections
import os
import re
import sys

# Lowest first: a layer may include itself and those before it.
ORDER = ["include", "kernels", "core", "backends", "io", "analysis", "quantum", "dtwa", "phase", "mpi", "cli", "python"]

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
IMPORT = re.compile(r'^\s*from\s+\.(\w+)\s+import|^\s*from\s+xyzmf\.(\w+)\s+import|^\s*import\s+xyzmf\.(\w+)', re.M)


def layer_of(rel):
    parts = rel.split("/")
    if parts[0] == "src":
        return parts[1]
    if parts[0] == "kernels":
        return "kernels"
    if parts[0] == "python":
        return "python"
    if parts[0] == "include":
        return "include"
    return None


def sources(root):
    for top in ("include", "kernels", "src", "python"):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if f.endswith((".cpp", ".hpp", ".cu", ".cuh")):
                    yield os.path.relpath(os.path.join(d, f), root)


def resolve(root, rel, inc):
    """The repository path an #include "inc" of file rel names, or None (system, generated)."""
    for base in [os.path.dirname(rel), "include", "kernels"] + [os.path.join("src", l) for l in ORDER]:
        p = os.path.normpath(os.path.join(base, inc))
        if os.path.isfile(os.path.join(root, p)):
            return p
    return None


def python_circles(root):
    pkg = os.path.join(root, "python", "xyzmf")
    graph = {}
    for f in sorted(os.listdir(pkg)) if os.path.isdir(pkg) else []:
        if f.endswith(".py"):
            text = open(os.path.join(pkg, f), encoding="utf-8").read()
            graph[f[:-3]] = {next(g for g in m if g) for m in IMPORT.findall(text)} - {f[:-3]}
    circles, seen = [], set()

    def walk(node, path):
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                c = path[path.index(nxt):] + [nxt]
                key = frozenset(c)
                if key not in seen:
                    seen.add(key)
                    circles.append(c)
            elif nxt in graph:
                walk(nxt, path + [nxt])

    for n in graph:
        walk(n, [n])
    return circles


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--all", action="store_true", help="print every arrow, not only those that point up")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    rank = {name: i for i, name in enumerate(ORDER)}
    arrows, example, unplaced = collections.Counter(), {}, []
    for rel in sources(root):
        src = layer_of(rel)
        if src is None:
            unplaced.append(rel)
            continue
        text = open(os.path.join(root, rel), encoding="utf-8", errors="replace").read()
        for inc in INCLUDE.findall(text):
            target = resolve(root, rel, inc)
            dst = layer_of(target) if target else None
            if target and dst is None:
                unplaced.append(target)
            if dst is None or dst == src:
                continue
            arrows[(src, dst)] += 1
            example.setdefault((src, dst), f"{rel} -> {target}")
    up = {k: n for k, n in arrows.items() if rank.get(k[1], -1) > rank.get(k[0], -1)}
    print(f"layers, lowest first: {' < '.join(ORDER)}")
    for (s, d), n in sorted(arrows.items(), key=lambda kv: (rank[kv[0][0]], rank[kv[0][1]])):
        if a.all or (s, d) in up:
            print(f"  {s:>9} -> {d:<9} {n:3d} file(s){'  UP' if (s, d) in up else ''}   e.g. {example[(s, d)]}")
    circles = python_circles(root)
    for c in circles:
        print("  python package circle: " + " -> ".join(c))
    for u in sorted(set(unplaced)):
        print(f"  no layer for {u}: move it into a layer's folder")
    print(f"{sum(arrows.values())} includes across {len(arrows)} arrows; {len(up)} point up; "
          f"{len(circles)} Python circle(s)")
    return 1 if up or circles or unplaced else 0


if __name__ == "__main__":
    sys.exit(main())
