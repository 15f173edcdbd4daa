#!/usr/bin/env python3
"""libpfetch as an installed product.

This build tree is installed once, with `cmake --install BUILD --prefix
TMP`, into a temporary prefix; then, from temporary directories outside
the source tree, a user's program (tests/install/consumer.c) is built
against that prefix alone: with `pkg-config --cflags --libs pfetch`
(PKG_CONFIG_PATH into the prefix), statically with what pfetch.pc declares
for static linking, and as a CMake project (tests/install/CMakeLists.txt)
with find_package(pfetch).  Each build downloads URLs from the test server
and checks its results.  Also: the installed libpfetch.so exports pf_*
symbols only (every function of the installed pfetch.h among them) and
has the SONAME libpfetch.so.0, `man NAME` finds a page for every public
function, the installed pfetch runs without help, and the build recipes
README.md prints (which pfetch(3) repeats) work as printed.

The build directory is the one holding the pfetch binary given on the
command line (or PF_BUILD_DIR).  A build with sanitizers (PF_SANITIZE)
builds the programs with the same sanitizers, as a user of such a
library must."""

import atexit
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import pftest as t

BUILD = Path(os.environ.get("PF_BUILD_DIR") or t.PFETCH.parent).resolve()
CONSUMER = t.SRC / "tests" / "install"


def cache(name, default=""):
    """A value of the build's CMakeCache.txt."""
    text = (BUILD / "CMakeCache.txt").read_text()
    m = re.search(r"^%s:[A-Z]+=(.*)$" % re.escape(name), text, re.M)
    return m.group(1) if m and m.group(1) else default


def sanitize_flags():
    s = cache("PF_SANITIZE")
    return ["-fsanitize=" + s, "-fno-omit-frame-pointer"] if s else []


def run(argv, what, env=None, cwd=None, timeout=120):
    """Run argv to the end; Fail with its output unless it exits 0."""
    p = subprocess.run([str(a) for a in argv], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout, cwd=cwd,
                       env=t.clean_env(env))
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    t.check(p.returncode == 0, "%s exited %d: %s\n%s"
            % (what, p.returncode, " ".join(map(str, argv)), out[-4000:]))
    return p.stdout.decode("utf-8", "replace")


_prefix = None


def prefix():
    """The temporary prefix this build is installed into (once)."""
    global _prefix
    if _prefix is None:
        t.check((BUILD / "cmake_install.cmake").is_file(),
                "%s is not a CMake build directory" % BUILD)
        tmp = tempfile.TemporaryDirectory(prefix="pftest-prefix-")
        atexit.register(tmp.cleanup)
        p = Path(tmp.name)
        run([cache("CMAKE_COMMAND", "cmake"), "--install", BUILD,
             "--prefix", p], "cmake --install")
        _prefix = p
    return _prefix


def libdir():
    d = cache("CMAKE_INSTALL_LIBDIR", "lib")
    return Path(d) if os.path.isabs(d) else prefix() / d


def incdir():
    d = cache("CMAKE_INSTALL_INCLUDEDIR", "include")
    return Path(d) if os.path.isabs(d) else prefix() / d


def pkg_env():
    """Only the prefix's pkgconfig directory added to pkg-config's path."""
    return {"PKG_CONFIG_PATH": str(libdir() / "pkgconfig")}


def pkg_config(*args):
    if shutil.which("pkg-config") is None:
        t.skip("pkg-config is not installed")
    return shlex.split(run(["pkg-config"] + list(args), "pkg-config",
                           env=pkg_env()))


def cc():
    return cache("CMAKE_C_COMPILER", "cc")


def fetch_with(env, exe, n):
    """Run a consumer program on n URLs of the test server; check its
    results line by line, the files and the log."""
    urls = [env.url("/_/bytes/%d/install-%d" % (1000 + 70000 * i, i))
            for i in range(n)]
    out = run([exe, env.out] + urls, exe.name, cwd=env.tmp,
              env={"LD_LIBRARY_PATH": str(libdir())})
    lines = sorted(out.splitlines())
    t.eq(len(lines), n, "result lines of %s" % exe.name)
    for i, url in enumerate(urls):
        size = 1000 + 70000 * i
        line = [l for l in lines if l.split(" ")[2:3] == [url]]
        t.check(len(line) == 1, "no single result line for %s in %r"
                % (url, lines))
        status, nbytes, _, path = line[0].split(" ", 3)
        t.eq((status, int(nbytes)), ("200", size), "result of " + url)
        data = (env.out / path).read_bytes()
        t.check(data == t.pattern(size, "install-%d" % i),
                "%s: the saved body differs from what was sent" % path)
    rows = env.db().by_url()
    t.eq(sorted(rows), sorted(urls), "URLs logged")
    for url in urls:
        t.eq(rows[url]["error"], None, "error logged for " + url)


def needed(exe):
    out = run(["readelf", "-d", exe], "readelf -d")
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


@t.case
def pkg_config_program_fetches(env):
    flags = pkg_config("--cflags", "--libs", "pfetch")
    t.check("-I%s" % incdir() in flags,
            "pkg-config --cflags does not name the prefix: %r" % flags)
    exe = env.tmp / "consumer"
    run([cc(), "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", exe,
         CONSUMER / "consumer.c"] + sanitize_flags() + flags,
        "cc with pkg-config", cwd=env.tmp)
    t.check("libpfetch.so.0" in needed(exe),
            "the program does not need libpfetch.so.0: %r" % needed(exe))
    ldd = run(["ldd", exe], "ldd", env={"LD_LIBRARY_PATH": str(libdir())})
    t.contains(ldd, str(libdir() / "libpfetch.so.0"),
               "ldd with LD_LIBRARY_PATH into the prefix")
    fetch_with(env, exe, 2)


@t.case
def pkg_config_static_link(env):
    # The static link takes libpfetch.a and exactly what pfetch.pc
    # declares for it: Requires and Requires.private through pkg-config
    # (dynamically: the system's libcurl.pc lists static libraries of its
    # own that need not be installed), Libs.private as written.
    pc = (libdir() / "pkgconfig" / "pfetch.pc").read_text()
    private = re.search(r"^Libs\.private:(.*)$", pc, re.M)
    reqs = (pkg_config("--print-requires", "pfetch") +
            pkg_config("--print-requires-private", "pfetch"))
    names = [r for r in reqs if re.match(r"^[A-Za-z]", r)]
    t.eq(sorted(set(names)),
         ["hiredis", "libcrypto", "libcurl", "libxml-2.0", "sqlite3"],
         "packages required by pfetch.pc")
    exe = env.tmp / "consumer_static"
    run([cc(), "-std=c11", "-o", exe, CONSUMER / "consumer.c"] +
        sanitize_flags() + pkg_config("--cflags", "pfetch") +
        [libdir() / "libpfetch.a"] + pkg_config("--libs", *names) +
        shlex.split(private.group(1) if private else ""),
        "cc -static libpfetch.a", cwd=env.tmp)
    t.check(not any("pfetch" in n for n in needed(exe)),
            "the static program needs %r" % needed(exe))
    fetch_with(env, exe, 2)


@t.case
def cmake_find_package(env):
    build = env.tmp / "build"
    cmake = cache("CMAKE_COMMAND", "cmake")
    flags = " ".join(sanitize_flags())
    run([cmake, "-S", CONSUMER, "-B", build, "-DCMAKE_PREFIX_PATH=%s" %
         prefix(), "-DCMAKE_C_COMPILER=%s" % cc(),
         "-DCMAKE_C_FLAGS=%s" % flags, "-DCMAKE_EXE_LINKER_FLAGS=%s" % flags,
         "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF"],
        "cmake configure of tests/install", cwd=env.tmp)
    run([cmake, "--build", build], "cmake --build of tests/install",
        cwd=env.tmp)
    exe = build / "consumer"
    t.check("libpfetch.so.0" in needed(exe), "pfetch::pfetch is not "
            "the shared library: %r" % needed(exe))
    fetch_with(env, exe, 2)
    static = build / "consumer_static"
    t.check(static.is_file(), "pfetch::pfetch_static was not defined")
    t.check(not any("pfetch" in n for n in needed(static)),
            "pfetch::pfetch_static needs %r" % needed(static))
    env.out = env.tmp / "out-static"
    fetch_with(env, static, 2)


# The recipes README.md prints under "Installing, and building a
# program", each an indented block after a "<!-- recipe: NAME -->" line,
# run as printed: in a directory holding the README's prog.c and a `build`
# link to this build tree, with HOME a temporary directory (so ~/.local
# is one) and only https://example.org/ replaced by a test server URL.

def readme_recipe(name):
    text = (t.SRC / "README.md").read_text()
    m = re.search(r"^<!-- recipe: %s -->\n((?:    .*\n)+)" % re.escape(name),
                  text, re.M)
    t.check(m, "README.md has no recipe %r" % name)
    return [line[4:] for line in m.group(1).splitlines()]


def readme_program():
    text = (t.SRC / "README.md").read_text()
    m = re.search(r"A whole downloader, `prog.c`.*?```c\n(.*?)```", text,
                  re.S)
    t.check(m, "README.md has no prog.c")
    return m.group(1)


def man_literal_blocks(page, subsection):
    """The literal blocks of an mdoc subsection, unescaped."""
    text = (t.SRC / "man" / page).read_text()
    m = re.search(r"^\.Ss %s\n(.*?)^\.S[hs] " % re.escape(subsection), text,
                  re.M | re.S)
    t.check(m, "%s has no subsection %s" % (page, subsection))
    blocks = re.findall(r"^\.Bd -literal[^\n]*\n(.*?)^\.Ed", m.group(1),
                        re.M | re.S)
    return [b.replace("\\e", "\\").replace("\\-", "-") for b in blocks]


def run_recipe(env, lines, url, rc=0):
    """Run the lines with sh -e; return (exit status, output)."""
    work, home = env.tmp / "work", env.tmp / "home"
    for d in (work, home):
        d.mkdir(exist_ok=True)
    if not (work / "build").exists():
        (work / "build").symlink_to(BUILD)
    (work / "prog.c").write_text(readme_program())
    flags = " ".join(sanitize_flags())
    script = []
    for line in lines:
        line = line.replace("https://example.org/", url)
        if line.startswith("cc "):
            line = "%s %s %s" % (shlex.quote(cc()), flags, line[3:])
        script.append(line)
    p = subprocess.run(["sh", "-ec", "\n".join(script)],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=180, cwd=work,
                       env=t.clean_env({"HOME": str(home),
                                        "LD_LIBRARY_PATH": "",
                                        "PKG_CONFIG_PATH": ""}))
    out = (p.stdout + p.stderr).decode("utf-8", "replace")
    t.check(p.returncode == rc, "the recipe exited %d, want %d:\n%s\n%s"
            % (p.returncode, rc, "\n".join(script), out[-4000:]))
    return out


def check_prog_output(out, url):
    t.check(re.search(r"^200 %s \S" % re.escape(url), out, re.M),
            "./prog did not fetch %s: %r" % (url, out))


@t.case
def readme_private_prefix(env):
    url = env.url("/_/bytes/1000/private")
    out = run_recipe(env, readme_recipe("private"), url)
    check_prog_output(out, url)
    dyn = run(["readelf", "-d", env.tmp / "work" / "prog"], "readelf -d")
    t.check("libpfetch.so.0" in needed(env.tmp / "work" / "prog"),
            "the program does not use the shared library")
    t.contains(dyn, str(env.tmp / "home" / ".local" / "lib"),
               "the program's RUNPATH")


@t.case
def readme_ld_library_path(env):
    """Built without the rpath: it runs with LD_LIBRARY_PATH as printed,
    and fails without it, as the README says."""
    url = env.url("/_/bytes/1000/ldpath")
    setup = readme_recipe("private")[:2]
    out = run_recipe(env, setup + readme_recipe("ld-library-path"), url)
    check_prog_output(out, url)
    out = run_recipe(env, ["./prog " + url], url, rc=127)
    t.contains(out, "libpfetch.so.0: cannot open shared object file",
               "./prog without LD_LIBRARY_PATH")


@t.case
def readme_static(env):
    url = env.url("/_/bytes/1000/static")
    setup = readme_recipe("private")[:2]
    out = run_recipe(env, setup + readme_recipe("static"), url)
    check_prog_output(out, url)
    t.check(not any("pfetch" in n for n in needed(env.tmp / "work" / "prog")),
            "the static program needs %r" % needed(env.tmp / "work" / "prog"))


@t.case
def man_recipes_are_the_readme_s(env):
    """pfetch(3)'s build lines are the README's, which the cases above
    run; and the system prefix recipe (not run: it needs root and writes
    to /usr/local) runs ldconfig and builds without an rpath."""
    readme = set()
    for name in ("private", "ld-library-path", "static", "system"):
        readme.update(readme_recipe(name))
    lines = [line for b in man_literal_blocks("pfetch.3", "Building")
             for line in b.splitlines() if line.strip()]
    t.check(any("rpath" in line for line in lines), "pfetch.3: no rpath")
    stray = [line for line in lines if line not in readme and
             not line.startswith(("find_package", "target_link_libraries"))]
    t.eq(stray, [], "build lines of pfetch(3) that README.md does not run")
    system = readme_recipe("system")
    t.check(any(line.endswith("ldconfig") for line in system) and
            not any("rpath" in line for line in system),
            "the system recipe: %r" % system)


@t.case
def installed_command_runs(env):
    """The installed pfetch finds its library from any prefix: it holds
    it (linked statically), or finds it through an $ORIGIN RUNPATH."""
    exe = prefix() / "bin" / "pfetch"
    out = run([exe, "--version"], "installed pfetch --version",
              env={"LD_LIBRARY_PATH": ""})
    t.contains(out, "pfetch ", "pfetch --version")
    if any("pfetch" in n for n in needed(exe)):
        t.contains(run(["readelf", "-d", exe], "readelf -d"), "$ORIGIN",
                   "the RUNPATH of the installed pfetch")


def public_functions(header):
    """Names of the functions pfetch.h declares PF_EXPORT."""
    text = header.read_text()
    return sorted(set(re.findall(r"PF_EXPORT[^;(]*?\b(pf_\w+)\s*\(", text)))


@t.case
def exports_and_soname(env):
    if shutil.which("nm") is None or shutil.which("readelf") is None:
        t.skip("binutils are not installed")
    lib = libdir() / "libpfetch.so"
    t.eq(os.readlink(lib), "libpfetch.so.0", "libpfetch.so points to")
    real = os.readlink(libdir() / "libpfetch.so.0")
    t.check(re.fullmatch(r"libpfetch\.so\.0\.\d+\.\d+", real),
            "libpfetch.so.0 points to %s" % real)
    soname = re.findall(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]",
                        run(["readelf", "-d", lib], "readelf -d"))
    t.eq(soname, ["libpfetch.so.0"], "SONAME")
    exported = set()
    for line in run(["nm", "-D", "--defined-only", lib], "nm").splitlines():
        f = line.split()
        if len(f) < 3:
            continue
        kind, name = f[1], f[2].split("@")[0]
        if kind == "A":
            continue  # the version node (PFETCH_0), made by the linker
        t.check(name.startswith("pf_") and not name.startswith("pf__"),
                "libpfetch.so exports %s (%s)" % (name, kind))
        exported.add(name)
    missing = [n for n in public_functions(incdir() / "pfetch.h")
               if n not in exported]
    t.eq(missing, [], "functions of pfetch.h the library does not export")
    # The static library must not clash with a program's own symbols
    # either: everything it defines globally is pf_ or pf__.
    for line in run(["nm", "-g", "--defined-only", libdir() / "libpfetch.a"],
                    "nm libpfetch.a").splitlines():
        f = line.split()
        if len(f) == 3:
            t.check(f[2].startswith("pf_"),
                    "libpfetch.a defines %s (%s)" % (f[2], f[1]))


@t.case
def man_pages_for_every_function(env):
    man = prefix() / cache("CMAKE_INSTALL_MANDIR", "share/man")
    for page in ("man1/pfetch.1", "man3/pfetch.3", "man5/pfetch.5"):
        t.check((man / page).is_file(), "%s is not installed" % page)
    names = public_functions(incdir() / "pfetch.h")
    missing = [n for n in names if not (man / "man3" / (n + ".3")).is_file()]
    t.eq(missing, [], "functions without an installed man page")
    if shutil.which("mandoc") is not None:
        text = run(["mandoc", "-Tascii", man / "man3" / "pf_crawler_stop.3"],
                   "mandoc")
        t.contains(text, "pf_crawler_stop", "page of pf_crawler_stop")
    if shutil.which("man") is not None:
        found = run(["man", "-M", man, "-w", "3", "pf_crawler_stop"],
                    "man -w").strip()
        t.eq(Path(found).resolve(),
             (man / "man3" / "pf_crawler_run.3").resolve(),
             "the page man finds for pf_crawler_stop")


t.run()
