#!/usr/bin/env python3
"""Checks assets/kernel-symbols.toml against Linux release trees.

For every [[fn]] entry (a kernel function and the file the model says defines
it), this looks for a definition of that function in that file of one source
tree per preset release, and rewrites the entry's `releases` (the releases
whose tree defines it there) and `evidence` (which trees were read).

    python3 tools/symbols/verify.py TREES [--write | --write-new]

--write rewrites every entry; --write-new only the entries whose evidence is
empty (new ones), so that entries checked against other snapshots of the same
releases keep their evidence.

TREES is a text file with one line per release: `RELEASE | GIT_DIR | VERSION`
(the release a preset starts with, e.g. 5.14; a git directory holding a
snapshot of that release's tree; its Makefile version, e.g. 5.14.21). The
trees are not part of the repository; any snapshot of the release works
(`git --git-dir=GIT_DIR show HEAD:path` must print the file). GIT_DIR may
end in `@COMMIT` to read that commit instead of HEAD, and a fourth column
names a folder the tree sits in inside that repository (`common/`).

A definition is a line at column 0 that names the function followed by `(`
and does not end with `;` (a prototype), or SYSCALL_DEFINEn(name, ...), or a
`#define name` macro (a flag such as MMF_HAS_PINNED is listed the same way).
"""
import re
import subprocess
import sys
import tomllib

def load_trees(path):
    trees = {}
    for line in open(path):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) >= 3 and re.fullmatch(r"\d+\.\d+", parts[0]):
            prefix = parts[3] if len(parts) > 3 else ""
            trees[parts[0]] = (parts[1], parts[2], prefix)
    return trees

_cache = {}

def show(tree, path):
    git_dir, _, prefix = tree
    commit = "HEAD"
    if "@" in git_dir:
        git_dir, commit = git_dir.rsplit("@", 1)
    key = (git_dir, commit, prefix, path)
    if key not in _cache:
        r = subprocess.run(["git", "--git-dir", git_dir, "show", f"{commit}:{prefix}{path}"],
                           capture_output=True, text=True, errors="replace")
        _cache[key] = r.stdout if r.returncode == 0 else None
    return _cache[key]

def defines(text, name):
    if text is None:
        return False
    n = re.escape(name)
    for line in text.splitlines():
        if re.match(rf"SYSCALL_DEFINE\d\({n},", line):
            return True
        if re.match(rf"#define\s+{n}\b", line):
            return True
        if line[:1].strip() and not line.startswith(("#", "/", " ", "\t", "*")):
            if re.search(rf"(^|[\s\*]){n}\s*\(", line) and not line.rstrip().endswith(";"):
                return True
    return False

def release_key(r):
    return tuple(int(x) for x in r.split("."))

def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    trees = load_trees(sys.argv[1])
    write = "--write" in sys.argv or "--write-new" in sys.argv
    only_new = "--write-new" in sys.argv
    table_path = "assets/kernel-symbols.toml"
    raw = open(table_path).read()
    table = tomllib.loads(raw)
    order = sorted(trees, key=release_key)
    results = {}
    for e in table.get("fn", []):
        have = [r for r in order if defines(show(trees[r], e["path"]), e["name"])]
        results[(e["name"], e["path"])] = have
        missing = [r for r in order if r not in have]
        print(f'{e["name"]:40} {e["path"]:38} {" ".join(have) or "-"}'
              + (f'   (absent: {" ".join(missing)})' if missing and have else ""))
    if not write:
        return
    # Rewrite the releases and evidence lines of every entry, keeping the rest.
    out, cur = [], None
    fresh = {(e["name"], e["path"]) for e in table.get("fn", []) if not e.get("evidence")}
    for line in raw.splitlines():
        m = re.match(r'name = "(.*)"', line)
        if m:
            cur = [m.group(1), None]
        if cur and cur[1] and only_new and (cur[0], cur[1]) not in fresh:
            out.append(line)
            continue
        m = re.match(r'path = "(.*)"', line)
        if m and cur:
            cur[1] = m.group(1)
        if cur and cur[1] and line.startswith("releases = "):
            have = results[(cur[0], cur[1])]
            line = "releases = [" + ", ".join(f'"{r}"' for r in have) + "]"
        if cur and cur[1] and line.startswith("evidence = "):
            have = results[(cur[0], cur[1])]
            versions = ", ".join(trees[r][1] for r in have) or "none"
            line = f'evidence = "defined in {cur[1]} of the release trees {versions}"'
        out.append(line)
    open(table_path, "w").write("\n".join(out) + "\n")

if __name__ == "__main__":
    main()
