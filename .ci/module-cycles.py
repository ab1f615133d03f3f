#!/usr/bin/env python3
"""Finds import cycles between the modules of each crate.

A module is one source file (`src/a/b.rs` or `src/a/b/mod.rs` is `a::b`).
Module A depends on module B when A names a path into B through `crate::`,
`super::` or `self::`, in a `use` (braces expanded) or inline in code.
A path is attributed to the longest module it names (`crate::a::b::f` is
`a::b` when that file exists, else `a`). A file's `#[cfg(test)]` tail is
skipped: its `super::*` is the file itself, and tests may reach anywhere.
Declaring a child (`mod x;`) and naming it by its bare name are not
imports: a parent that re-exports its children is a table of contents.

Prints every cycle found (one strongly connected component per line, with
one cycle through it) and exits 1 if there is any; exits 0 otherwise.

Usage: python3 .ci/module-cycles.py [CRATES_DIR]   (default: the repository's crates/)
"""

import os
import re
import sys

PATH_RE = re.compile(r"\b(crate|super|self)((?:\s*::\s*[A-Za-z_][A-Za-z0-9_]*)+)")
USE_RE = re.compile(r"\buse\s+((?:crate|super|self)\s*::[^;]*);", re.S)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    # String literals may hold text that looks like a path ("crate::x").
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def without_test_tail(text):
    index = text.find("#[cfg(test)]")
    return text if index < 0 else text[:index]


def module_of(src, path):
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] == "mod" or (len(rel) == 1 and rel[0] in ("lib", "main")):
        rel = rel[:-1]
    return tuple(rel)


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> [[a, b], [a, c, d], [a, c, e]] (segments)."""
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, text):
        depth, start, parts = 0, 0, []
        for i, ch in enumerate(text):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(text[start:i])
                start = i + 1
        parts.append(text[start:])
        for part in filter(None, parts):
            if "{" in part:
                head, _, rest = part.partition("{")
                inner = rest[: rest.rfind("}")]
                segs = [s for s in head.split("::") if s]
                walk(prefix + segs, inner)
            else:
                segs = [s for s in part.split(" as ")[0].split("::") if s]
                out.append(prefix + segs)

    walk([], tree)
    return out


def resolve(module, segments, modules):
    """The module a path (`crate`/`super`/`self` first) lands in."""
    head, rest = segments[0], segments[1:]
    if head == "crate":
        base = ()
    elif head == "self":
        base = module
    else:
        base = module
        while rest and head == "super":
            base = base[:-1]
            head, rest = rest[0], rest[1:]
        if head == "super":
            base = base[:-1]
        else:
            rest = [head] + rest
    target = base
    for seg in rest:
        if seg in ("*", "self"):
            break
        if target + (seg,) in modules:
            target = target + (seg,)
        else:
            break
    return target


def crate_graph(src):
    files = {}
    for root, _, names in os.walk(src):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(root, name)
                files[module_of(src, path)] = path
    modules = set(files)
    graph = {m: set() for m in modules}
    for module, path in files.items():
        with open(path, encoding="utf-8") as f:
            text = without_test_tail(strip_comments(f.read()))
        paths = []
        for m in USE_RE.finditer(text):
            paths.extend(expand_use(m.group(1)))
        code = USE_RE.sub("", text)
        for m in PATH_RE.finditer(code):
            segs = [m.group(1)] + [s.strip() for s in m.group(2).split("::") if s.strip()]
            paths.append(segs)
        for segs in paths:
            target = resolve(module, segs, modules)
            if target != module and target in modules:
                graph[module].add(target)
    return graph


def components(graph):
    """Tarjan's strongly connected components with more than one module."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def one_cycle(graph, comp):
    """A shortest cycle through the component's first module."""
    members = set(comp)
    start = comp[0]
    frontier, seen = [[start]], {start}
    while frontier:
        nxt = []
        for path in frontier:
            for w in sorted(graph[path[-1]]):
                if w == start:
                    return path + [start]
                if w in members and w not in seen:
                    seen.add(w)
                    nxt.append(path + [w])
        frontier = nxt
    return comp


def name(module):
    return "::".join(module) or "crate"


def main():
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates")
    crates_dir = sys.argv[1] if len(sys.argv) > 1 else default
    found = 0
    for crate in sorted(os.listdir(crates_dir)):
        src = os.path.join(crates_dir, crate, "src")
        if not os.path.isdir(src):
            continue
        graph = crate_graph(src)
        for comp in components(graph):
            found += 1
            cycle = " -> ".join(name(m) for m in one_cycle(graph, comp))
            print(f"{crate}: cycle among {{{', '.join(name(m) for m in comp)}}}: {cycle}")
    if found:
        print(f"{found} import cycle(s) between modules", file=sys.stderr)
        return 1
    print("no import cycle between the modules of any crate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
