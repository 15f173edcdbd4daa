#!/usr/bin/env python3
"""The manual covers the public API: every function include/pfetch.h
declares PF_EXPORT is named on the .Nm lines of exactly one section 3 page
(the install makes a link NAME.3 to that page, so `man NAME` finds it),
with its prototype in that page's SYNOPSIS; no page names a function the
header does not have; pfetch(3) refers to every page, and every page back
to pfetch(3).  A new function without its page fails here.  And every
program of a section 3 page's EXAMPLES (a literal block that starts with
#include) compiles cleanly against include/pfetch.h."""

import re
import shlex
import shutil
import subprocess

import pftest as t

MAN = t.SRC / "man"


def public_functions():
    text = (t.SRC / "include" / "pfetch.h").read_text()
    return sorted(set(re.findall(r"PF_EXPORT[^;(]*?\b(pf_\w+)\s*\(", text)))


def sections(page):
    """{section title: [lines]} of an mdoc page."""
    out, cur = {}, None
    for line in page.read_text().splitlines():
        if line.startswith(".Sh "):
            cur = line[4:].strip()
            out[cur] = []
        elif cur is not None:
            out[cur].append(line)
    return out


def pages():
    return sorted(MAN.glob("*.3"))


def names(page):
    return [l.split()[1] for l in sections(page).get("NAME", [])
            if l.startswith(".Nm ") and len(l.split()) > 1]


def xrefs(lines):
    return {(m.group(1), m.group(2)) for l in lines
            for m in [re.match(r"\.Xr (\S+) (\d)", l)] if m}


@t.case
def every_function_has_one_page(env):
    where = {}
    for page in pages():
        for n in names(page):
            where.setdefault(n, []).append(page.name)
    missing = [f for f in public_functions() if f not in where]
    t.eq(missing, [], "PF_EXPORT functions no man/*.3 page names in .Nm")
    twice = {n: p for n, p in where.items() if len(p) > 1}
    t.eq(twice, {}, "names on more than one page")


@t.case
def pages_name_only_what_the_header_has(env):
    header = (t.SRC / "include" / "pfetch.h").read_text()
    functions = set(public_functions())
    for page in pages():
        synopsis = "\n".join(sections(page).get("SYNOPSIS", []))
        for n in names(page):
            if page.stem == "pfetch":
                continue  # the overview: pfetch, libpfetch
            t.check(re.search(r"\b%s\b" % n, header),
                    "%s names %s, which pfetch.h does not have"
                    % (page.name, n))
            if n in functions:
                t.check(re.search(r"^\.F[no] %s\b" % n, synopsis, re.M),
                        "%s: %s has no .Fn/.Fo in the SYNOPSIS"
                        % (page.name, n))


@t.case
def see_also_links_the_pages(env):
    overview = sections(MAN / "pfetch.3").get("SEE ALSO", [])
    refs = xrefs(overview)
    want = {(p.stem, "3") for p in pages() if p.stem != "pfetch"}
    want |= {("pfetch", "1"), ("pfetch", "5")}
    t.eq(sorted(want - refs), [], "pages pfetch(3) SEE ALSO misses")
    for page in pages():
        if page.stem != "pfetch":
            t.check(("pfetch", "3") in xrefs(sections(page).get("SEE ALSO",
                                                                 [])),
                    "%s does not refer to pfetch(3)" % page.name)


def unescape(line):
    """mdoc text of a literal block to C."""
    for a, b in (("\\(dq", '"'), ("\\&", ""), ("\\e", "\\")):
        line = line.replace(a, b)
    return line


def example_programs(page):
    """The literal blocks of EXAMPLES that start with #include."""
    blocks, cur = [], None
    for line in sections(page).get("EXAMPLES", []):
        if line.startswith(".Bd -literal"):
            cur = []
        elif line.startswith(".Ed") and cur is not None:
            if cur and cur[0].startswith("#include"):
                blocks.append("\n".join(cur) + "\n")
            cur = None
        elif cur is not None:
            cur.append(unescape(line))
    return blocks


@t.case
def examples_compile(env):
    if shutil.which("cc") is None or shutil.which("pkg-config") is None:
        t.skip("cc or pkg-config is missing")
    flags = shlex.split(subprocess.run(
        ["pkg-config", "--cflags", "libcurl", "libxml-2.0"],
        capture_output=True, text=True, check=True).stdout)
    n = 0
    for page in pages():
        for i, prog in enumerate(example_programs(page)):
            src = env.tmp / ("%s-%d.c" % (page.stem, i))
            src.write_text(prog)
            p = subprocess.run(
                ["cc", "-c", "-o", str(src.with_suffix(".o")), "-Wall",
                 "-Wextra", "-Wno-unused-parameter", "-Wno-unused-function",
                 "-Werror",
                 "-I", str(t.SRC / "include"), str(src)] + flags,
                capture_output=True, text=True)
            t.check(p.returncode == 0, "example %d of %s does not compile:"
                    "\n%s" % (i + 1, page.name, p.stderr[-3000:]))
            n += 1
    t.check(n >= 5, "only %d example programs found" % n)


t.run()
