#!/usr/bin/env python3
"""Checks that the top-level modules of core/src form no cycle.

Every `crate::…` path in a file (`use crate::a::B`, `use crate::{a::B, c}`, `crate::a::f()`,
comments excluded, tests included) is an edge from the file's top-level module (`core/src/a.rs`
or `core/src/a/…` is module `a`) to the module named. A root re-export (`crate::Client`, from
`pub use client::{…}` in lib.rs) counts as its module. Prints the graph with `-v`; exits 1 and
names every cycle (each strongly connected component of two or more modules, with one edge path
around it) when there is one.

Usage: scripts/check-module-cycles.py [-v] [core/src]
"""

import re
import sys
from pathlib import Path

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_comments(text):
    """Drops // comments (doc comments included), /* */ blocks and string contents."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        raw = re.match(r'b?r(#*)"', text[i : i + 260]) if c in "rb" and not re.match(r"\w", text[i - 1 : i] or " ") else None
        if raw:
            end = '"' + raw.group(1)
            j = text.find(end, i + raw.end())
            out.append('""')
            i = n if j < 0 else j + len(end)
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i : i + 4]):
            j = text.index("'", i + 2 if text[i + 1] != "\\" else i + 3)
            out.append(text[i : j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def group_heads(body):
    """The first segment of each path in a `{…}` use group (nested groups skipped)."""
    heads, depth, item = [], 0, ""
    for c in body + ",":
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if depth == 0 and c == ",":
            m = re.match(r"\s*(" + IDENT + ")", item)
            if m:
                heads.append(m.group(1))
            item = ""
        elif depth >= 0:
            item += c
    return heads


def referenced(text):
    """The first segment of every `crate::` path in `text`."""
    names = []
    for m in re.finditer(r"\bcrate::", text):
        rest = text[m.end() :]
        if rest.startswith("{"):
            depth, j = 0, 0
            for j, c in enumerate(rest):
                depth += c == "{"
                depth -= c == "}"
                if depth == 0:
                    break
            names.extend(group_heads(rest[1:j]))
        else:
            h = re.match(IDENT, rest)
            if h:
                names.append(h.group(0))
    return names


def root_reexports(lib_rs):
    """Names re-exported at the crate root → their module (`pub use client::{Client, …}`)."""
    out = {}
    text = strip_comments(lib_rs.read_text())
    for m in re.finditer(r"pub use (" + IDENT + r")::(\{[^;]*\}|" + IDENT + r")\s*;", text):
        module, items = m.group(1), m.group(2)
        for item in re.findall(r"(" + IDENT + r")(?:\s+as\s+(" + IDENT + r"))?", items.strip("{}")):
            out[item[1] or item[0]] = module
    return out


def module_graph(src):
    modules = {p.stem for p in src.glob("*.rs") if p.stem != "lib"} | {p.name for p in src.iterdir() if p.is_dir()}
    alias = root_reexports(src / "lib.rs")
    graph = {m: {} for m in modules}
    for path in sorted(src.rglob("*.rs")):
        rel = path.relative_to(src)
        if rel.parts == ("lib.rs",):
            continue
        owner = rel.parts[0].removesuffix(".rs")
        for name in referenced(strip_comments(path.read_text())):
            target = name if name in modules else alias.get(name)
            if target and target != owner:
                graph[owner].setdefault(target, str(rel))
    return graph


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def loop_in(graph, comp):
    """One cycle through the component's first module, as `a -> b (file) -> … -> a`."""
    start, members = comp[0], set(comp)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v]):
                if w == start:
                    hops = paths[v] + [start]
                    steps = [f"{b} (in {graph[a][b]})" for a, b in zip(hops, hops[1:])]
                    return " -> ".join([start] + steps)
                if w in members and w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    return " <-> ".join(comp)


def main(argv):
    verbose = "-v" in argv
    args = [a for a in argv if a != "-v"]
    src = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "core" / "src"
    graph = module_graph(src)
    if verbose:
        for m in sorted(graph):
            print(f"{m} -> {', '.join(sorted(graph[m])) or '(nothing)'}")
    found = cycles(graph)
    for comp in found:
        print(f"module cycle in {src}: {loop_in(graph, comp)}")
    if not found:
        print(f"no module cycle among the {len(graph)} top-level modules of {src}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
