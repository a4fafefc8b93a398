//! io_uring fixed buffers (io_sqe_buffer_register: fs/io_uring.c, io_uring/rsrc.c
//! from 6.0): long-term writable pins, dropped at unregistration or when the
//! ring's owner exits.

use crate::error::{Errno, KResult, errno};
use crate::file::FsKind;
use crate::gup::{GupFlags, drop_holder_pages, gup_into_holder, put_grab};
use crate::holder::{Grab, HeldPage, HolderKind};
use crate::ids::Pid;
use crate::mm::Backing;
use crate::preset::{IoUringCoalesce, IoUringFileRule, Preset};
use crate::step::{Ctx, ObjRef};
use crate::world::World;

/// Before 6.5 io_uring itself refuses file-backed buffers other than
/// hugetlbfs (and shmem, accepted from 5.14): the reason, if this range is one.
fn refused_file_backing(ctx: &Ctx, pid: Pid, first: u64, n: u64) -> KResult<Option<String>> {
    let rule = ctx.w.preset.io_uring_file_rule();
    if rule == IoUringFileRule::GupDecides {
        return Ok(None);
    }
    let mut vpn = first;
    while vpn < first + n {
        let vma = ctx.w.vma(pid, vpn)?.clone();
        if let Backing::File { file, .. } = vma.backing {
            let fs = ctx.w.file(file).fs;
            let shmem_ok = fs == FsKind::Tmpfs && rule == IoUringFileRule::AnonShmemHugetlbOnly;
            if fs != FsKind::Hugetlbfs && !shmem_ok {
                return Ok(Some(format!(
                    "io_uring refuses a {fs:?}-backed fixed buffer (only anonymous, hugetlbfs and, from 5.14, shmem memory)"
                )));
            }
        }
        vpn = vma.end();
    }
    Ok(None)
}

pub fn register(ctx: &mut Ctx, pid: Pid, first: u64, n: u64, ring: &str) -> KResult<()> {
    let refused = refused_file_backing(ctx, pid, first, n)?;
    let preset = ctx.w.preset;
    let (func, path) = crate::names::io_uring_register(preset);
    // io_pin_pages: pin_user_pages with FOLL_WRITE|FOLL_LONGTERM through 6.8,
    // pin_user_pages_fast from 6.12 (io_uring/memmap.c).
    let fast = preset >= Preset::V6_12;
    ctx.step(
        func,
        path,
        format!(
            "IORING_REGISTER_BUFFERS: {} pins {n} page(s) with FOLL_WRITE|FOLL_LONGTERM for ring '{ring}'.",
            if fast { "pin_user_pages_fast" } else { "pin_user_pages" }
        ),
    );
    let flags = GupFlags {
        pin: true,
        write: true,
        longterm: true,
        fast,
        force: false,
    };
    gup_into_holder(ctx, pid, first, n, flags, ring, HolderKind::IoUring)?;
    if let Some(why) = refused {
        // The VMAs are looked at only after the pin (the pin's faults, its
        // counters and MMF_HAS_PINNED stay): unpin_user_pages, then refuse.
        ctx.step(
            func,
            path,
            format!("The pinned pages' VMAs are checked only now: {why}. unpin_user_pages drops the pins and the registration fails with EOPNOTSUPP; the faults taken and the mm's pin flag stay."),
        );
        drop_holder_pages(ctx, ring, false)?;
        ctx.keep_on_failure();
        return errno(Errno::EOPNOTSUPP, why);
    }
    coalesce(ctx, ring)
}

/// Which pages keep their pin when io_uring coalesces a buffer into one bvec
/// per folio: None when the buffer does not qualify.
fn coalesce_plan(w: &World, pages: &[HeldPage], mode: IoUringCoalesce) -> Option<Vec<bool>> {
    if pages.len() < 2 || mode == IoUringCoalesce::Never {
        return None;
    }
    // Consecutive pages of one folio (pages[i] == pages[i - 1] + 1).
    let next = |a: &HeldPage, b: &HeldPage| a.folio == b.folio && b.page == a.page + 1;
    match mode {
        IoUringCoalesce::Never => None,
        // 6.3: the whole buffer lies in one folio.
        IoUringCoalesce::OneFolio => pages.windows(2).all(|p| next(&p[0], &p[1])).then(|| {
            std::iter::once(true)
                .chain(std::iter::repeat_n(false, pages.len() - 1))
                .collect()
        }),
        // 6.12 io_check_coalesce_buffer: folios of one size (larger than a
        // page); the first may start anywhere but runs to its end, the others
        // start at their first page, and only the last may end early.
        IoUringCoalesce::AcrossFolios => {
            let size = w.folio(pages[0].folio).nr_pages();
            if size == 1 {
                return None;
            }
            let mut keep = vec![true];
            for i in 1..pages.len() {
                if next(&pages[i - 1], &pages[i]) {
                    keep.push(false);
                    continue;
                }
                let prev = &pages[i - 1];
                if prev.page as usize != size - 1 || pages[i].page != 0 {
                    return None;
                }
                if w.folio(pages[i].folio).nr_pages() != size {
                    return None;
                }
                keep.push(true);
            }
            Some(keep)
        }
    }
}

/// io_sqe_buffer_register's coalescing (6.3+): when the buffer's pages are
/// consecutive pages of one large folio (of folios of one size from 6.12),
/// unpin_user_pages drops every pin but one per folio; the buffer becomes one
/// bvec per folio, and io_buffer_unmap later unpins that one.
fn coalesce(ctx: &mut Ctx, ring: &str) -> KResult<()> {
    let mode = ctx.w.preset.io_uring_coalesce();
    let h = ctx.w.holder(ring)?.clone();
    let Some(keep) = coalesce_plan(&ctx.w, &h.pages, mode) else {
        return Ok(());
    };
    let drop = keep.iter().filter(|k| !**k).count();
    let folios = keep.len() - drop;
    let (func, path) = crate::names::io_uring_coalesce(ctx.w.preset);
    ctx.step(
        func,
        path,
        format!(
            "The {} page(s) are consecutive pages of {folios} large folio(s): unpin_user_pages drops {drop} pin(s) and keeps one per folio, so the buffer is {folios} bvec(s) (nr_foll_pin_released +{drop}).",
            keep.len()
        ),
    );
    let mut pages = h.pages.clone();
    for (hp, k) in pages.iter_mut().zip(&keep) {
        if !k && !hp.no_grab {
            put_grab(ctx, hp.folio, Grab::Pin);
            hp.no_grab = true;
            ctx.touch(ObjRef::Folio(hp.folio));
        }
    }
    let hm = ctx.w.holders.get_mut(ring).expect("registered");
    std::sync::Arc::make_mut(hm).pages = pages;
    ctx.touch(ObjRef::Holder(ring.to_string()));
    Ok(())
}

pub fn unregister(ctx: &mut Ctx, ring: &str) -> KResult<()> {
    let h = ctx.w.holder(ring)?;
    if h.kind != HolderKind::IoUring {
        return crate::error::invalid(format!("'{ring}' is not an io_uring buffer registration"));
    }
    let preset = ctx.w.preset;
    let (func, path) = crate::names::io_uring_unregister(preset);
    // One unpin per bvec: unpin_user_page (5.7-6.12), unpin_user_folio through
    // io_release_ubuf in 6.18; never unpin_user_pages.
    let unpin = if preset >= Preset::V6_18 {
        "unpin_user_folio(folio, 1)"
    } else {
        "unpin_user_page"
    };
    ctx.step(
        func,
        path,
        format!("IORING_UNREGISTER_BUFFERS: {unpin} on each bvec's page of ring '{ring}' (-1024 on a small folio, -1 and pincount -1 on a large one; nr_foll_pin_released +1 per bvec)."),
    );
    drop_holder_pages(ctx, ring, false)
}
