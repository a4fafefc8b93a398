//! O_DIRECT reads and writes through iomap (fs/iomap/direct-io.c:
//! __iomap_dio_rw) and bios built from kernel buffers.

use crate::bio::{BioFlags, BioInfo, BioOp, BioPurpose, mark_dirty_from_holder, record, submit, submit_step};
use crate::error::{Errno, KResult, errno, invalid};
use crate::gup::{GupFlags, gup};
use crate::holder::{Grab, HeldPage};
use crate::ids::{FileId, Pid};
use crate::preset::Preset;
use crate::step::{Ctx, ObjRef};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How a kernel buffer is described to the block layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum KernelIter {
    Bvec,
    Kvec,
}

fn check_file_range(ctx: &Ctx, file: FileId, block: u64, n: u64) -> KResult<()> {
    let f = ctx.w.file(file);
    if !f.fs.has_disk() {
        return errno(
            Errno::EINVAL,
            format!(
                "'{}' is on {:?}: no block device behind it, O_DIRECT is refused",
                f.name, f.fs
            ),
        );
    }
    check_blocks(ctx, file, block, n)
}

fn check_blocks(ctx: &Ctx, file: FileId, block: u64, n: u64) -> KResult<()> {
    let f = ctx.w.file(file);
    if block.checked_add(n).is_none_or(|end| end > f.pages) {
        return invalid(format!(
            "blocks {block}..{} are beyond the end of '{}' ({} pages)",
            block.saturating_add(n),
            f.name,
            f.pages
        ));
    }
    Ok(())
}

/// mm/shmem.c from 6.6 (e88e0d366f9c): tmpfs takes O_DIRECT, and
/// shmem_file_read_iter / shmem_file_write_iter ignore IOCB_DIRECT: the data
/// is copied between the page cache and the user as a buffered read or write
/// copies it (folio_mark_accessed on the read side, ->write_end dirtying on
/// the write side). No bio is made and no user page is pinned or referenced
/// for the I/O, so the request's bio name is not used; it is done when the
/// call returns.
fn shmem_direct(ctx: &mut Ctx, pid: Pid, first: u64, n: u64, file: FileId, block: u64, write: bool) -> KResult<()> {
    check_blocks(ctx, file, block, n)?;
    let name = ctx.w.file(file).name.clone();
    let (func, what) = if write {
        ("shmem_file_write_iter", "write")
    } else {
        ("shmem_file_read_iter", "read")
    };
    ctx.step(
        func,
        "mm/shmem.c",
        format!(
            "O_DIRECT {what} of {n} page(s) of '{name}' on tmpfs: since 6.6 tmpfs accepts O_DIRECT (shmem_file_open sets FMODE_CAN_ODIRECT) and copies through its page cache as a buffered {what} does: no bio, no user page pinned or referenced."
        ),
    );
    for i in 0..n {
        if write {
            let tag = crate::access::user_read(ctx, pid, first + i)?;
            crate::buffered::write_file(ctx, pid, file, block + i, &[tag])?;
        } else {
            let folio = crate::fault::filemap_get_folio(ctx, file, block + i)?;
            let tag = ctx.w.folio(folio).pages[0].data.tag().to_string();
            ctx.w.mark_accessed(folio);
            crate::access::user_write(ctx, pid, first + i, &tag)?;
        }
    }
    ctx.touch(ObjRef::File(file));
    Ok(())
}

/// O_DIRECT read (`write == false`: disk -> user memory) or write.
#[allow(clippy::too_many_arguments)]
pub fn dio(
    ctx: &mut Ctx,
    pid: Pid,
    first: u64,
    n: u64,
    file: FileId,
    block: u64,
    write: bool,
    bio: &str,
    wait: bool,
) -> KResult<()> {
    if ctx.w.file(file).fs == crate::file::FsKind::Tmpfs && ctx.w.preset.tmpfs_accepts_odirect() {
        return shmem_direct(ctx, pid, first, n, file, block, write);
    }
    check_file_range(ctx, file, block, n)?;
    if ctx.w.holders.contains_key(bio) {
        return invalid(format!("a holder or bio named '{bio}' already exists"));
    }
    let preset = ctx.w.preset;
    let v7 = ctx.w.whatif.bio_v7_modes;
    let fname = ctx.w.file(file).name.clone();
    // btrfs went through the old fs/direct-io.c until 5.10 (btrfs_direct_IO
    // -> __blockdev_direct_IO in 5.7.14-5.9.1; iomap_dio_rw from 5.10).
    let legacy = ctx.w.file(file).fs == crate::file::FsKind::Btrfs && preset <= Preset::V5_9 && !v7;
    let (entry, entry_path) = if legacy {
        ("__blockdev_direct_IO", "fs/direct-io.c")
    } else {
        ("iomap_dio_rw", "fs/iomap/direct-io.c")
    };
    ctx.step(
        entry,
        entry_path,
        format!(
            "O_DIRECT {} of {n} page(s) at block {block} of '{fname}': first write back any dirty page cache of the range (filemap_write_and_wait_range).",
            if write { "write" } else { "read" }
        ),
    );
    crate::writeback::writeback_range(ctx, file, block, n, true)?;
    // bio_iov_iter_get_pages on an ITER_UBUF iterator (section 9.2, 12a).
    let pin = if v7 { !write } else { preset >= Preset::V6_5 };
    // The proposal was written against iov_iter_extract_pages (6.3+); on an
    // older release the what-if narrates the extraction that release has.
    let extract = if preset >= Preset::V6_3 {
        "iov_iter_extract_pages"
    } else {
        crate::names::dio_get_user_pages(preset)
    };
    let how = match (pin, v7) {
        (true, true) => {
            &format!("v7 what-if: data flows into user pages, so {extract} pins them (FOLL_PIN), BIO_PAGE_PINNED")
        }
        (false, true) => &format!(
            "v7 what-if: data flows out of user pages, so {extract} takes references (FOLL_GET), BIO_PAGE_REFFED"
        ),
        (true, false) => {
            "iov_iter_extract_pages: the iterator is user-backed (iov_iter_extract_will_pin is true), so pin_user_pages_fast pins each page; BIO_PAGE_PINNED (6.5+)"
        }
        (false, false) => {
            "get_user_pages_fast takes one reference per page (FOLL_GET, no pin); BIO_NO_PAGE_REF stays clear, so completion will put_page (block O_DIRECT pins only from 6.5)"
        }
    };
    let how = if pin || v7 {
        how.to_string()
    } else {
        format!("{}: {how}", crate::names::dio_get_user_pages(preset))
    };
    if legacy {
        ctx.step(
            "dio_refill_pages",
            "fs/direct-io.c",
            "iov_iter_get_pages takes one reference per page (FOLL_GET, no pin); dio_bio_complete will put_page them.",
        );
    } else {
        ctx.step("bio_iov_iter_get_pages", "block/bio.c", how);
    }
    let flags = GupFlags {
        pin,
        write: !write,
        longterm: false,
        fast: true,
        force: false,
    };
    let pages = gup(ctx, pid, first, n, flags)?;
    let bflags = BioFlags {
        page_pinned: pin,
        page_reffed: v7 && !pin,
        ..BioFlags::default()
    };
    let dirty_user_pages = !write;
    let info = BioInfo {
        op: if write { BioOp::Write } else { BioOp::Read },
        flags: bflags,
        purpose: BioPurpose::DirectIo,
        file,
        block,
        dirty_user_pages,
        bounce_of: None,
    };
    // The bio owns the references from the moment they are taken.
    record(
        ctx,
        bio,
        if pin { Grab::Pin } else { Grab::Ref },
        pages.clone(),
        info.clone(),
    );
    if ctx.w.whatif.vm_nocow && !write {
        set_nocow(ctx, pid, first, n, "its first O_DIRECT read");
    }
    if dirty_user_pages {
        let large = preset.bio_dirties_large_folios();
        let skips = !large && pages.iter().any(|hp| ctx.w.folio(hp.folio).is_large());
        ctx.step(
            "bio_set_pages_dirty",
            "block/bio.c",
            if skips {
                "A read into user memory: mark every page dirty before submitting (set_page_dirty_lock), except pages of a large folio (!PageCompound before 6.8): those stay as they are."
            } else {
                "A read into user memory: mark every page dirty before submitting (set_page_dirty_lock)."
            },
        );
        for hp in &pages {
            if large || !ctx.w.folio(hp.folio).is_large() {
                mark_dirty_from_holder(ctx, bio, hp.folio);
            }
        }
    }
    submit_step(ctx, bio, pages.len(), &info);
    if wait {
        crate::bio::complete(ctx, bio)?;
    }
    Ok(())
}

/// What-if VM_NOCOW: the VMAs of the range get the flag.
pub fn set_nocow(ctx: &mut Ctx, pid: Pid, first: u64, n: u64, why: &str) {
    let starts: Vec<u64> = ctx
        .w
        .proc(pid)
        .mm
        .vmas
        .values()
        .filter(|v| v.start < first + n && v.end() > first && !v.flags.nocow)
        .map(|v| v.start)
        .collect();
    if starts.is_empty() {
        return;
    }
    ctx.step(
        "vm_nocow (what-if)",
        "(proposal)",
        format!(
            "VM_NOCOW is set on the VMA by {why}: fork will give the child copies of its private anonymous pages instead of sharing them (shared mappings stay shared)."
        ),
    );
    for s in starts {
        let mm = &mut ctx.w.proc_mut(pid).mm;
        Arc::make_mut(mm.vmas.get_mut(&s).expect("vma")).flags.nocow = true;
    }
    ctx.touch(ObjRef::Process(pid));
}

/// A bio over a kernel buffer: ITER_BVEC borrows the bvecs (no refs, all
/// presets); ITER_KVEC is listed by iov_iter_extract_pages from 6.5 and
/// refused by iov_iter_get_pages before.
#[allow(clippy::too_many_arguments)]
pub fn kernel_bio(
    ctx: &mut Ctx,
    kbuf: &str,
    iter: KernelIter,
    file: FileId,
    block: u64,
    write: bool,
    bio: &str,
    wait: bool,
) -> KResult<()> {
    let pages = crate::kbuf::kbuf_pages(ctx, kbuf)?;
    check_file_range(ctx, file, block, pages.len() as u64)?;
    let preset = ctx.w.preset;
    let flags = match iter {
        KernelIter::Bvec => {
            let (func, path) = crate::names::bio_bvec(preset);
            // block/bio.c: __bio_iov_bvec_add_pages (5.7-5.11) adds each
            // bvec's page and sets BIO_NO_PAGE_REF only; bio_iov_bvec_set
            // (5.14) borrows the array: BIO_NO_PAGE_REF | BIO_CLONED through
            // 6.4, BIO_CLONED alone from 6.5.
            let cloned = preset >= Preset::V5_14;
            ctx.step(
                func,
                path,
                if cloned {
                    format!("ITER_BVEC over kernel buffer '{kbuf}': the bio borrows the bvec array (BIO_CLONED); no reference, no pin: the submitter keeps the pages alive.")
                } else {
                    format!("ITER_BVEC over kernel buffer '{kbuf}': each bvec's page is added to the bio without a reference (BIO_NO_PAGE_REF); no pin: the submitter keeps the pages alive.")
                },
            );
            BioFlags {
                cloned,
                // The v7 series inverted BIO_NO_PAGE_REF into BIO_PAGE_REFFED.
                no_page_ref: preset < Preset::V6_5 && !ctx.w.whatif.bio_v7_modes,
                ..BioFlags::default()
            }
        }
        KernelIter::Kvec => {
            if preset < Preset::V6_5 {
                return errno(
                    Errno::EFAULT,
                    "iov_iter_get_pages does not handle ITER_KVEC (block layer before 6.5)",
                );
            }
            ctx.step(
                "iov_iter_extract_pages",
                "lib/iov_iter.c",
                format!("ITER_KVEC over kernel buffer '{kbuf}': iov_iter_extract_will_pin is false, the pages are just listed (no reference, no pin)."),
            );
            BioFlags::default()
        }
    };
    let held: Vec<HeldPage> = pages
        .iter()
        .map(|f| HeldPage {
            folio: *f,
            page: 0,
            owner: None,
            vpn: 0,
            no_grab: false,
        })
        .collect();
    let info = BioInfo {
        op: if write { BioOp::Write } else { BioOp::Read },
        flags,
        purpose: BioPurpose::KernelBuffer,
        file,
        block,
        dirty_user_pages: false,
        bounce_of: None,
    };
    submit(ctx, bio, Grab::List, held, info)?;
    if wait {
        crate::bio::complete(ctx, bio)?;
    }
    Ok(())
}

/// After an O_DIRECT write: drop cached copies of the blocks that nobody maps
/// (kiocb_invalidate_post_direct_write; simplified: mapped or referenced
/// folios are left in the cache).
pub fn invalidate_after_write(ctx: &mut Ctx, file: FileId, block: u64, n: u64) {
    let cached: Vec<(u64, crate::ids::FolioId)> = ctx
        .w
        .file(file)
        .cache
        .range(block..block + n)
        .map(|(i, f)| (*i, *f))
        .collect();
    if cached.is_empty() {
        return;
    }
    let (func, path) = crate::names::invalidate_after_dio_write(ctx.w.preset);
    ctx.step(
        func,
        path,
        "Invalidate the page cache over the written blocks so buffered readers see the new data (folios still mapped or referenced stay).",
    );
    for (idx, id) in cached {
        let f = ctx.w.folio(id);
        // Only the page cache and the fs private data hold it: release the
        // private data (filemap_release_folio), then drop it from the cache.
        if f.refcount - i64::from(f.flags.private) == 1 && !f.flags.dirty && !f.flags.writeback {
            ctx.w.detach_private(id);
            ctx.w.file_mut(file).cache.remove(&idx);
            ctx.w.folio_put(id, 1);
            ctx.touch(ObjRef::Folio(id));
        }
    }
}
