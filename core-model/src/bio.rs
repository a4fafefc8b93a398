//! bios: block/bio.c. A bio is a holder whose cleanup mode follows its flags
//! (docs/kernel-reference.md, rows 17-19).

use crate::data::{Data, Writer};
use crate::device::{dma_read_page, dma_write_page};
use crate::error::{KResult, invalid};
use crate::folio::FolioKind;
use crate::gup::put_grab;
use crate::hazard::HazardKind;
use crate::holder::{Grab, HeldPage, Holder, HolderKind};
use crate::ids::FileId;
use crate::step::{Ctx, ObjRef};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const BIO_C: &str = "block/bio.c";

/// REQ_OP_READ moves data from the device into memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BioOp {
    Read,
    Write,
}

/// The page-cleanup flags of a bio (include/linux/blk_types.h).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BioFlags {
    /// BIO_NO_PAGE_REF (up to 6.4): the pages carry no reference to drop.
    pub no_page_ref: bool,
    /// BIO_PAGE_PINNED (6.5+): unpin the pages at completion.
    pub page_pinned: bool,
    /// BIO_PAGE_REFFED (the v7 proposal, in no release): put_page at completion.
    pub page_reffed: bool,
    /// BIO_CLONED: the bvec array is borrowed from an ITER_BVEC iterator.
    pub cloned: bool,
}

impl BioFlags {
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.no_page_ref {
            v.push("BIO_NO_PAGE_REF");
        }
        if self.page_pinned {
            v.push("BIO_PAGE_PINNED");
        }
        if self.page_reffed {
            v.push("BIO_PAGE_REFFED");
        }
        if self.cloned {
            v.push("BIO_CLONED");
        }
        v
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BioPurpose {
    /// O_DIRECT from or into user memory (iomap).
    DirectIo,
    /// A kernel buffer submitted through a bvec or kvec iterator.
    KernelBuffer,
    /// Writeback of a page-cache folio (or of its bounce copy).
    Writeback,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BioInfo {
    pub op: BioOp,
    pub flags: BioFlags,
    pub purpose: BioPurpose,
    /// The file and first block the bio transfers.
    pub file: FileId,
    pub block: u64,
    /// bio_set_pages_dirty ran at submission (reads into user memory).
    pub dirty_user_pages: bool,
    /// For a bounce writeback: the page-cache folio the copy was taken from.
    pub bounce_of: Option<crate::ids::FolioId>,
}

/// Builds and submits a bio over pages that need no GUP (kernel buffers,
/// writeback): the submission step, then the bio is recorded.
pub fn submit(ctx: &mut Ctx, name: &str, grab: Grab, pages: Vec<HeldPage>, info: BioInfo) -> KResult<()> {
    if ctx.w.holders.contains_key(name) {
        return invalid(format!("a holder or bio named '{name}' already exists"));
    }
    submit_step(ctx, name, pages.len(), &info);
    record(ctx, name, grab, pages, info);
    Ok(())
}

/// Records a bio (a holder of kind Bio) without starting a step: a bio built
/// from GUP pages owns their references from the moment they are taken.
pub fn record(ctx: &mut Ctx, name: &str, grab: Grab, pages: Vec<HeldPage>, info: BioInfo) {
    let taken_at = ctx.step_index();
    for hp in &pages {
        ctx.touch(ObjRef::Folio(hp.folio));
    }
    ctx.touch(ObjRef::Holder(name.to_string()));
    let h = Holder {
        name: name.to_string(),
        kind: HolderKind::Bio,
        grab,
        write: info.op == BioOp::Read,
        longterm: false,
        taken_at,
        pages,
        bio: Some(info),
        extracted_from: None,
    };
    ctx.w.holders.insert(name.to_string(), Arc::new(h));
}

/// The submit_bio micro-step.
pub fn submit_step(ctx: &mut Ctx, name: &str, pages: usize, info: &BioInfo) {
    let flags = info.flags.names();
    let (verb, prep) = if info.op == BioOp::Read {
        ("read into", "from")
    } else {
        ("write from", "to")
    };
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(", flags {}", flags.join("|"))
    };
    ctx.step(
        "submit_bio",
        "block/blk-core.c",
        format!(
            "Submit bio '{name}': {verb} {pages} page(s) {prep} block {} of '{}'{flags}.",
            info.block,
            ctx.w.file(info.file).name
        ),
    );
    ctx.touch(ObjRef::Holder(name.to_string()));
}

/// The device finishes the transfer, then bio_endio runs the cleanup.
pub fn complete(ctx: &mut Ctx, name: &str) -> KResult<()> {
    let h = ctx.w.holder(name)?.clone();
    let Some(info) = h.bio.clone() else {
        return invalid(format!("'{name}' is not a bio"));
    };
    let fname = ctx.w.file(info.file).name.clone();
    match info.op {
        BioOp::Read => {
            ctx.step(
                "blk_mq_complete_request",
                "block/blk-mq.c",
                format!(
                    "The device transfers blocks {}.. of '{fname}' into the bio's {} page(s) by DMA.",
                    info.block,
                    h.pages.len()
                ),
            );
            for (i, hp) in h.pages.iter().enumerate() {
                let data = ctx
                    .w
                    .file(info.file)
                    .disk
                    .get(info.block as usize + i)
                    .cloned()
                    .unwrap_or_default();
                dma_write_page(ctx, name, hp, data);
            }
        }
        BioOp::Write => {
            ctx.step(
                "blk_mq_complete_request",
                "block/blk-mq.c",
                format!(
                    "The device reads the bio's {} page(s) by DMA and writes them to blocks {}.. of '{fname}'.",
                    h.pages.len(),
                    info.block
                ),
            );
            for (i, hp) in h.pages.iter().enumerate() {
                let Some(data) = dma_read_page(ctx, name, hp) else {
                    continue;
                };
                let block = info.block as usize + i;
                let file = ctx.w.file_mut(info.file);
                if block < file.disk.len() {
                    file.disk.set(block, stamp_as_disk(data));
                }
            }
            ctx.touch(ObjRef::File(info.file));
        }
    }
    if info.dirty_user_pages {
        bio_check_pages_dirty(ctx, name, &h.pages);
    }
    // ->bi_end_io by purpose: a writeback bio's end_io ends writeback and
    // never calls bio_release_pages (it took no reference on the pages).
    if info.purpose == BioPurpose::Writeback {
        crate::writeback::end_writeback(ctx, &h, &info);
    } else {
        release_pages(ctx, name, &h, &info);
    }
    ctx.w.holders.remove(name);
    if info.purpose == BioPurpose::DirectIo && info.op == BioOp::Write {
        crate::direct_io::invalidate_after_write(ctx, info.file, info.block, h.pages.len() as u64);
    }
    Ok(())
}

/// What reaches the disk keeps its tag and provenance.
fn stamp_as_disk(d: Data) -> Data {
    match d.stamp() {
        Some(s) => Data::new(&s.tag, Writer::Disk, s.seq, false),
        None => Data::zero(),
    }
}

/// block/bio.c: bio_check_pages_dirty: pages cleaned while the read was in
/// flight are re-dirtied (bio_dirty_fn, from a workqueue).
fn bio_check_pages_dirty(ctx: &mut Ctx, name: &str, pages: &[HeldPage]) {
    let clean: Vec<HeldPage> = pages
        .iter()
        .filter(|hp| {
            let f = ctx.w.folio(hp.folio);
            // !PageCompound before 6.8: a large folio is never re-dirtied.
            let skip = f.is_large() && !ctx.w.preset.bio_dirties_large_folios();
            !f.freed && !f.is_zero() && !f.flags.dirty && !skip
        })
        .copied()
        .collect();
    if clean.is_empty() {
        ctx.step(
            "bio_check_pages_dirty",
            BIO_C,
            "Every page is still dirty (bio_set_pages_dirty at submission): release them now.",
        );
        return;
    }
    ctx.step(
        "bio_dirty_fn",
        BIO_C,
        format!("{} page(s) were cleaned while the read was in flight: a workqueue re-dirties them (set_page_dirty_lock) before release.", clean.len()),
    );
    for hp in clean {
        mark_dirty_from_holder(ctx, name, hp.folio);
    }
}

/// set_page_dirty_lock / folio_mark_dirty by a GUP or bio holder. On a clean
/// page-cache folio of a dirty-tracked filesystem this is the "dirtied behind
/// the filesystem's back" hazard (Jan Kara 2018, Lorenzo Stoakes 2023).
pub fn mark_dirty_from_holder(ctx: &mut Ctx, holder: &str, folio: crate::ids::FolioId) {
    let f = ctx.w.folio(folio);
    if f.freed || f.is_zero() || f.flags.dirty {
        return;
    }
    if let FolioKind::File { file, .. } = f.kind
        && ctx.w.file(file).fs.dirty_tracked()
    {
        let fs = ctx.w.file(file).fs;
        // Only a filesystem that attaches private data can have lost it.
        let lost_private = fs.attaches_private() && !f.flags.private;
        // fs/ext4/inode.c: ext4_set_page_dirty (ext4_dirty_folio from 5.18)
        // has WARN_ON_ONCE(!page_has_buffers(page)).
        let warn = if lost_private && fs == crate::file::FsKind::Ext4 {
            if ctx.w.preset >= crate::preset::Preset::V5_18 {
                " (ext4_dirty_folio warns: WARN_ON_ONCE(!folio_buffers))"
            } else {
                " (ext4_set_page_dirty warns: WARN_ON_ONCE(!page_has_buffers))"
            }
        } else {
            ""
        };
        let text = format!(
            "'{holder}' dirtied {folio} of '{}' after writeback had cleaned it: the filesystem was never asked (no ->page_mkwrite){}{warn}.",
            ctx.w.file(file).name,
            if lost_private {
                match fs {
                    crate::file::FsKind::Btrfs => ", and the folio has no extent state any more",
                    _ => ", and the folio has no buffers any more",
                }
            } else {
                ""
            }
        );
        ctx.hazard(
            HazardKind::DirtyBehindFs,
            text,
            vec![ObjRef::Folio(folio), ObjRef::Holder(holder.into()), ObjRef::File(file)],
        );
    }
    ctx.w.folio_mut(folio).flags.dirty = true;
    ctx.touch(ObjRef::Folio(folio));
}

/// block/bio.c: bio_release_pages, as the bio's flags say.
fn release_pages(ctx: &mut Ctx, name: &str, h: &Holder, info: &BioInfo) {
    let text = match h.grab {
        Grab::Pin => "BIO_PAGE_PINNED: unpin every page (one pin per page).",
        Grab::Ref if info.flags.page_reffed => "BIO_PAGE_REFFED: put_page on every page.",
        Grab::Ref => "BIO_NO_PAGE_REF is clear: put_page on every page.",
        Grab::List if info.flags.no_page_ref => "BIO_NO_PAGE_REF: nothing was taken, nothing to release.",
        Grab::List => "Neither BIO_PAGE_PINNED nor a reference: nothing to release.",
    };
    let (func, path) = crate::names::bio_release_pages(ctx.w.preset);
    ctx.step(func, path, format!("bio '{name}': {text}"));
    ctx.touch(ObjRef::Holder(name.to_string()));
    for hp in &h.pages {
        if hp.no_grab || h.grab == Grab::List {
            continue;
        }
        put_grab(ctx, hp.folio, h.grab);
    }
}
