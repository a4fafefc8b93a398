//! A device using the pages a holder took: DMA reads and writes. This is where
//! incoherence between a holder's pages and the owner's page table shows up.

use crate::data::{Data, Writer};
use crate::error::{KResult, invalid};
use crate::folio::FolioKind;
use crate::hazard::HazardKind;
use crate::holder::HeldPage;
use crate::ids::Pid;
use crate::mm::Pte;
use crate::step::{Ctx, ObjRef};

/// Does the owner still map, at the address it handed over, the page the
/// holder has? Returns what the owner maps there now if it differs.
fn owner_moved(ctx: &Ctx, hp: &HeldPage) -> Option<String> {
    let p = ctx.w.procs.get(&hp.owner?)?;
    if !p.alive {
        return None;
    }
    let vma = p.mm.vma_at(hp.vpn)?;
    match vma.pte(hp.vpn) {
        Pte::Present { folio, page, .. } if folio == hp.folio && page == hp.page => None,
        Pte::Present { folio, .. } => Some(format!("{folio}")),
        // Swapped out, but the folio is still in the swap cache: swap-in maps it again.
        Pte::Swap { slot, .. } if ctx.w.swap.get(&slot).is_some_and(|s| s.cache == Some(hp.folio)) => None,
        Pte::Swap { .. } => Some("a swap entry (swap-in brings a different folio)".into()),
        // Unmapped by reclaim, but still in the page cache: the next fault maps it again.
        Pte::None => match vma.file_index(hp.vpn) {
            Some((file, index)) if ctx.w.file(file).cache.get(&index) == Some(&hp.folio) => None,
            _ => Some("no page (it will fault in a different one)".into()),
        },
    }
}

fn pick<'a>(pages: &'a [HeldPage], index: Option<u64>, holder: &str) -> KResult<Vec<&'a HeldPage>> {
    match index {
        None => Ok(pages.iter().collect()),
        Some(i) => match pages.get(i as usize) {
            Some(p) => Ok(vec![p]),
            None => invalid(format!(
                "holder '{holder}' has {} pages; page {i} is out of range",
                pages.len()
            )),
        },
    }
}

/// The device reads one page through a holder (DMA from memory). Raises
/// `use_after_free` on a freed folio and `stale_device_read` when the owner
/// has since replaced the page by a copy holding other data.
pub fn dma_read_page(ctx: &mut Ctx, holder: &str, hp: &HeldPage) -> Option<Data> {
    let f = ctx.w.folio(hp.folio);
    if f.freed {
        let text = format!("'{holder}' reads {} after it was freed", hp.folio);
        ctx.hazard(
            HazardKind::UseAfterFree,
            text,
            vec![ObjRef::Folio(hp.folio), ObjRef::Holder(holder.into())],
        );
        return None;
    }
    let seen = f.pages[hp.page as usize].data.clone();
    if let (Some(now), Some(owner)) = (owner_moved(ctx, hp), hp.owner) {
        let owner_data = crate::access::peek(&ctx.w, owner, hp.vpn);
        if owner_data.as_ref().is_some_and(|d| d.tag() != seen.tag()) {
            let text = format!(
                "The device read '{}' from {} through '{holder}', but {} now maps {now} there, holding '{}': the pin lost sight of the owner's writes.",
                seen.tag(),
                hp.folio,
                ctx.w.page_name(owner, hp.vpn),
                owner_data.map(|d| d.tag().to_string()).unwrap_or_default()
            );
            ctx.hazard(
                HazardKind::StaleDeviceRead,
                text,
                vec![
                    ObjRef::Folio(hp.folio),
                    ObjRef::Page(owner, hp.vpn),
                    ObjRef::Holder(holder.into()),
                ],
            );
        }
    }
    Some(seen)
}

/// The device writes `data` into one page through a holder (DMA to memory).
pub fn dma_write_page(ctx: &mut Ctx, holder: &str, hp: &HeldPage, data: Data) {
    ctx.touch(ObjRef::Folio(hp.folio));
    if ctx.w.folio(hp.folio).freed {
        let text = format!("'{holder}' writes into {} after it was freed", hp.folio);
        ctx.hazard(
            HazardKind::UseAfterFree,
            text,
            vec![ObjRef::Folio(hp.folio), ObjRef::Holder(holder.into())],
        );
        return;
    }
    if hp.no_grab || ctx.w.folio(hp.folio).is_zero() {
        // FOLL_WRITE never hands out the zero page, so this cannot happen.
        return;
    }
    let tag = data.tag().to_string();
    // Data meant for a process's private memory belongs to that process: if
    // another process reads it after their fork, that is a leak (check_leak).
    let private_owner = hp.owner.filter(|o| {
        ctx.w
            .procs
            .get(o)
            .and_then(|p| p.mm.vma_at(hp.vpn))
            .is_some_and(|v| !v.flags.shared)
    });
    let data = match private_owner {
        Some(o) => {
            let seq = ctx.w.bump_seq();
            data.delivered_to(o, seq)
        }
        None => data,
    };
    let f = ctx.w.folio_mut(hp.folio);
    f.pages[hp.page as usize].data = data;
    let (kind, writeback) = (f.kind, f.flags.writeback);
    if let FolioKind::File { file, .. } = kind
        && writeback
        && ctx.w.file(file).fs.dirty_tracked()
    {
        let text = format!(
            "The device changed {} while it was under writeback: the disk may receive either version, and the filesystem was not told (stable pages are bypassed by DMA).",
            hp.folio
        );
        ctx.hazard(
            HazardKind::WriteUnderWriteback,
            text,
            vec![
                ObjRef::Folio(hp.folio),
                ObjRef::Holder(holder.into()),
                ObjRef::File(file),
            ],
        );
    }
    if let (Some(now), Some(owner)) = (owner_moved(ctx, hp), hp.owner) {
        let text = format!(
            "The device wrote '{tag}' into {}, but {} now maps {now} there: the owner will never see this data.",
            hp.folio,
            ctx.w.page_name(owner, hp.vpn)
        );
        ctx.hazard(
            HazardKind::DmaLost,
            text,
            vec![
                ObjRef::Folio(hp.folio),
                ObjRef::Page(owner, hp.vpn),
                ObjRef::Holder(holder.into()),
            ],
        );
    }
}

/// The device reads the holder's pages (e.g. an RDMA read, a network send):
/// returns what it sees.
pub fn device_read(ctx: &mut Ctx, holder: &str, index: Option<u64>) -> KResult<Vec<String>> {
    let h = ctx.w.holder(holder)?.clone();
    let pages = pick(&h.pages, index, holder)?;
    ctx.step(
        "dma_read",
        "drivers (device)",
        format!(
            "The device reads {} page(s) through '{holder}' (the physical pages it was given, not the page tables).",
            pages.len()
        ),
    );
    ctx.touch(ObjRef::Holder(holder.to_string()));
    let mut out = Vec::new();
    for hp in pages {
        let seen = dma_read_page(ctx, holder, hp);
        out.push(seen.map(|d| d.tag().to_string()).unwrap_or_else(|| "?".into()));
    }
    Ok(out)
}

/// The device writes `tag` into the holder's pages (RDMA write, io_uring
/// READ_FIXED, a driver's DMA).
pub fn device_write(ctx: &mut Ctx, holder: &str, tag: &str, index: Option<u64>) -> KResult<()> {
    let h = ctx.w.holder(holder)?.clone();
    if !h.write {
        return invalid(format!(
            "'{holder}' took its pages without FOLL_WRITE: a device may only read them"
        ));
    }
    let pages: Vec<HeldPage> = pick(&h.pages, index, holder)?.into_iter().copied().collect();
    ctx.step(
        "dma_write",
        "drivers (device)",
        format!(
            "The device writes '{tag}' into {} page(s) through '{holder}', behind the page tables.",
            pages.len()
        ),
    );
    ctx.touch(ObjRef::Holder(holder.to_string()));
    let seq = ctx.w.bump_seq();
    for hp in pages {
        dma_write_page(ctx, holder, &hp, Data::new(tag, Writer::Device, seq, true));
    }
    Ok(())
}

/// A process (or pipe reader) obtained `data`: was it written privately by
/// another process after the two diverged at fork?
pub fn check_leak(ctx: &mut Ctx, reader: Pid, data: &Data, via: ObjRef, what: &str) {
    let Some(stamp) = data.stamp() else {
        return;
    };
    let Some(writer) = stamp.owner() else {
        return;
    };
    if writer == reader || !stamp.private {
        return;
    }
    let created = |p: Pid| ctx.w.procs.get(&p).map(|p| p.created_seq).unwrap_or(0);
    let diverged = created(reader).max(created(writer));
    if stamp.seq > diverged {
        let wname = ctx.w.procs.get(&writer).map(|p| p.name.clone()).unwrap_or_default();
        let rname = ctx.w.procs.get(&reader).map(|p| p.name.clone()).unwrap_or_default();
        let text = match stamp.writer {
            Writer::Process(_) => format!(
                "{rname} read '{}' through {what}, which {wname} wrote into its private memory after the fork that separated them: data leaked across processes.",
                stamp.tag
            ),
            _ => format!(
                "{rname} read '{}' through {what}, which a device delivered for {wname}'s private memory after the fork that separated them: data leaked across processes.",
                stamp.tag
            ),
        };
        ctx.hazard(
            HazardKind::DataLeak,
            text,
            vec![via, ObjRef::Process(writer), ObjRef::Process(reader)],
        );
    }
}
