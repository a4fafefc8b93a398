#!/usr/bin/env python3
"""Generate pinlab lesson files that express the kernel selftests
tools/testing/selftests/mm/cow.c and gup_longterm.c (torvalds/linux @109364fc).

Layout (meant to be ported to Rust):
  * SETUP snippets  (setup_*):  build the memory variant the selftest's run_with_*()
                                helper builds; return (steps, ctx).
  * BODY snippets   (body_*):   the selftest's test function, with the selftest's own
                                pass criterion as expectations (no kernel filters,
                                except ERRNO_BY_ERA, see below).
  * compose()                 : header + setup + body -> one TOML lesson.

ctx keys: p (process), vma (mapping of `mem`), start, n (pages of `mem` the test
covers), probes (page indexes written/checked; the model keeps one tag per page,
the selftest memsets every byte), init (tag the setup wrote on the probes),
smem (non-anon: the second mapping), file / fs (file-backed variants).

A step with `selftest = "precondition"` is one whose failure makes the selftest
SKIP (not FAIL) the case; `skip_if_einval` skips when the step fails with EINVAL;
`not_run_before_6.8` marks a case the selftest does not run before 6.8.
lessons/src/matrix.rs classifies runs by it.
"""
import os
import re
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "assets", "selftests")
PRESETS = ["6.12", "5.7", "5.8", "5.9", "5.11", "5.14", "5.18", "5.19", "6.0", "6.1", "6.2",
           "6.3", "6.4", "6.5", "6.8", "6.18"]
PRE = "[precondition] "
NEW = "ff"          # the selftest's memset(mem, 0xff, size)
THP = 512           # pmdsize / pagesize


# ----------------------------------------------------------------- TOML writer
def tv(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(tv(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {tv(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


ROLES = {"[precondition] ": "precondition", "[skip-if:EINVAL] ": "skip_if_einval",
         "[n/a-before-6.8] ": "not_run_before_6.8"}


def S(do, expect=None, say=None, **args):
    """One step."""
    st = {"do": do}
    st.update(args)
    if say:
        st["say"] = say
    if expect:
        st["expect"] = expect
    return st


def with_role(st):
    """A narration that starts with a role tag becomes the step's `selftest` key."""
    say = st.get("say", "")
    for tag, role in ROLES.items():
        if say.startswith(tag):
            st["selftest"] = role
            st["say"] = say[len(tag):]
    return st


def step_toml(st):
    st = with_role(dict(st))
    lines = ["[[step]]"]
    for k, v in st.items():
        if k == "expect":
            lines.append("expect = [")
            for e in v:
                lines.append("  " + tv(e) + ",")
            lines.append("]")
        else:
            lines.append(f"{k} = {tv(v)}")
    return "\n".join(lines)


def slug(s):
    s = s.lower().replace("r/o", "ro").replace("r/w", "rw").replace("()", "")
    s = re.sub(r"[^a-z0-9]+", "-", s)
    return s.strip("-")


# -------------------------------------------------------------- data helpers
def page_tags(ctx, probe_tag, other="0"):
    """Comma-separated tags of the n pages of `mem` (as pipe/holder data shows them)."""
    return ",".join(probe_tag if i in ctx["probes"] else other
                    for i in range(ctx["start"], ctx["start"] + ctx["n"]))


# include/linux/pipe_fs_i.h: a new pipe has PIPE_DEF_BUFFERS (16) slots, so one
# vmsplice() moves at most 16 pages (fs/splice.c: iter_to_pipe stops when
# add_to_pipe finds the pipe full) and cow.c compares only the `transferred`
# bytes: memcmp(old, new, transferred).
PIPE_DEF_BUFFERS = 16


def spliced_tags(ctx, probe_tag):
    """What a pipe filled by one vmsplice() of `mem` holds: its first 16 pages."""
    n = min(ctx["n"], PIPE_DEF_BUFFERS)
    return ",".join(probe_tag if i in ctx["probes"] else "0"
                    for i in range(ctx["start"], ctx["start"] + n))


def rng(ctx):
    return dict(proc=ctx["p"], vma=ctx["vma"], start=ctx["start"], pages=ctx["n"])


def writes(proc, ctx, tag):
    return [S("write", at=f"{proc}:{ctx['vma']}[{i}]", data=tag) for i in ctx["probes"]]


def reads(proc, ctx, vma=None):
    return [S("read", at=f"{proc}:{vma or ctx['vma']}[{i}]") for i in ctx["probes"]]


# =================================================================== SETUPS
# cow.c anon variants ------------------------------------------------------
def setup_base_page(swapout=False):
    # do_run_with_base_page(): mmap 1 page, MADV_NOHUGEPAGE, memset 1, [MADV_PAGEOUT]
    st = [S("spawn", name="p"),
          S("mmap", proc="p", vma="mem", pages=1, write=True),
          S("madvise", proc="p", vma="mem", advice="NOHUGEPAGE"),
          S("write", at="p:mem[0]", data="1")]
    if swapout:
        st.append(S("madvise", proc="p", vma="mem", advice="PAGEOUT",
                    say=PRE + "MADV_PAGEOUT must have swapped the page out, else the selftest skips.",
                    expect=[{"pte_present": "p:mem[0]", "is": False}]))
    return st, dict(p="p", vma="mem", start=0, n=1, probes=[0], init="1")


def setup_thp(kind, order=9):
    # do_run_with_thp(): MADV_HUGEPAGE, touch first subpage -> THP, memset 1.
    # order 9: PMD-sized THP (VM_HUGEPAGE). order 2-8: multi-size THP (the selftest runs
    # those sizes only where the kernel has them, 6.8+; the mmap step is tagged [n/a-before-6.8]).
    npg = 1 << order
    if order == 9:
        st = [S("spawn", name="p"),
              S("mmap", proc="p", vma="mem", pages=npg, write=True, thp=True),
              S("write", at="p:mem[0]", data="1",
                say=PRE + "A THP must be populated, else the selftest skips.",
                expect=[{"vmstat": "thp_fault_alloc", "is": 1}])]
    else:
        st = [S("spawn", name="p"),
              S("mmap", proc="p", vma="mem", pages=npg, write=True, order=order,
                say="[n/a-before-6.8] multi-size THP exists from 6.8; the selftest does not run this size before."),
              S("write", at="p:mem[0]", data="1",
                say=PRE + "A THP must be populated (last subpage present), else the selftest skips.",
                expect=[{"pte_present": f"p:mem[{npg - 1}]", "is": True},
                        {"same_folio": ["p:mem[0]", f"p:mem[{npg - 1}]"]}])]
    st.append(S("write", at=f"p:mem[{npg - 1}]", data="1"))

    ctx = dict(p="p", vma="mem", start=0, n=npg, probes=[0, npg - 1], init="1")
    if kind == "pmd":
        pass
    elif kind == "pte":
        # mprotect one subpage R/O and back: PTE-maps the THP
        st += [S("mprotect", proc="p", vma="mem", start=1, pages=1, write=False),
               S("mprotect", proc="p", vma="mem", start=1, pages=1, write=True)]
    elif kind == "single_pte":
        # MADV_DONTNEED all but the first subpage; size = one page
        st += [S("madvise", proc="p", vma="mem", start=1, pages=npg - 1, advice="DONTNEED")]
        ctx.update(n=1, probes=[0])
    elif kind == "partial_shared":
        # share the first page with a child that quits at once
        st += [S("madvise", proc="p", vma="mem", start=1, pages=npg - 1, advice="DONTFORK"),
               S("fork", parent="p", child="tmpchild"),
               S("exit", proc="tmpchild"),
               S("madvise", proc="p", vma="mem", start=1, pages=npg - 1, advice="DOFORK")]
    else:
        raise ValueError(kind)
    return st, ctx


ANON_VARIANTS = {
    # slug: (selftest's "[RUN] ... with <variant>" text, setup thunk)
    "base-page": ("base page", lambda: setup_base_page(False)),
    "swapped-out-base-page": ("swapped out base page", lambda: setup_base_page(True)),
    "thp-2048kb": ("THP (2048 kB)", lambda: setup_thp("pmd")),
    "pte-mapped-thp-2048kb": ("PTE-mapped THP (2048 kB)", lambda: setup_thp("pte")),
    "single-pte-of-thp-2048kb": ("single PTE of THP (2048 kB)", lambda: setup_thp("single_pte")),
    "partially-shared-thp-2048kb": ("partially shared THP (2048 kB)", lambda: setup_thp("partial_shared")),
    "pte-mapped-thp-64kb": ("PTE-mapped THP (64 kB)", lambda: setup_thp("pte", 4)),
    "single-pte-of-thp-64kb": ("single PTE of THP (64 kB)", lambda: setup_thp("single_pte", 4)),
    "partially-shared-thp-64kb": ("partially shared THP (64 kB)", lambda: setup_thp("partial_shared", 4)),
}


# cow.c non-anon variants --------------------------------------------------
def setup_zeropage():
    # run_with_zeropage(): private anon RW `mem`, private anon RO `smem`, read both
    st = [S("spawn", name="p"),
          S("mmap", proc="p", vma="mem", pages=1, write=True),
          S("mmap", proc="p", vma="smem", pages=1, write=False),
          S("read", at="p:mem[0]"),
          S("read", at="p:smem[0]")]
    return st, dict(p="p", vma="mem", smem="smem", start=0, n=1, probes=[0], init="0")


def setup_file_pair(fs):
    # run_with_memfd() / run_with_tmpfile(): one zero page (fallocate), MAP_PRIVATE RW
    # `mem` and MAP_SHARED RO `smem` of the same file, read both
    st = [S("spawn", name="p"),
          S("create_file", name="f", fs=fs, pages=1),
          S("mmap", proc="p", vma="mem", pages=1, file="f", write=True),
          S("mmap", proc="p", vma="smem", pages=1, file="f", shared=True, write=False),
          S("read", at="p:mem[0]"),
          S("read", at="p:smem[0]")]
    return st, dict(p="p", vma="mem", smem="smem", start=0, n=1, probes=[0], init="0", file="f", fs=fs)


NON_ANON_VARIANTS = {
    "shared-zeropage": ("shared zeropage", setup_zeropage),
    "memfd": ("memfd", lambda: setup_file_pair("tmpfs")),
    "tmpfile-ext4": ("tmpfile (here: on ext4)", lambda: setup_file_pair("ext4")),
}


# gup_longterm.c variants --------------------------------------------------
def setup_gupl_file(fs, shared):
    # do_test(): ftruncate+fallocate one page, mmap RW shared/private, memset 0
    st = [S("spawn", name="p"),
          S("create_file", name="f", fs=fs, pages=1),
          S("mmap", proc="p", vma="mem", pages=1, file="f", shared=shared, write=True),
          S("write", at="p:mem[0]", data="z")]
    return st, dict(p="p", vma="mem", start=0, n=1, probes=[0], init="z", file="f", fs=fs, shared=shared)


GUPL_VARIANTS = {
    "memfd": ("memfd", "tmpfs"),
    "tmpfile-ext4": ("tmpfile (here: on ext4)", "ext4"),
    "local-tmpfile-xfs": ("local tmpfile (here: on xfs)", "xfs"),
    "local-tmpfile-btrfs": ("local tmpfile (here: on btrfs)", "btrfs"),
    "memfd-hugetlb-2048kb": ("memfd hugetlb (2048 kB) (model: hugetlbfs file of small pages)", "hugetlbfs"),
}


# ==================================================================== BODIES
# cow.c anon ---------------------------------------------------------------
def body_cow_in_parent(ctx, mprotect):
    """do_test_cow_in_parent(child_memcmp_fn): child backs up, parent [mprotect] writes,
    child must still read its old values."""
    p, v = ctx["p"], ctx["vma"]
    st = [S("fork", parent=p, child="c")]
    st += reads("c", ctx)                                   # child: memcpy(old, mem)
    if mprotect:
        st += [S("mprotect", write=False, **rng(ctx)), S("mprotect", write=True, **rng(ctx))]
    w = writes(p, ctx, NEW)                                 # parent: memset(mem, 0xff)
    w[-1]["expect"] = [{"data": f"c:{v}[{i}]", "is": ctx["init"]} for i in ctx["probes"]]
    w[-1]["say"] = "Pass criterion: the child still reads its old values (No leak from parent into child)."
    return st + w + [S("exit", proc="c")]


def body_vmsplice_in_child(ctx, mprotect):
    """child_vmsplice_memcmp_fn: child vmsplices, unmaps; parent [mprotect] writes;
    what the child reads from the pipe must be the old content."""
    p, v = ctx["p"], ctx["vma"]
    old = spliced_tags(ctx, ctx["init"])
    st = [S("fork", parent=p, child="c")]
    st += reads("c", ctx)                                   # memcpy(old, mem)
    st += [S("vmsplice", proc="c", vma=v, start=ctx["start"], pages=ctx["n"], pipe="pp"),
           S("munmap", proc="c", vma=v, start=ctx["start"], pages=ctx["n"])]
    if mprotect:
        st += [S("mprotect", write=False, **rng(ctx)), S("mprotect", write=True, **rng(ctx))]
    w = writes(p, ctx, NEW)
    w[-1]["expect"] = [{"data": "pipe:pp", "is": old}]
    w[-1]["say"] = "Pass criterion: the pipe still holds the old content (No leak from parent into child)."
    return st + w + [S("pipe_read", proc="c", pipe="pp"), S("exit", proc="c")]


def body_vmsplice_in_parent(ctx, before_fork):
    """do_test_vmsplice_in_parent: parent vmsplices (before/after fork), unmaps after the
    child is ready; the child writes; the parent's pipe must hold the old content."""
    p, v = ctx["p"], ctx["vma"]
    old = spliced_tags(ctx, ctx["init"])
    vs = S("vmsplice", proc=p, vma=v, start=ctx["start"], pages=ctx["n"], pipe="pp")
    st = reads(p, ctx)                                      # memcpy(old, mem)
    if before_fork:
        st += [vs, S("fork", parent=p, child="c")]
    else:
        st += [S("fork", parent=p, child="c"), vs]
    st += [S("munmap", proc=p, vma=v, start=ctx["start"], pages=ctx["n"])]
    w = writes("c", ctx, NEW)                               # child: memset(mem, 0xff)
    w[-1]["expect"] = [{"data": "pipe:pp", "is": old}]
    w[-1]["say"] = "Pass criterion: the parent's pipe still holds the old content (No leak from child into parent)."
    return st + w + [S("exit", proc="c"), S("pipe_read", proc=p, pipe="pp")]


def body_iouring(ctx, use_fork):
    """do_test_iouring: register a fixed buffer (FOLL_WRITE|FOLL_PIN|FOLL_LONGTERM), then
    fork, or mprotect R/O + R/W; write; what the fixed buffer writes out must equal mem."""
    p = ctx["p"]
    new = page_tags(ctx, NEW)
    st = [S("io_uring_register", ring="r", say=PRE + "io_uring_register_buffers() failing makes the selftest skip.",
            **rng(ctx))]
    if use_fork:
        st += [S("fork", parent=p, child="c")]
    else:
        # mprotect(PROT_READ); clear_softdirty(); mprotect(PROT_READ|PROT_WRITE)
        # (soft-dirty clearing is not an action of the model)
        st += [S("mprotect", write=False, **rng(ctx)), S("mprotect", write=True, **rng(ctx))]
    st += writes(p, ctx, NEW)
    st += [S("device_read", holder="r",
             say="io_uring_prep_write_fixed: the device reads the buffer through the pin. "
                 "Pass criterion: it sees what the process wrote (Longterm R/W pin is reliable).",
             expect=[{"data": "ring:r", "is": new}])]
    if use_fork:
        st += [S("exit", proc="c")]
    st += [S("io_uring_unregister", ring="r")]
    return st


RO_SHARED, RO_PREV_SHARED, RO_EXCLUSIVE, RO_PLAIN = "shared", "prev", "excl", "plain"


def body_ro_pin(ctx, test, fast):
    """do_test_ro_pin: [share with a live child | share then child quits | mprotect R/O+R/W],
    take a R/O FOLL_LONGTERM pin (gup_test PIN_LONGTERM_TEST_START), write via the page
    table, read through the pin: it must see the write."""
    p = ctx["p"]
    new = page_tags(ctx, NEW)
    st = []
    if test in (RO_SHARED, RO_PREV_SHARED):
        st += [S("fork", parent=p, child="c")]
        if test == RO_PREV_SHARED:
            st += [S("exit", proc="c")]
    elif test == RO_EXCLUSIVE:
        st += [S("mprotect", write=False, **rng(ctx)), S("mprotect", write=True, **rng(ctx))]
    st += [S("gup", holder="h", pin=True, longterm=True, fast=fast, write=False,
             say="[skip-if:EINVAL] PIN_LONGTERM_TEST_START (R/O, FOLL_LONGTERM" + (", GUP-fast" if fast else "") + ").",
             **rng(ctx))]
    st += writes(p, ctx, NEW)
    st += [S("device_read", holder="h",
             say="PIN_LONGTERM_TEST_READ. Pass criterion: the pin sees the write (Longterm R/O pin is reliable).",
             expect=[{"data": "holder:h", "is": new}]),
           S("release", holder="h")]
    if test == RO_SHARED:
        st += [S("exit", proc="c")]
    return st


ANON_TESTS = [
    ("Basic COW after fork()", lambda c: body_cow_in_parent(c, False)),
    ("Basic COW after fork() with mprotect() optimization", lambda c: body_cow_in_parent(c, True)),
    ("vmsplice() + unmap in child", lambda c: body_vmsplice_in_child(c, False)),
    ("vmsplice() + unmap in child with mprotect() optimization", lambda c: body_vmsplice_in_child(c, True)),
    ("vmsplice() before fork(), unmap in parent after fork()", lambda c: body_vmsplice_in_parent(c, True)),
    ("vmsplice() + unmap in parent after fork()", lambda c: body_vmsplice_in_parent(c, False)),
    ("R/O-mapping a page registered as iouring fixed buffer", lambda c: body_iouring(c, False)),
    ("fork() with an iouring fixed buffer", lambda c: body_iouring(c, True)),
    ("R/O GUP pin on R/O-mapped shared page", lambda c: body_ro_pin(c, RO_SHARED, False)),
    ("R/O GUP-fast pin on R/O-mapped shared page", lambda c: body_ro_pin(c, RO_SHARED, True)),
    ("R/O GUP pin on R/O-mapped previously-shared page", lambda c: body_ro_pin(c, RO_PREV_SHARED, False)),
    ("R/O GUP-fast pin on R/O-mapped previously-shared page", lambda c: body_ro_pin(c, RO_PREV_SHARED, True)),
    ("R/O GUP pin on R/O-mapped exclusive page", lambda c: body_ro_pin(c, RO_EXCLUSIVE, False)),
    ("R/O GUP-fast pin on R/O-mapped exclusive page", lambda c: body_ro_pin(c, RO_EXCLUSIVE, True)),
]


# cow.c anon THP (collapse) -------------------------------------------------
def body_collapse(ctx, test):
    """do_test_anon_thp_collapse on a PMD-mapped THP: PTE-map it, [DONTFORK half],
    fork, [DOFORK], MADV_COLLAPSE (before or after fork), parent writes; the child's
    (half of the) range must keep the old values."""
    p, v, n = ctx["p"], ctx["vma"], ctx["n"]
    half = n // 2
    coll = S("madvise", proc=p, vma=v, advice="COLLAPSE",
             say=PRE + "MADV_COLLAPSE failing makes the selftest skip.")
    st = [S("mprotect", proc=p, vma=v, start=1, pages=1, write=False),
          S("mprotect", proc=p, vma=v, start=1, pages=1, write=True)]
    child_probes = ctx["probes"]
    if test == "unshared":
        st += [coll]
    elif test == "lower":
        st += [S("madvise", proc=p, vma=v, start=half, pages=half, advice="DONTFORK")]
        child_probes = [i for i in ctx["probes"] if i < half]
    elif test == "upper":
        st += [S("madvise", proc=p, vma=v, start=0, pages=half, advice="DONTFORK")]
        child_probes = [i for i in ctx["probes"] if i >= half]
    st += [S("fork", parent=p, child="c")]
    st += [S("read", at=f"c:{v}[{i}]") for i in child_probes]   # child_memcmp_fn backup
    if test in ("lower", "upper"):
        st += [S("madvise", proc=p, vma=v, advice="DOFORK")]
    if test != "unshared":
        st += [coll]
    w = writes(p, ctx, NEW)
    w[-1]["expect"] = [{"data": f"c:{v}[{i}]", "is": ctx["init"]} for i in child_probes]
    w[-1]["say"] = "Pass criterion: the child still reads its old values (No leak from parent into child)."
    return st + w + [S("exit", proc="c")]


ANON_THP_TESTS = [
    ("Basic COW after fork() when collapsing before fork()", lambda c: body_collapse(c, "unshared")),
    ("Basic COW after fork() when collapsing after fork() (fully shared)", lambda c: body_collapse(c, "full")),
    ("Basic COW after fork() when collapsing after fork() (lower shared)", lambda c: body_collapse(c, "lower")),
    ("Basic COW after fork() when collapsing after fork() (upper shared)", lambda c: body_collapse(c, "upper")),
]


# cow.c non-anon ------------------------------------------------------------
def body_non_anon_cow(ctx):
    """test_cow: write via the private mapping; the other mapping must not change."""
    p = ctx["p"]
    return [S("write", at=f"{p}:{ctx['vma']}[0]", data=NEW,
              say="Pass criterion: the other mapping is not modified (Other mapping not modified).",
              expect=[{"data": f"{p}:{ctx['smem']}[0]", "is": ctx["init"]}])]


NON_ANON_TESTS = [
    ("Basic COW", body_non_anon_cow),
    ("R/O longterm GUP pin", lambda c: body_ro_pin(c, RO_PLAIN, False)),
    ("R/O longterm GUP-fast pin", lambda c: body_ro_pin(c, RO_PLAIN, True)),
]


# gup_longterm.c ------------------------------------------------------------
def fs_supports_writable_longterm_pinning(fs):
    return fs in ("tmpfs", "hugetlbfs")


# The selftest accepts ENOSPC, EOPNOTSUPP or EFAULT as "refused" for io_uring; the lesson
# format has no "one of" for errno, so the errno NAME is chosen per era from
# docs/kernel-reference.md, 5.14 and 6.5 rows (io_uring refuses file-backed VMAs itself with EOPNOTSUPP before
# 6.5; GUP refuses with EFAULT from 6.5). This is the only use of kernel filters.
ERRNO_BY_ERA = [{"errno": "EOPNOTSUPP", "kernels": ["..6.4"]}, {"errno": "EFAULT", "kernels": ["6.5+"]}]


def body_gupl(ctx, kind, fast=False):
    """gup_longterm do_test(): kind = ro | rw | iouring."""
    shared, fs = ctx["shared"], ctx["fs"]
    rw = kind in ("rw", "iouring")
    should_work = (not shared) or (not rw) or fs_supports_writable_longterm_pinning(fs)
    st = []
    if kind == "ro":
        st += [S("mprotect", write=False, **rng(ctx))]
    if kind in ("ro", "rw"):
        g = S("gup", holder="h", pin=True, longterm=True, fast=fast, write=rw, **rng(ctx))
        if should_work:
            g["say"] = "[skip-if:EINVAL] PIN_LONGTERM_TEST_START. Pass criterion: the pin succeeds (Should have worked)."
            g["expect"] = [{"same_folio": ["holder:h", f"{ctx['p']}:{ctx['vma']}[0]"]}]
            st += [g, S("release", holder="h")]
        else:
            g["say"] = "[skip-if:EINVAL] PIN_LONGTERM_TEST_START. Pass criterion: it fails with EFAULT (Should have failed)."
            g["expect"] = [{"errno": "EFAULT"}]
            st += [g]
    else:
        g = S("io_uring_register", ring="r", **rng(ctx))
        if should_work:
            g["say"] = "io_uring_register_buffers. Pass criterion: registration succeeds (Should have worked)."
            g["expect"] = [{"same_folio": ["ring:r", f"{ctx['p']}:{ctx['vma']}[0]"]}]
            st += [g, S("io_uring_unregister", ring="r")]
        else:
            g["say"] = ("io_uring_register_buffers. Pass criterion: registration is refused with ENOSPC, "
                        "EOPNOTSUPP or EFAULT (Should have failed); errno name per era, see gen.py ERRNO_BY_ERA.")
            g["expect"] = [dict(e) for e in ERRNO_BY_ERA]
            st += [g]
    return st


GUPL_TESTS = [
    ("R/W longterm GUP pin in MAP_SHARED file mapping", True, lambda c: body_gupl(c, "rw", False)),
    ("R/W longterm GUP-fast pin in MAP_SHARED file mapping", True, lambda c: body_gupl(c, "rw", True)),
    ("R/O longterm GUP pin in MAP_SHARED file mapping", True, lambda c: body_gupl(c, "ro", False)),
    ("R/O longterm GUP-fast pin in MAP_SHARED file mapping", True, lambda c: body_gupl(c, "ro", True)),
    ("R/W longterm GUP pin in MAP_PRIVATE file mapping", False, lambda c: body_gupl(c, "rw", False)),
    ("R/W longterm GUP-fast pin in MAP_PRIVATE file mapping", False, lambda c: body_gupl(c, "rw", True)),
    ("R/O longterm GUP pin in MAP_PRIVATE file mapping", False, lambda c: body_gupl(c, "ro", False)),
    ("R/O longterm GUP-fast pin in MAP_PRIVATE file mapping", False, lambda c: body_gupl(c, "ro", True)),
    ("io_uring fixed buffer with MAP_SHARED file mapping", True, lambda c: body_gupl(c, "iouring")),
    ("io_uring fixed buffer with MAP_PRIVATE file mapping", False, lambda c: body_gupl(c, "iouring")),
]


# =================================================================== COMPOSE
def compose(group, test, variant_slug, variant_text, setup_steps, body_steps):
    name = f"{group}--{slug(test)}--{variant_slug}"
    src = "cow.c" if group.startswith("cow") else "gup_longterm.c"
    head = [
        f"# selftest: tools/testing/selftests/mm/{src}",
        f"# group:    {group}",
        f"# test:     {test}",
        f"# variant:  {variant_text}",
        "# Expectations encode the selftest's own pass criterion (generated by tools/selftests/gen.py).",
        f"id = {tv(name)}",
        f"title = {tv(test + ' ... with ' + variant_text)}",
        f"summary = {tv(f'{src} {group}: {test}, with {variant_text}.')}",
        f"objectives = {tv(['Reproduce the selftest case and its pass criterion.'])}",
        f"kernels = {tv(PRESETS)}",
        "",
    ]
    body = "\n\n".join(step_toml(s) for s in setup_steps + body_steps)
    with open(os.path.join(OUT, name + ".toml"), "w") as f:
        f.write("\n".join(head) + "\n# ---- setup: " + variant_slug + " / body: " + slug(test) + "\n\n" + body + "\n")
    return name


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        # Generated cases are named group--test--variant.toml; known.toml is hand-written.
        if f.endswith(".toml") and "--" in f:
            os.remove(os.path.join(OUT, f))
    names = []
    for test, body in ANON_TESTS:
        for vs, (vt, setup) in ANON_VARIANTS.items():
            st, ctx = setup()
            names.append(compose("cow-anon", test, vs, vt, st, body(ctx)))
    for test, body in ANON_THP_TESTS:
        st, ctx = setup_thp("pmd")
        names.append(compose("cow-anon-thp", test, "thp-2048kb", "THP (2048 kB)", st, body(ctx)))
    for test, body in NON_ANON_TESTS:
        for vs, (vt, setup) in NON_ANON_VARIANTS.items():
            st, ctx = setup()
            names.append(compose("cow-non-anon", test, vs, vt, st, body(ctx)))
    for test, shared, body in GUPL_TESTS:
        for vs, (vt, fs) in GUPL_VARIANTS.items():
            st, ctx = setup_gupl_file(fs, shared)
            names.append(compose("gup-longterm", test, vs, vt, st, body(ctx)))
    print(f"{len(names)} files in {os.path.normpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
