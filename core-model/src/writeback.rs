//! Writeback of dirty page-cache folios and fsync (mm/page-writeback.c;
//! docs/model.md, "Writeback"). Mainline never looks at pins
//! here; the what-if toggle `pinned_writeback` shows the alternatives.

use crate::bio::{BioFlags, BioInfo, BioOp, BioPurpose, submit};
use crate::error::KResult;
use crate::folio::{FolioKind, LruList, Zone};
use crate::hazard::HazardKind;
use crate::holder::{Grab, HeldPage, Holder};
use crate::ids::{FileId, FolioId};
use crate::mm::Pte;
use crate::preset::Preset;
use crate::step::{Ctx, ObjRef};
use crate::whatif::PinnedWriteback;

const PAGE_WRITEBACK_C: &str = "mm/page-writeback.c";

/// Every (pid, vpn) whose PTE maps `folio` (the rmap walk).
pub fn mappings_of(ctx: &Ctx, folio: FolioId) -> Vec<(crate::ids::Pid, u64)> {
    let mut out = Vec::new();
    for p in ctx.w.procs.values() {
        for vma in p.mm.vmas.values() {
            for (i, pte) in vma.ptes.iter().enumerate() {
                if pte.folio().is_some_and(|(f, _)| f == folio) {
                    out.push((p.pid, vma.start + i as u64));
                }
            }
        }
    }
    out
}

/// mm/rmap.c: folio_mkclean: write-protect and clean every shared PTE mapping
/// the folio; returns whether one of them was dirty.
fn folio_mkclean(ctx: &mut Ctx, folio: FolioId) -> bool {
    let mut was_dirty = false;
    for (pid, vpn) in mappings_of(ctx, folio) {
        let shared = ctx.w.proc(pid).mm.vma_at(vpn).is_some_and(|v| v.flags.shared);
        if !shared {
            continue;
        }
        let mut pte = ctx.w.pte(pid, vpn);
        if let Pte::Present { writable, dirty, .. } = &mut pte {
            was_dirty |= *dirty;
            *writable = false;
            *dirty = false;
        }
        ctx.w.set_pte(pid, vpn, pte);
        ctx.touch(ObjRef::Page(pid, vpn));
    }
    was_dirty
}

/// Writes the dirty folios of `file` in [first, first+n): folio_clear_dirty_for_io,
/// then a write bio each; `wait` completes them at once (integrity writeback).
pub fn writeback_range(ctx: &mut Ctx, file: FileId, first: u64, n: u64, wait: bool) -> KResult<()> {
    if !ctx.w.file(file).fs.has_disk() {
        return Ok(());
    }
    let cached: Vec<(u64, FolioId)> = ctx
        .w
        .file(file)
        .cache
        .range(first..first.saturating_add(n))
        .map(|(i, f)| (*i, *f))
        .collect();
    for (index, folio) in cached {
        // Integrity writeback waits for writeback already in flight.
        let inflight = format!("wb-{}-{index}", ctx.w.file(file).name);
        if wait && ctx.w.holders.contains_key(&inflight) {
            crate::bio::complete(ctx, &inflight)?;
        }
        writeback_folio(ctx, file, index, folio, wait)?;
    }
    Ok(())
}

fn writeback_folio(ctx: &mut Ctx, file: FileId, index: u64, folio: FolioId, wait: bool) -> KResult<()> {
    let f = ctx.w.folio(folio);
    if f.flags.writeback {
        return Ok(());
    }
    let pte_dirty = mappings_of(ctx, folio)
        .iter()
        .any(|(p, v)| ctx.w.pte(*p, *v).is_dirty());
    if !f.flags.dirty && !pte_dirty {
        return Ok(());
    }
    let fname = ctx.w.file(file).name.clone();
    let pinned = f.maybe_dma_pinned();
    let mode = ctx.w.whatif.pinned_writeback;
    if pinned && mode == PinnedWriteback::Skip {
        ctx.step(
            "write_cache_pages (what-if: skip pinned)",
            PAGE_WRITEBACK_C,
            format!("{folio} ('{fname}' page {index}) may be DMA-pinned: skip it and leave it dirty."),
        );
        ctx.touch(ObjRef::Folio(folio));
        if wait {
            let text = format!(
                "fsync of '{fname}' returns, but page {index} was skipped because it is pinned: its data is not on disk, and a pin held for days keeps it that way."
            );
            ctx.hazard(
                HazardKind::FsyncIncomplete,
                text,
                vec![ObjRef::Folio(folio), ObjRef::File(file)],
            );
        }
        return Ok(());
    }
    let bounce = pinned && mode == PinnedWriteback::Bounce;
    let mkclean = crate::names::mkclean(ctx.w.preset);
    let text = if bounce {
        format!(
            "Writeback of '{fname}' page {index}: {mkclean} write-protects and cleans every PTE mapping {folio}; the folio may be pinned, so (what-if) a copy is written and the folio itself stays dirty, not under writeback."
        )
    } else {
        format!(
            "Writeback of '{fname}' page {index}: {mkclean} write-protects and cleans every PTE mapping {folio} (moving their dirty bits to the folio), PG_dirty is cleared and PG_writeback set. Pins are not looked at."
        )
    };
    let (func, path) = crate::names::clear_dirty_for_io(ctx.w.preset);
    ctx.step(func, path, text);
    ctx.touch(ObjRef::Folio(folio));
    folio_mkclean(ctx, folio);
    let buffers = ctx.w.folio(folio).flags.private;
    let fs = ctx.w.file(file).fs;
    if !buffers && fs == crate::file::FsKind::Ext4 {
        // ext4_writepages meets a dirty page without buffers (Jan Kara, 2018).
        let text = if ctx.w.preset >= Preset::V5_18 {
            format!(
                "ext4 finds {folio} dirty but without buffers: it warns, clears the dirty bit and skips the page (cc5095747edf, 5.18): the data written into it is never written to disk."
            )
        } else {
            format!(
                "ext4 finds {folio} dirty but without buffers: ext4_writepages -> mpage_prepare_extent_to_map calls page_buffers(), whose BUG_ON crashes the kernel (fixed to a warning in 5.18)."
            )
        };
        ctx.hazard(
            HazardKind::DirtyWithoutBuffers,
            text,
            vec![ObjRef::Folio(folio), ObjRef::File(file)],
        );
        ctx.w.folio_mut(folio).flags.dirty = false;
        return Ok(());
    }
    let name = format!("wb-{fname}-{index}");
    let page = if bounce {
        // The RFC's bounce: write a stable copy, keep the original dirty.
        let copy = ctx.w.alloc_folio(FolioKind::Kernel, 0, Zone::Normal);
        let data = ctx.w.folio(folio).pages[0].data.clone();
        ctx.w.folio_mut(copy).pages[0].data = data;
        ctx.w
            .kbufs
            .insert(format!("bounce:{name}"), std::sync::Arc::new(vec![copy]));
        ctx.step(
            "bounce (what-if)",
            "(Jan Kara's 2023 RFC)",
            format!("{folio} may be DMA-pinned: copy it into a bounce page and write the copy; the original stays dirty for the next writeback."),
        );
        ctx.touch(ObjRef::Folio(copy));
        copy
    } else {
        ctx.w.folio_mut(folio).flags.dirty = false;
        folio
    };
    let info = BioInfo {
        op: BioOp::Write,
        flags: BioFlags::default(),
        purpose: BioPurpose::Writeback,
        file,
        block: index,
        dirty_user_pages: false,
        bounce_of: bounce.then_some(folio),
    };
    let held = vec![HeldPage {
        folio: page,
        page: 0,
        owner: None,
        vpn: 0,
        no_grab: false,
    }];
    submit(ctx, &name, Grab::List, held, info)?;
    if !bounce {
        ctx.w.folio_mut(folio).flags.writeback = true;
    }
    if wait {
        crate::bio::complete(ctx, &name)?;
    }
    Ok(())
}

/// folio_end_writeback (and freeing of a bounce page).
pub fn end_writeback(ctx: &mut Ctx, h: &Holder, info: &BioInfo) {
    let (func, path) = crate::names::end_writeback(ctx.w.preset);
    ctx.step(func, path, "The write is on disk: clear PG_writeback.");
    for hp in &h.pages {
        if info.bounce_of.is_some() {
            let key = format!("bounce:{}", h.name);
            ctx.w.kbufs.remove(&key);
            ctx.w.folio_put(hp.folio, 1);
        } else if !ctx.w.folio(hp.folio).freed {
            let f = ctx.w.folio_mut(hp.folio);
            f.flags.writeback = false;
            // folio_rotate_reclaimable: reclaim asked for it (PG_reclaim),
            // so the clean folio goes to the tail of the inactive list.
            if std::mem::take(&mut f.flags.reclaim)
                && !f.flags.dirty
                && matches!(f.lru, Some(LruList::Inactive | LruList::Active))
            {
                ctx.w.lru_move(hp.folio, LruList::Inactive, false);
            }
        }
        ctx.touch(ObjRef::Folio(hp.folio));
    }
}

/// fsync(2): write back everything dirty and wait (file_write_and_wait_range),
/// then flush the device cache.
pub fn fsync(ctx: &mut Ctx, file: FileId) -> KResult<()> {
    let f = ctx.w.file(file);
    let (name, pages, disk) = (f.name.clone(), f.pages, f.fs.has_disk());
    ctx.step(
        "file_write_and_wait_range",
        "mm/filemap.c",
        if disk {
            format!("fsync('{name}'): write back every dirty page and wait for it.")
        } else {
            format!("fsync('{name}'): a memory filesystem has nothing to write.")
        },
    );
    ctx.touch(ObjRef::File(file));
    writeback_range(ctx, file, 0, pages, true)?;
    if disk {
        ctx.step(
            "blkdev_issue_flush",
            "block/blk-flush.c",
            "Flush the device's volatile cache: what was written is durable.",
        );
    }
    Ok(())
}

/// Background writeback (wb_workfn): start writeback of every dirty page of
/// the file without waiting; the bios complete later.
pub fn background(ctx: &mut Ctx, file: FileId) -> KResult<()> {
    let pages = ctx.w.file(file).pages;
    ctx.step(
        "wb_workfn",
        "fs/fs-writeback.c",
        format!(
            "Background writeback of '{}': start writing every dirty page; the bios complete later.",
            ctx.w.file(file).name
        ),
    );
    writeback_range(ctx, file, 0, pages, false)
}
