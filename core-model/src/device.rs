//! A device using the pages a holder took: DMA reads and writes. This is where
//! incoherence between a holder's pages and the owner's page table shows up.

use crate::data::{Data, Writer};
use crate::error::{KResult, invalid};
use crate::hazard::HazardKind;
use crate::holder::HeldPage;
use crate::ids::Pid;
use crate::step::{Ctx, ObjRef};

/// Does the owner still map, at the address it handed over, the page the
/// holder has? Returns what the owner maps there now if it differs.
fn owner_moved(ctx: &Ctx, hp: &HeldPage) -> Option<String> {
    let p = ctx.w.procs.get(&hp.owner)?;
    if !p.alive {
        return None;
    }
    let vma = p.mm.vma_at(hp.vpn)?;
    match vma.pte(hp.vpn).folio() {
        Some((f, pg)) if f == hp.folio && pg == hp.page as usize => None,
        Some((f, _)) => Some(format!("{f}")),
        // Swapped out or zapped: the owner's next access faults in another page.
        None => Some("no page (it will fault in a different one)".into()),
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

/// The device reads the holder's pages (e.g. an O_DIRECT write to disk, an
/// RDMA read): returns what it sees.
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
        let f = ctx.w.folio(hp.folio);
        if f.freed {
            let text = format!("'{holder}' reads {} after it was freed", hp.folio);
            ctx.hazard(
                HazardKind::UseAfterFree,
                text,
                vec![ObjRef::Folio(hp.folio), ObjRef::Holder(holder.into())],
            );
            out.push("?".into());
            continue;
        }
        let seen = f.pages[hp.page as usize].data.clone();
        if let Some(now) = owner_moved(ctx, hp) {
            let owner_data = crate::access::peek(&ctx.w, hp.owner, hp.vpn);
            if owner_data.as_ref().is_some_and(|d| d.tag() != seen.tag()) {
                let text = format!(
                    "The device read '{}' from {} through '{holder}', but {} now maps {now} there, holding '{}': the pin lost sight of the owner's writes.",
                    seen.tag(),
                    hp.folio,
                    ctx.w.page_name(hp.owner, hp.vpn),
                    owner_data.map(|d| d.tag().to_string()).unwrap_or_default()
                );
                ctx.hazard(
                    HazardKind::StaleDeviceRead,
                    text,
                    vec![
                        ObjRef::Folio(hp.folio),
                        ObjRef::Page(hp.owner, hp.vpn),
                        ObjRef::Holder(holder.into()),
                    ],
                );
            }
        }
        out.push(seen.tag().to_string());
    }
    Ok(out)
}

/// The device writes `tag` into the holder's pages (O_DIRECT read from disk,
/// RDMA write, io_uring READ_FIXED).
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
        ctx.touch(ObjRef::Folio(hp.folio));
        if ctx.w.folio(hp.folio).freed {
            let text = format!("'{holder}' writes into {} after it was freed", hp.folio);
            ctx.hazard(
                HazardKind::UseAfterFree,
                text,
                vec![ObjRef::Folio(hp.folio), ObjRef::Holder(holder.into())],
            );
            continue;
        }
        if hp.pretend || ctx.w.folio(hp.folio).is_zero() {
            // Writing the zero page would corrupt every zero-filled mapping;
            // FOLL_WRITE never hands it out, so this cannot happen.
            continue;
        }
        ctx.w.folio_mut(hp.folio).pages[hp.page as usize].data = Data::new(tag, Writer::Device, seq, true);
        if let Some(now) = owner_moved(ctx, &hp) {
            let text = format!(
                "The device wrote '{tag}' into {}, but {} now maps {now} there: the owner will never see this data.",
                hp.folio,
                ctx.w.page_name(hp.owner, hp.vpn)
            );
            ctx.hazard(
                HazardKind::DmaLost,
                text,
                vec![
                    ObjRef::Folio(hp.folio),
                    ObjRef::Page(hp.owner, hp.vpn),
                    ObjRef::Holder(holder.into()),
                ],
            );
        }
    }
    Ok(())
}

/// A process (or pipe reader) obtained `data`: was it written privately by
/// another process after the two diverged at fork?
pub fn check_leak(ctx: &mut Ctx, reader: Pid, data: &Data, via: ObjRef, what: &str) {
    let Some(stamp) = data.stamp() else {
        return;
    };
    let Writer::Process(writer) = stamp.writer else {
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
        let text = format!(
            "{rname} read '{}' through {what}, which {wname} wrote into its private memory after the fork that separated them: data leaked across processes.",
            stamp.tag
        );
        ctx.hazard(
            HazardKind::DataLeak,
            text,
            vec![via, ObjRef::Process(writer), ObjRef::Process(reader)],
        );
    }
}
