//! Page faults: mm/memory.c handle_mm_fault and the handlers it dispatches to
//! (docs/kernel-reference.md, rows 1-2 and 5-7).

use crate::data::Data;
use crate::error::{Errno, KResult, errno};
use crate::file::FsKind;
use crate::folio::{FolioKind, HPAGE_PMD_ORDER, Zone};
use crate::ids::{FileId, FolioId, Pid, ZERO_FOLIO};
use crate::mm::{Backing, Pte, Vma};
use crate::preset::ReuseRule;
use crate::step::{Ctx, ObjRef};
use std::sync::Arc;

const MEMORY_C: &str = "mm/memory.c";
const HUGE_MEMORY_C: &str = "mm/huge_memory.c";
const FILEMAP_C: &str = "mm/filemap.c";

pub const PMD_PAGES: u64 = 1 << HPAGE_PMD_ORDER;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    Read,
    Write,
    /// FAULT_FLAG_UNSHARE (5.19+): make the page exclusive, keep the PTE R/O.
    Unshare,
}

/// mm/memory.c: handle_mm_fault for one virtual page.
pub fn handle_mm_fault(ctx: &mut Ctx, pid: Pid, vpn: u64, kind: FaultKind) -> KResult<()> {
    let vma = ctx.w.vma(pid, vpn)?.clone();
    ctx.w.vmstat.pgfault += 1;
    match vma.pte(vpn) {
        Pte::None => match vma.backing {
            Backing::Anon if kind == FaultKind::Read => {
                map_zero_page(ctx, pid, vpn);
                Ok(())
            }
            Backing::Anon => {
                do_anonymous_page(ctx, pid, vpn, &vma);
                Ok(())
            }
            Backing::File { .. } => do_file_fault(ctx, pid, vpn, &vma, kind),
        },
        Pte::Swap { slot, exclusive } => do_swap_page(ctx, pid, vpn, &vma, slot, exclusive, kind),
        Pte::Present { writable, .. } => match kind {
            FaultKind::Read => Ok(()),
            FaultKind::Write if writable => Ok(()),
            _ => {
                do_wp_page(ctx, pid, vpn, &vma, kind);
                Ok(())
            }
        },
    }
}

fn map_zero_page(ctx: &mut Ctx, pid: Pid, vpn: u64) {
    ctx.step_batch("do_anonymous_page", MEMORY_C, "zero", || {
        "Read fault on untouched anonymous memory: map the shared zero page read-only (no folio is allocated, no reference is taken).".into()
    });
    ctx.touch(ObjRef::Page(pid, vpn));
    ctx.w.set_pte(pid, vpn, Pte::present(ZERO_FOLIO, 0, false, false));
}

/// Aligned block of `n` pages around `vpn` if it lies inside the VMA and is
/// entirely unpopulated.
fn empty_aligned_block(vma: &Vma, vpn: u64, n: u64) -> Option<u64> {
    let base = vpn & !(n - 1);
    if base < vma.start || base + n > vma.end() {
        return None;
    }
    (base..base + n).all(|v| vma.pte(v) == Pte::None).then_some(base)
}

/// mm/memory.c: do_anonymous_page (and do_huge_pmd_anonymous_page for THP).
fn do_anonymous_page(ctx: &mut Ctx, pid: Pid, vpn: u64, vma: &Vma) {
    let thp = vma.flags.hugepage && !vma.flags.nohugepage;
    let mthp = vma.anon_order > 0 && ctx.w.preset.has_anon_mthp() && !vma.flags.nohugepage;
    let (order, base, pmd) = match (thp, mthp) {
        (true, _) => match empty_aligned_block(vma, vpn, PMD_PAGES) {
            Some(b) => (HPAGE_PMD_ORDER, b, true),
            None => (0, vpn, false),
        },
        (false, true) => match empty_aligned_block(vma, vpn, 1 << vma.anon_order) {
            Some(b) => (vma.anon_order, b, false),
            None => (0, vpn, false),
        },
        _ => (0, vpn, false),
    };
    let zone = vma.zone;
    let ae = ctx.w.preset.tracks_anon_exclusive();
    if pmd {
        ctx.step(
            "do_huge_pmd_anonymous_page",
            HUGE_MEMORY_C,
            format!(
                "Write fault in a VM_HUGEPAGE region: allocate a 512-page THP and map it with one PMD (one reference, entire mapcount 1){}.",
                if ae { ", every page anon-exclusive" } else { "" }
            ),
        );
        ctx.w.vmstat.thp_fault_alloc += 1;
    } else if order > 0 {
        ctx.step(
            "do_anonymous_page",
            MEMORY_C,
            format!(
                "Write fault: allocate an order-{order} anonymous folio ({} pages, multi-size THP) and map every page writable; each PTE holds a reference.",
                1 << order
            ),
        );
    } else {
        ctx.step_batch("do_anonymous_page", MEMORY_C, "anon-write", || {
            format!(
                "Write fault on untouched anonymous memory: allocate a zeroed folio, map it writable and dirty{}, add it to the LRU.",
                if ae { ", mark it anon-exclusive" } else { "" }
            )
        });
    }
    ctx.w.anon_vma_prepare(pid, vpn);
    let id = ctx.w.alloc_folio(FolioKind::Anon, order, zone);
    let n = 1u64 << order;
    {
        let f = ctx.w.folio_mut(id);
        // The allocation reference becomes the mapping's reference.
        f.refcount = if pmd { 1 } else { n as i64 };
        if pmd {
            f.entire_mapcount = 1;
        }
        for p in f.pages.iter_mut() {
            if !pmd {
                p.mapcount = 1;
            }
            p.anon_exclusive = ae;
        }
    }
    ctx.w.lru_add_new_anon(id, vma.flags.locked);
    for i in 0..n {
        let pte = Pte::Present {
            folio: id,
            page: i as u16,
            writable: vma.flags.write,
            dirty: true,
            soft_dirty: true,
            pmd,
            young: true,
        };
        ctx.w.set_pte(pid, base + i, pte);
    }
    ctx.touch(ObjRef::Folio(id));
    ctx.touch(ObjRef::Page(pid, vpn));
}

/// mm/filemap.c: filemap_fault's page-cache lookup; reads the block on a miss.
pub fn filemap_get_folio(ctx: &mut Ctx, file: FileId, index: u64) -> KResult<FolioId> {
    let f = ctx.w.file(file);
    if index >= f.pages {
        return errno(
            Errno::EFAULT,
            format!("page {index} of '{}' is beyond the end of the file (SIGBUS)", f.name),
        );
    }
    if let Some(id) = f.cache.get(&index) {
        return Ok(*id);
    }
    let data = f.disk.get(index as usize).cloned().unwrap_or_default();
    let name = f.name.clone();
    match f.fs {
        // shmem has no blocks: a miss allocates a zeroed page (shmem_get_folio).
        FsKind::Tmpfs => ctx.step(
            "shmem_fault",
            "mm/shmem.c",
            format!("Miss in shmem object '{name}' page {index}: allocate a zeroed folio and insert it into the page cache (one reference) and the LRU."),
        ),
        FsKind::Hugetlbfs => ctx.step(
            "hugetlb_fault",
            "mm/hugetlb.c",
            format!("Miss in hugetlbfs file '{name}' page {index}: allocate a page for it and insert it into the page cache (one reference)."),
        ),
        _ => ctx.step(
            "filemap_fault",
            FILEMAP_C,
            format!("Page-cache miss for '{name}' page {index}: allocate a folio, read the block, insert it into the page cache (the cache holds one reference) and the LRU."),
        ),
    }
    let id = ctx.w.alloc_folio(FolioKind::File { file, index }, 0, Zone::Normal);
    ctx.w.folio_mut(id).pages[0].data = data;
    ctx.w.lru_add(id, false);
    ctx.w.file_mut(file).cache.insert(index, id);
    ctx.touch(ObjRef::Folio(id));
    ctx.touch(ObjRef::File(file));
    if ctx.w.file(file).fs == FsKind::Btrfs {
        btrfs_read_attaches_private(ctx, id);
    }
    Ok(id)
}

/// fs/btrfs/extent_io.c: the read itself attaches btrfs's private data:
/// __do_readpage (5.7-5.9) and btrfs_do_readpage (5.11+) call
/// set_page_extent_mapped (SetPagePrivate + get_page in 5.7,
/// attach_page_private in 5.14 and 6.1) or set_folio_extent_mapped
/// (folio_attach_private, 6.12 and 6.18) before reading. A btrfs folio that
/// was only read holds 2 references (3 once mapped) and PG_private.
fn btrfs_read_attaches_private(ctx: &mut Ctx, folio: FolioId) {
    let (func, path) = crate::names::btrfs_readpage(ctx.w.preset);
    ctx.step(
        func,
        path,
        format!("btrfs reads {folio}: set_page_extent_mapped attaches btrfs's private data to it before the read (PG_private, one more reference), even though nothing will write it."),
    );
    ctx.w.attach_private(folio);
    ctx.touch(ObjRef::Folio(folio));
}

/// Maps one page of a folio with a new PTE: one reference and one mapcount.
fn map_page(ctx: &mut Ctx, pid: Pid, vpn: u64, folio: FolioId, page: usize, writable: bool, dirty: bool) {
    let f = ctx.w.folio_mut(folio);
    f.refcount += 1;
    f.pages[page].mapcount += 1;
    ctx.w.set_pte(pid, vpn, Pte::present(folio, page, writable, dirty));
}

/// mm/memory.c: do_read_fault / do_cow_fault / do_shared_fault.
fn do_file_fault(ctx: &mut Ctx, pid: Pid, vpn: u64, vma: &Vma, kind: FaultKind) -> KResult<()> {
    let (file, index) = vma.file_index(vpn).expect("file vma");
    let folio = filemap_get_folio(ctx, file, index)?;
    let fs = ctx.w.file(file).fs;
    if vma.flags.shared {
        if kind == FaultKind::Write {
            ctx.step(
                "do_shared_fault",
                MEMORY_C,
                if fs.attaches_private() {
                    "Write fault on a shared file mapping: ->page_mkwrite lets the filesystem prepare the block and attach its private data (buffer heads on ext4, extent state on btrfs: one more reference), the folio is marked dirty and mapped writable."
                } else if fs.dirty_tracked() {
                    "Write fault on a shared file mapping: ->page_mkwrite (iomap) lets the filesystem prepare the block; with one block per folio iomap attaches no private data. The folio is marked dirty and mapped writable."
                } else {
                    "Write fault on a shared memory-filesystem mapping: the folio is marked dirty and mapped writable (no write notification)."
                },
            );
            page_mkwrite(ctx, folio);
            map_page(ctx, pid, vpn, folio, 0, true, true);
        } else {
            // Without write notification (shmem, hugetlbfs) vm_page_prot is writable.
            let writable = vma.flags.write && !fs.dirty_tracked();
            ctx.step_batch("do_read_fault", MEMORY_C, "file-read-shared", || {
                "Read fault on a shared file mapping: map the page-cache folio (one more reference and mapcount)."
                    .into()
            });
            map_page(ctx, pid, vpn, folio, 0, writable, false);
        }
    } else if kind == FaultKind::Read {
        ctx.step_batch("do_read_fault", MEMORY_C, "file-read-private", || {
            "Read fault on a private file mapping: map the page-cache folio read-only (a later write copies it).".into()
        });
        map_page(ctx, pid, vpn, folio, 0, false, false);
    } else {
        ctx.step(
            "do_cow_fault",
            MEMORY_C,
            "Write fault on a private file mapping: copy the page-cache page into a new anonymous, anon-exclusive folio; the page cache itself is not mapped.",
        );
        let data = ctx.w.folio(folio).pages[0].data.clone();
        new_anon_copy(ctx, pid, vpn, vma, data, kind);
    }
    ctx.touch(ObjRef::Folio(folio));
    ctx.touch(ObjRef::Page(pid, vpn));
    Ok(())
}

/// ->page_mkwrite + folio_mark_dirty: the filesystem is told before the page
/// becomes writable (block allocation; ext4 and btrfs attach their private
/// data, which holds a reference: `FsKind::attaches_private`).
pub fn page_mkwrite(ctx: &mut Ctx, folio: FolioId) {
    let f = ctx.w.folio_mut(folio);
    f.flags.dirty = true;
    if let FolioKind::File { file, .. } = f.kind
        && ctx.w.file(file).fs.attaches_private()
    {
        ctx.w.attach_private(folio);
    }
}

/// Allocates an anon-exclusive copy and maps it at `vpn` (wp_page_copy's second half).
fn new_anon_copy(ctx: &mut Ctx, pid: Pid, vpn: u64, vma: &Vma, data: Data, kind: FaultKind) -> FolioId {
    let zone = vma.zone;
    let ae = ctx.w.preset.tracks_anon_exclusive();
    ctx.w.anon_vma_prepare(pid, vpn);
    let id = ctx.w.alloc_folio(FolioKind::Anon, 0, zone);
    {
        let f = ctx.w.folio_mut(id);
        f.pages[0].data = data;
        f.pages[0].anon_exclusive = ae;
        f.pages[0].mapcount = 1;
    }
    ctx.w.lru_add_new_anon(id, vma.flags.locked);
    let pte = if kind == FaultKind::Unshare {
        // An unshare fault never produces a writable PTE.
        Pte::present(id, 0, false, false)
    } else {
        Pte::present(id, 0, vma.flags.write, true)
    };
    ctx.w.set_pte(pid, vpn, pte);
    ctx.touch(ObjRef::Folio(id));
    id
}

/// Splits the PMD mapping `vpn` into 512 PTEs (mm/huge_memory.c:
/// __split_huge_pmd_locked): the PMD's reference becomes one per PTE.
pub fn split_pmd(ctx: &mut Ctx, pid: Pid, vpn: u64) {
    let base = vpn & !(PMD_PAGES - 1);
    let Some((folio, _)) = ctx.w.pte(pid, base).folio() else {
        return;
    };
    ctx.step(
        "__split_huge_pmd",
        HUGE_MEMORY_C,
        "Split the THP's PMD into 512 PTEs: the PMD's one reference becomes one reference per PTE, and every page gets its own mapcount.",
    );
    ctx.w.vmstat.thp_split_pmd += 1;
    for i in 0..PMD_PAGES {
        let mut p = ctx.w.pte(pid, base + i);
        if let Pte::Present { pmd: pmd @ true, .. } = &mut p {
            *pmd = false;
            ctx.w.set_pte(pid, base + i, p);
        }
    }
    let f = ctx.w.folio_mut(folio);
    f.entire_mapcount -= 1;
    f.refcount += PMD_PAGES as i64 - 1;
    for p in f.pages.iter_mut() {
        p.mapcount += 1;
    }
    ctx.touch(ObjRef::Folio(folio));
}

/// The reuse decision of do_wp_page / do_huge_pmd_wp_page for an anon page.
/// Returns whether to reuse and whether PageAnonExclusive must be set.
fn anon_reuse(ctx: &mut Ctx, pid: Pid, folio: FolioId, page: usize, pmd: bool) -> bool {
    let preset = ctx.w.preset;
    let rule = if pmd {
        preset.pmd_thp_reuse_rule()
    } else {
        preset.anon_reuse_rule()
    };
    // 53a05ad9f21d (5.18): an otherwise exclusive page still in the swap cache
    // gets its swap slot freed so that the refcount test can pass.
    let f = ctx.w.folio(folio);
    if preset.wp_frees_swapcache()
        && f.flags.swapcache
        && f.refcount == 2
        && !f.is_large()
        && let Some(slot) = f.swap_slot
        && ctx.w.swap.get(&slot).is_some_and(|s| s.count == 0)
    {
        crate::swap::delete_from_swap_cache(ctx, folio);
    }
    let f = ctx.w.folio(folio);
    match rule {
        // reuse_swap_page(): mapcount (+ swap count) <= 1; GUP refs are invisible.
        // For a THP, page_trans_huge_mapcount takes the largest mapcount of
        // any subpage (PMD mappings included).
        // The swap PTEs still naming its slot count as users; a folio its
        // only user may reuse leaves the swap cache (delete_from_swap_cache,
        // unless under writeback, when reuse_swap_page keeps it there).
        ReuseRule::Mapcount => {
            let mapcount = if f.is_large() {
                (0..f.nr_pages()).map(|i| f.page_mapcount(i)).max().unwrap_or(0)
            } else {
                f.page_mapcount(page)
            };
            let swapcount = f
                .swap_slot
                .and_then(|s| ctx.w.swap.get(&s))
                .map_or(0, |e| e.count as i32);
            let reuse = mapcount + swapcount <= 1;
            if reuse && f.flags.swapcache && !f.flags.writeback && !f.is_large() {
                crate::swap::delete_from_swap_cache(ctx, folio);
            }
            reuse
        }
        // 09854ba94c6a: only the faulting mapping may hold a reference.
        ReuseRule::Refcount => f.refcount == 1,
        ReuseRule::AnonExclusive => {
            if f.pages[page].anon_exclusive {
                return true;
            }
            if f.is_large() && !pmd && preset.reuses_large_anon_folio_by_refcount() {
                // 5.19-6.8: the small-folio test, and only the faulting page
                // becomes exclusive (page_move_anon_rmap / folio_move_anon_rmap
                // + SetPageAnonExclusive(vmf->page)).
                let ok = f.refcount == 1;
                if ok {
                    ctx.w.folio_mut(folio).pages[page].anon_exclusive = true;
                }
                return ok;
            }
            if f.is_large() && !pmd {
                // __wp_can_reuse_large_anon_folio (6.15): more than one page
                // mapped, only in this mm, and no reference but the mappings.
                // 6.12 never reuses a large PTE-mapped folio.
                let mapped = f.total_mapcount() as i64;
                let ok = preset.reuses_exclusive_large_anon_folios()
                    && mapped > 1
                    && mapped == f.refcount
                    && mappings_in(ctx, pid, folio) == mapped;
                if ok {
                    ctx.w.folio_mut(folio).pages[page].anon_exclusive = true;
                }
                return ok;
            }
            // wp_can_reuse_anon_folio: only the faulting mapping holds it.
            let ok = f.refcount == 1;
            if ok {
                let f = ctx.w.folio_mut(folio);
                for p in f.pages.iter_mut() {
                    p.anon_exclusive = true;
                }
            }
            ok
        }
    }
}

/// How many of `pid`'s PTEs map `folio` (the MM-ID check of
/// __wp_can_reuse_large_anon_folio asks whether they are all of them).
fn mappings_in(ctx: &Ctx, pid: Pid, folio: FolioId) -> i64 {
    ctx.w
        .proc(pid)
        .mm
        .vmas
        .values()
        .flat_map(|v| v.ptes.iter())
        .filter(|p| p.folio().is_some_and(|(f, _)| f == folio))
        .count() as i64
}

/// mm/memory.c: do_wp_page (write or unshare fault on a present R/O PTE).
fn do_wp_page(ctx: &mut Ctx, pid: Pid, vpn: u64, vma: &Arc<Vma>, kind: FaultKind) {
    let pte = vma.pte(vpn);
    let Pte::Present { folio, page, pmd, .. } = pte else {
        return;
    };
    let page = page as usize;
    ctx.touch(ObjRef::Page(pid, vpn));
    ctx.touch(ObjRef::Folio(folio));
    let f = ctx.w.folio(folio).clone();
    if vma.flags.shared && kind == FaultKind::Write {
        ctx.step(
            "wp_page_shared",
            MEMORY_C,
            "Write fault on a read-only PTE of a shared mapping: ->page_mkwrite tells the filesystem, the folio is dirtied and the PTE made writable (no copy).",
        );
        page_mkwrite(ctx, folio);
        let mut p = pte;
        if let Pte::Present { writable, dirty, .. } = &mut p {
            *writable = true;
            *dirty = true;
        }
        ctx.w.set_pte(pid, vpn, p);
        return;
    }
    if f.is_anon() {
        let reuse = anon_reuse(ctx, pid, folio, page, pmd);
        if reuse {
            let rule = if pmd {
                ctx.w.preset.pmd_thp_reuse_rule()
            } else {
                ctx.w.preset.anon_reuse_rule()
            };
            let why = match rule {
                ReuseRule::Mapcount => {
                    "the page is mapped only once (reuse_swap_page looks at the mapcount and ignores GUP references)"
                }
                ReuseRule::Refcount => "the folio's refcount is 1, so nobody else holds it",
                ReuseRule::AnonExclusive => "the page is (or could be made) anon-exclusive",
            };
            let (func, path) = if pmd {
                ("do_huge_pmd_wp_page", HUGE_MEMORY_C)
            } else {
                ("wp_page_reuse", MEMORY_C)
            };
            if kind == FaultKind::Unshare {
                ctx.step(func, path, format!("Unshare fault: reuse the page because {why}; it is now anon-exclusive and the PTE stays read-only."));
                return;
            }
            ctx.step(
                func,
                path,
                format!("Write fault: reuse the page in place because {why}; the PTE becomes writable and dirty."),
            );
            let targets: Vec<u64> = if pmd {
                let base = vpn & !(PMD_PAGES - 1);
                (base..base + PMD_PAGES).collect()
            } else {
                vec![vpn]
            };
            for v in targets {
                let mut p = ctx.w.pte(pid, v);
                if let Pte::Present { writable, dirty, .. } = &mut p {
                    *writable = vma.flags.write;
                    *dirty = true;
                }
                ctx.w.set_pte(pid, v, p);
            }
            return;
        }
        if pmd && ctx.w.preset.pmd_cow_copies_whole_thp() {
            huge_pmd_copy(ctx, pid, vpn, vma, folio);
            return;
        }
        if pmd {
            split_pmd(ctx, pid, vpn);
        }
    }
    wp_page_copy(ctx, pid, vpn, vma, kind);
}

/// mm/huge_memory.c (5.7): do_huge_pmd_wp_page on a shared PMD-mapped THP
/// allocates a new THP, copies all 512 pages into it (copy_user_huge_page)
/// and maps it with a writable PMD; the old THP loses this PMD's mapping and
/// reference (page_remove_rmap(page, true), put_page).
fn huge_pmd_copy(ctx: &mut Ctx, pid: Pid, vpn: u64, vma: &Vma, old: FolioId) {
    let base = vpn & !(PMD_PAGES - 1);
    ctx.step(
        "do_huge_pmd_wp_page",
        HUGE_MEMORY_C,
        format!("Write fault on a shared THP (5.7): allocate a new 512-page THP, copy every page of {old} into it (copy_user_huge_page) and map it with a writable PMD; {old} loses this mapping and its reference (thp_fault_alloc +1)."),
    );
    ctx.w.vmstat.thp_fault_alloc += 1;
    let new = ctx.w.alloc_folio(FolioKind::Anon, HPAGE_PMD_ORDER, vma.zone);
    let pages = ctx.w.folio(old).pages.clone();
    {
        let f = ctx.w.folio_mut(new);
        f.refcount = 1;
        f.entire_mapcount = 1;
        f.pages = pages;
        for p in f.pages.iter_mut() {
            p.mapcount = 0;
            p.anon_exclusive = false;
        }
    }
    ctx.w.lru_add_new_anon(new, vma.flags.locked);
    for i in 0..PMD_PAGES {
        let pte = Pte::Present {
            folio: new,
            page: i as u16,
            writable: vma.flags.write,
            dirty: true,
            soft_dirty: true,
            pmd: true,
            young: true,
        };
        ctx.w.set_pte(pid, base + i, pte);
    }
    ctx.w.folio_mut(old).entire_mapcount -= 1;
    ctx.w.folio_put(old, 1);
    ctx.touch(ObjRef::Folio(old));
    ctx.touch(ObjRef::Folio(new));
}

/// mm/memory.c: wp_page_copy: give this mapping its own copy.
fn wp_page_copy(ctx: &mut Ctx, pid: Pid, vpn: u64, vma: &Vma, kind: FaultKind) {
    let (old, page) = ctx.w.pte(pid, vpn).folio().expect("present");
    let of = ctx.w.folio(old);
    let what = match of.kind {
        FolioKind::Zero => "the zero page",
        FolioKind::File { .. } => "a page-cache page",
        _ => "a shared anonymous page",
    };
    let verb = if kind == FaultKind::Unshare {
        "Unshare fault"
    } else {
        "Write fault"
    };
    let data = of.pages[page].data.clone();
    ctx.step(
        "wp_page_copy",
        MEMORY_C,
        format!(
            "{verb} on {what}: copy it into a new {}folio mapped {}; the old page loses this mapping's reference and mapcount.",
            if ctx.w.preset.tracks_anon_exclusive() { "anon-exclusive " } else { "anonymous " },
            if kind == FaultKind::Unshare || !vma.flags.write { "read-only" } else { "writable" }
        ),
    );
    ctx.touch(ObjRef::Folio(old));
    new_anon_copy(ctx, pid, vpn, vma, data, kind);
    if old != ZERO_FOLIO {
        ctx.w.folio_mut(old).pages[page].mapcount -= 1;
        ctx.w.folio_put(old, 1);
    }
}

/// mm/memory.c: do_swap_page: bring an anon page back from swap.
fn do_swap_page(
    ctx: &mut Ctx,
    pid: Pid,
    vpn: u64,
    vma: &Arc<Vma>,
    slot: u32,
    exclusive: bool,
    kind: FaultKind,
) -> KResult<()> {
    let preset = ctx.w.preset;
    let entry = ctx.w.swap.get(&slot).cloned().expect("swap slot");
    let folio = match entry.cache {
        Some(f) => {
            ctx.step(
                "do_swap_page",
                MEMORY_C,
                "Swap-in: the folio is still in the swap cache; map it again.",
            );
            f
        }
        None => {
            ctx.step(
                "do_swap_page",
                MEMORY_C,
                "Swap-in: allocate a folio, read the slot into it and add it to the swap cache (one reference).",
            );
            ctx.w.vmstat.pswpin += 1;
            let zone = vma.zone;
            let id = ctx.w.alloc_folio(FolioKind::Anon, 0, zone);
            let f = ctx.w.folio_mut(id);
            f.pages[0].data = entry.data.clone();
            f.flags.swapcache = true;
            f.swap_slot = Some(slot);
            ctx.w.lru_add(id, vma.flags.locked);
            ctx.w.swap.get_mut(&slot).expect("slot").cache = Some(id);
            id
        }
    };
    ctx.touch(ObjRef::Folio(folio));
    ctx.touch(ObjRef::Page(pid, vpn));
    {
        let f = ctx.w.folio_mut(folio);
        f.refcount += 1;
        f.pages[0].mapcount += 1;
    }
    // Map read-only first, so that every micro-step boundary is consistent.
    ctx.w.set_pte(pid, vpn, Pte::present(folio, 0, false, false));
    let remaining = {
        let e = ctx.w.swap.get_mut(&slot).expect("slot");
        e.count -= 1;
        e.count
    };
    // mm/memory.c: do_swap_page -> should_try_to_free_swap (5.19 on; before,
    // the same through reuse_swap_page on a write fault): the folio leaves
    // the swap cache only when no swap PTE needs the slot and it is mlocked,
    // or this is a write fault by its only user (refcount 2: the swap
    // cache's and this mapping's); folio_free_swap refuses under writeback.
    // After a read fault it stays in the swap cache with that cache's
    // reference: pinlab probe found refcount 2 on Linux 6.1 in a VM, where
    // the model (which dropped the cache whenever the last swap PTE went)
    // said 1. Not modelled: mem_cgroup_swap_full (swap over half full).
    let f = ctx.w.folio(folio);
    let only_user = f.refcount == 2;
    let locked = vma.flags.locked || f.flags.mlocked;
    if remaining == 0 && !f.flags.writeback && (locked || (kind == FaultKind::Write && only_user)) {
        crate::swap::delete_from_swap_cache(ctx, folio);
    }
    let f = ctx.w.folio(folio);
    let reuse = match preset.swapin_reuse_rule() {
        ReuseRule::AnonExclusive => exclusive || f.refcount == 1,
        ReuseRule::Refcount => f.refcount == 1,
        ReuseRule::Mapcount => f.pages[0].mapcount + remaining as i32 <= 1,
    };
    if reuse && preset.anon_reuse_rule() == ReuseRule::AnonExclusive {
        ctx.w.folio_mut(folio).pages[0].anon_exclusive = true;
    }
    let write = kind == FaultKind::Write;
    ctx.w.set_pte(
        pid,
        vpn,
        Pte::present(folio, 0, reuse && write && vma.flags.write, reuse && write),
    );
    if write && !reuse {
        let vma = ctx.w.vma(pid, vpn)?.clone();
        do_wp_page(ctx, pid, vpn, &vma, kind);
    }
    Ok(())
}
