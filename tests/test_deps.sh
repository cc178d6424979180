#!/usr/bin/env bash
# tests/test_deps.sh — everything the build and the scripts take from the system is in
# tools/deps.sh's table, for the mode that runs it (tests/run.sh runs this first).
# It reads the sources, not this machine:
#   - every #include of core/ tools/ tests/ bench/ that is not a file of the repository
#     (stb_truetype.h, <stdio.h>, <emscripten/heap.h>, ...) has a header row in every mode that
#     compiles the file (in at least one, when the #include sits under an #if);
#   - every command the shell scripts run (emcc, chromium, npm, cmake, ...), every program the
#     node scripts spawn, every module the python scripts import (numpy, torch, ...) has a row
#     in the mode of the script; every package the node scripts import is in package.json;
#   - a script or source this test does not know the mode of is an error (add it to MODE_OF);
# and, where dpkg knows, that the table is right: the packages exist in apt's lists, probed files
# belong to their package, and commands listed as always there belong to Essential packages.
#   tests/test_deps.sh            (from anywhere; python3 reads the sources)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
tools/deps.sh --table > /dev/null || { echo "test_deps: tools/deps.sh --table failed"; exit 1; }
exec "$PY" - "$@" <<'PYEOF'
import glob, json, os, re, subprocess, sys, sysconfig

fails = []
checks = 0
def check(ok, msg):
    global checks
    checks += 1
    if not ok:
        fails.append(msg)
        print("FAIL: " + msg)

# ---------------------------------------------------------------- the table
INCLUDES = {"native": {"native"}, "web": {"web"}, "test": {"test", "native"},
            "web-test": {"web-test", "native", "web"}, "bench": {"bench", "web-test", "native", "web"},
            "golden": {"golden", "native"}}
rows = []
for line in subprocess.run(["tools/deps.sh", "--table"], capture_output=True, text=True, check=True).stdout.splitlines():
    f = line.split()
    if len(f) < 5:
        fails.append("tools/deps.sh: short table row: " + line); continue
    kind, pkg, modes, probe, names = f[0], f[1], f[2], f[3], f[4:]
    check(kind in ("cmd", "header", "py", "file"), f"tools/deps.sh: unknown kind '{kind}' in: {line}")
    ms = set() if modes == "-" else set(INCLUDES) if modes == "*" else set(modes.split(","))
    check(ms <= set(INCLUDES), f"tools/deps.sh: unknown mode in: {line}")
    rows.append((kind, pkg, ms, probe, names))

def provided(kind, name, mode):
    """the rows of kind/name usable in `mode` (a mode also has the rows of those it includes)"""
    have = INCLUDES[mode]
    return [r for r in rows if r[0] == kind and name in r[4] and (not r[2] or r[2] & have)]

def need(kind, name, modes, where, conditional=False):
    """name must be provided in every mode of `modes` (in one of them when conditional)"""
    ok = [m for m in modes if provided(kind, name, m)]
    if conditional:
        check(bool(ok), f"{where}: {kind} '{name}' is in no row of tools/deps.sh for mode {'/'.join(sorted(modes))}")
    else:
        for m in sorted(set(modes) - set(ok)):
            check(False, f"{where}: {kind} '{name}' is not in tools/deps.sh for mode {m}")

# ---------------------------------------------------------------- which mode runs what
# (path regex, modes), first match wins; a file that matches none is an error.
MODE_OF = [
    (r"core/api/", {"web"}),
    (r"core/", {"native", "web"}),
    (r"tools/deps\.sh$", set(INCLUDES)),
    (r"tools/(\w+\.[ch]|core_sources\.sh)$", {"native"}),          # the CLI: every tools/*.c
    (r"tools/(build_site\.sh|build_single\.sh|build_single\.mjs)$", {"web"}),
    (r"tools/build_relaxed\.sh$", {"web"}),                       # the relaxed-SIMD page core (web/wasm.cmake)
    (r"tools/(ship_model\.sh|subset_font\.sh|gen_\w+\.py|make_vocab\.js)$", {"golden"}),
    (r"serve\.sh$", {"web"}),
    # the kernel and forward tests also run compiled to WebAssembly (tests/run_wasm_units.sh)
    (r"tests/(test_kernels_simd|test_kernels|test_bert)\.c$", {"test", "web-test"}),
    # tests/data/'s generators also make the checkpoints of tests/e2e/convert_stream.test.mjs
    (r"tests/data/", {"test", "web-test"}),
    (r"tests/synthetic\.h$", {"test", "bench"}),                  # also bench/bench_render.c's input
    (r"tests/(test_\w+\.c|check\.h|golden\.h|hf_expected\.h|run\.sh|test_deps\.sh|fuzz/.*)$", {"test"}),
    (r"tests/(run_web\.sh|run_wasm_units\.sh|e2e/.*)$", {"web-test"}),
    # tests/test_fidelity.c makes its peaked checkpoint and torch golden at test time
    (r"tests/model/(gen_peaked|gen_models|reference)\.py$", {"test", "golden"}),
    (r"tests/(model|golden)/", {"golden"}),
    (r"bench/bench_(page\.html|worker\.js)$", set()),        # runs in the browser page
    (r"bench/", {"bench"}),
]
def modes_of(path):
    for rx, ms in MODE_OF:
        if re.match(rx, path):
            return ms
    return None

files = ["serve.sh"] + sorted(os.path.join(d, f) for top in ("core", "tools", "tests", "bench")
                              for d, _, fs in os.walk(top) for f in fs)
def of(exts):
    return [f for f in files if f.endswith(exts)]
for f in of((".c", ".h", ".sh", ".py", ".mjs", ".js")):
    check(modes_of(f) is not None, f"{f}: tests/test_deps.sh does not know which mode builds or runs it (MODE_OF)")

# ---------------------------------------------------------------- C: #include
INC_DIRS = ["core", "tests"]
inc_rx = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
n_inc = 0
for f in of((".c", ".h")):
    ms = modes_of(f)
    if not ms:
        continue
    lines = open(f, encoding="utf-8", errors="replace").read().splitlines()
    stack = []   # one entry per open #if: True when it is an include guard
    for i, line in enumerate(lines):
        d = re.match(r"^\s*#\s*(\w+)\s*(.*)", line)
        if not d:
            continue
        word, rest = d.group(1), d.group(2)
        if word in ("if", "ifdef", "ifndef"):
            nxt = next((l for l in lines[i + 1:] if l.strip()), "")
            guard = word == "ifndef" and re.match(r"^\s*#\s*define\s+" + re.escape(rest.split()[0] if rest.split() else "") + r"\b", nxt)
            stack.append(bool(guard))
        elif word == "endif" and stack:
            stack.pop()
        elif word == "include":
            m = inc_rx.match(line)
            if not m:
                continue
            name = m.group(2)
            local = [os.path.join(os.path.dirname(f), name)] + [os.path.join(d, name) for d in INC_DIRS]
            if any(os.path.isfile(p) for p in local):
                continue
            n_inc += 1
            need("header", name, ms, f"{f}:{i + 1}", conditional=not all(stack))

# ---------------------------------------------------------------- shell: the commands run
KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "in", "case", "esac",
            "function", "select", "time", "{", "}", "!", "[[", "]]"}
BUILTINS = {"cd", "echo", "printf", "exit", "return", "set", "shift", "export", "local", "declare", "readonly",
            "source", ".", "eval", "exec", "trap", "wait", "read", "mapfile", "readarray", "test", "[", "true",
            "false", "command", "type", "hash", "unset", "break", "continue", "let", "compgen", "pushd", "popd",
            "umask", "getopts", ":", "builtin", "kill", "jobs", "disown", "alias", "shopt", "pwd"}
PREFIXES = {"then", "do", "else", "elif", "if", "while", "until", "!", "time", "exec", "nice", "sudo", "env",
            "command", "{", "xargs"}

def shell_commands(src):
    """(line, word) of each simple command's name in a bash script: quotes, heredocs, case
    patterns, arrays, redirections and assignments are skipped; $( ) and ` ` are read inside."""
    out, funcs = [], set()
    heredocs = []
    i, n, line = 0, len(src), 1
    def scan(i, stop, line):
        start, in_case, after_in = True, 0, False
        prev = None
        while i < n:
            c = src[i]
            if stop and c == stop:
                return i + 1, line
            if c == "\n":
                line += 1
                i += 1
                for delim in heredocs:          # skip heredoc bodies
                    while i < n:
                        e = src.find("\n", i)
                        e = n if e < 0 else e
                        body = src[i:e]
                        i = e + 1
                        line += 1
                        if body.strip() == delim:
                            break
                heredocs.clear()
                start = True
                continue
            if c in " \t":
                i += 1; continue
            if c == "\\" and i + 1 < n:
                if src[i + 1] == "\n":
                    line += 1
                i += 2; continue
            if c == "#" :
                while i < n and src[i] != "\n":
                    i += 1
                continue
            if c in ";&|":
                j = i
                while j < n and src[j] in ";&|":
                    j += 1
                start = True
                i = j
                continue
            if c == "(":
                if src.startswith("((", i):      # arithmetic
                    e = src.find("))", i); i = n if e < 0 else e + 2; start = False; continue
                i, line = scan(i + 1, ")", line); start = False; continue
            if c == ")":                           # a case pattern's end
                i += 1; start = True; continue
            if c in "<>":
                if src.startswith("<<", i) and not src.startswith("<<<", i):
                    m = re.match(r"<<-?\s*(['\"]?)([A-Za-z_]\w*)\1", src[i:])
                    if m:
                        heredocs.append(m.group(2)); i += m.end(); continue
                j = i
                while j < n and src[j] in "<>&0123456789-":
                    j += 1
                while j < n and src[j] in " \t":
                    j += 1
                i, line, _ = word(j, line)        # the redirection's target
                continue
            w0 = i
            i, line, w = word(i, line)
            if i == w0:
                i += 1; continue
            if start:
                if in_case and after_in and src[i:i + 1] == ")":
                    pass                          # case pattern
                elif re.match(r"^[A-Za-z_]\w*(\[[^]]*\])?\+?=", w):
                    if src[i:i + 1] == "(":       # array literal
                        e = src.find(")", i); i = n if e < 0 else e + 1
                    continue                      # assignment: the command comes next
                elif re.match(r"^[A-Za-z_][\w.+-]*$", w) and re.match(r"\s*\(\s*\)", src[i:]):
                    funcs.add(w); i += re.match(r"\s*\(\s*\)", src[i:]).end(); continue
                elif w == "case":
                    in_case += 1; after_in = False; start = False; continue
                elif w == "esac":
                    in_case = max(0, in_case - 1); continue
                elif w == "command" and re.match(r"[ \t]+-v[ \t]+['\"]?([\w.+-]+)", src[i:]):
                    # `command -v NAME` looks a command up: the script depends on it as on one it runs
                    m = re.match(r"[ \t]+-v[ \t]+['\"]?([\w.+-]+)['\"]?", src[i:])
                    out.append((line, m.group(1))); i += m.end(); start = False; continue
                elif w in PREFIXES:
                    continue
                else:
                    out.append((line, w))
                    start = False
                    continue
            if in_case and w == "in" and not after_in:
                after_in = True; start = True
            if w in ("then", "do", "else", "elif"):
                start = True
        return i, line

    def word(i, line):
        """read one shell word from i; returns (end, line, the word's literal text, quotes removed)"""
        buf = []
        while i < n:
            c = src[i]
            if c in " \t\n;&|<>()":
                break
            if c == "\\" and i + 1 < n:
                buf.append(src[i + 1]); i += 2; continue
            if c == "'":
                e = src.find("'", i + 1); e = n if e < 0 else e
                buf.append(src[i + 1:e]); line += src.count("\n", i, e); i = e + 1; continue
            if c == '"':
                i += 1
                while i < n and src[i] != '"':
                    if src[i] == "\\":
                        i += 2; continue
                    if src.startswith("$((", i):
                        e = src.find("))", i); i = n if e < 0 else e + 2; continue
                    if src.startswith("$(", i):
                        i, line = scan(i + 2, ")", line); buf.append("$"); continue
                    if src[i] == "`":
                        i, line = scan(i + 1, "`", line); buf.append("$"); continue
                    if src[i] == "\n":
                        line += 1
                    buf.append(src[i]); i += 1
                i += 1
                continue
            if src.startswith("$((", i):
                e = src.find("))", i); i = n if e < 0 else e + 2; buf.append("$"); continue
            if src.startswith("$(", i):
                i, line = scan(i + 2, ")", line); buf.append("$"); continue
            if c == "`":
                i, line = scan(i + 1, "`", line); buf.append("$"); continue
            if src.startswith("${", i):
                depth, j = 0, i
                while j < n:
                    if src.startswith("$(", j) and not src.startswith("$((", j):
                        j, line = scan(j + 2, ")", line); continue
                    if src[j] == "{": depth += 1
                    elif src[j] == "}":
                        depth -= 1
                        if depth == 0: break
                    j += 1
                buf.append("$"); i = j + 1; continue
            buf.append(c); i += 1
        return i, line, "".join(buf)

    scan(0, None, 1)
    return [(l, w) for l, w in out if w not in funcs]

n_cmd = 0
for f in of((".sh",)):
    ms = modes_of(f)
    if not ms or not os.path.isfile(f):
        continue
    for line, w in shell_commands(open(f, encoding="utf-8").read()):
        if "$" in w or "/" in w and not w.startswith("/usr/bin/") or w in KEYWORDS or w in BUILTINS:
            continue        # variables, the repository's own scripts, the shell's own words
        if not re.match(r"^[\w./+-]+$", w) or w.startswith("-"):
            continue
        name = os.path.basename(w)
        n_cmd += 1
        # tools/deps.sh runs in every mode and calls python3 and npm only for the modes that have them
        need("cmd", name, ms, f"{f}:{line}", conditional=f == "tools/deps.sh")

# ---------------------------------------------------------------- node: spawned programs, imported packages
pkg_json = json.load(open("package.json"))
dev = set(pkg_json.get("devDependencies", {})) | set(pkg_json.get("dependencies", {}))
# node's own modules (from node when it is installed: the native-only tests run without it)
NODE_CORE = {"assert", "async_hooks", "buffer", "child_process", "cluster", "console", "crypto", "dgram", "dns",
             "events", "fs", "http", "http2", "https", "module", "net", "os", "path", "perf_hooks", "process",
             "querystring", "readline", "stream", "string_decoder", "timers", "tls", "tty", "url", "util", "v8",
             "vm", "worker_threads", "zlib"}
node_builtins = NODE_CORE | (set(subprocess.run(["node", "-p", "require('module').builtinModules.join(' ')"], capture_output=True,
                                   text=True).stdout.split()) if subprocess.run(["sh", "-c", "command -v node"], capture_output=True).returncode == 0 else set())
for f in of((".mjs", ".js")):
    ms = modes_of(f)
    if not ms:
        continue
    src = open(f, encoding="utf-8").read()
    for m in re.finditer(r"\b(?:spawn|spawnSync|execFile|execFileSync|exec|execSync)\(\s*['\"]([\w./+-]+)['\"]", src):
        need("cmd", os.path.basename(m.group(1).split()[0]), ms, f"{f}:{src.count(chr(10), 0, m.start()) + 1}")
    for m in re.finditer(r"['\"]/usr/bin/([\w.+-]+)['\"]", src):
        need("cmd", m.group(1), ms, f"{f}:{src.count(chr(10), 0, m.start()) + 1}")
    for m in re.finditer(r"(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\(\s*|^\s*import\s+)['\"]([^'\"]+)['\"]|node_modules/((?:@[\w.-]+/)?[\w.-]+)", src, re.M):
        spec = m.group(1) or m.group(2)
        if spec.startswith((".", "/", "node:")) or re.match(r"https?:", spec):
            continue
        top = "/".join(spec.split("/")[:2]) if spec.startswith("@") else spec.split("/")[0]
        if top in node_builtins:
            continue
        check(top in dev, f"{f}: imports '{top}', which package.json's devDependencies lack")

# ---------------------------------------------------------------- python: imported modules
stdlib = set(getattr(sys, "stdlib_module_names", ()))
repo_modules = {os.path.splitext(os.path.basename(p))[0] for p in glob.glob("**/*.py", recursive=True) if "node_modules" not in p}
for f in of((".py",)):
    ms = modes_of(f)
    if not ms:
        continue
    src = open(f, encoding="utf-8").read()
    for m in re.finditer(r"^\s*(?:import\s+([\w.]+(?:\s*,\s*[\w.]+)*)|from\s+([\w.]+)\s+import)", src, re.M):
        for mod in (m.group(1) or m.group(2)).split(","):
            top = mod.strip().split(".")[0]
            if not top or top in stdlib or top in repo_modules or top == "__future__":
                continue
            need("py", top, ms, f"{f}:{src.count(chr(10), 0, m.start()) + 1}")

# ---------------------------------------------------------------- the table against Debian's own data
have_dpkg = subprocess.run(["sh", "-c", "command -v dpkg-query && command -v apt-cache"], capture_output=True).returncode == 0
verified = 0
if have_dpkg:
    pkgs = sorted({r[1] for r in rows if r[1] != "-"})
    known = subprocess.run(["apt-cache", "show", "--no-all-versions"] + pkgs, capture_output=True, text=True)
    if "Package:" in known.stdout:       # apt's lists are there
        names = set(re.findall(r"^Package: (\S+)", known.stdout, re.M))
        for p in pkgs:
            check(p in names, f"tools/deps.sh: apt knows no package '{p}'")
    todo = []   # (row, name, path) whose owner dpkg is asked for, all at once (dpkg -S is slow)
    for kind, pkg, ms, probe, names in rows:
        for name in names:
            path = None
            if kind == "header" and probe.endswith("/"):
                path = probe + name
            elif kind == "file":
                g = glob.glob(probe); path = g[0] if g else None
            elif kind == "cmd" and pkg == "-":
                w = subprocess.run(["sh", "-c", f"command -v {name}"], capture_output=True, text=True).stdout.strip()
                path = w if w.startswith("/") else None
            if path and os.path.exists(path):
                todo.append((pkg, name, path))
    paths = sorted({p for _, _, p in todo} | {os.path.realpath(p) for _, _, p in todo})
    owners = {}
    r = subprocess.run(["dpkg-query", "-S"] + paths, capture_output=True, text=True)
    for l in r.stdout.splitlines():
        if l.startswith("diversion") or ": " not in l:
            continue
        ps, path = l.split(": ", 1)
        owners.setdefault(path, set()).update(p.strip().split(":")[0] for p in ps.split(","))
    allp = sorted(set().union(*owners.values())) if owners else []
    ess = set()
    if allp:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Essential} ${Priority}\n"] + allp, capture_output=True, text=True)
        # Essential or Priority required; and apt itself, which tools/deps.sh installs with
        # (a fresh debootstrap root may record no priority for it)
        ess = {l.split()[0] for l in r.stdout.splitlines() if " yes" in l or "required" in l} | {"apt"}
    for pkg, name, path in todo:
        own = owners.get(path, set()) | owners.get(os.path.realpath(path), set())
        if not own:
            continue
        verified += 1
        if pkg == "-":
            check(bool(own & ess), f"tools/deps.sh: '{name}' is listed as always there, but {path} comes from "
                  f"{', '.join(sorted(own))} (not an Essential package: give it its package and modes)")
        else:
            check(pkg in own, f"tools/deps.sh: {path} comes from {', '.join(sorted(own))}, not {pkg}")

print(f"test_deps: {n_inc} system #includes, {n_cmd} script commands, {verified} rows checked against dpkg; "
      f"{checks - len(fails)}/{checks} checks passed")
sys.exit(1 if fails else 0)
PYEOF
