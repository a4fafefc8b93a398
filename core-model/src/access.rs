//! A process loading and storing through its page table.

use crate::data::{Data, Writer};
use crate::device::check_leak;
use crate::error::{Errno, KResult, errno};
use crate::fault::{FaultKind, handle_mm_fault};
use crate::ids::Pid;
use crate::mm::Pte;
use crate::step::{Ctx, ObjRef};
use crate::world::World;

/// What the process would read at `vpn` without faulting anything in: the
/// mapped page's data, or for a swap entry the slot's data.
pub fn peek(w: &World, pid: Pid, vpn: u64) -> Option<Data> {
    let vma = w.procs.get(&pid)?.mm.vma_at(vpn)?;
    match vma.pte(vpn) {
        Pte::Present { folio, page, .. } => Some(w.folio(folio).pages[page as usize].data.clone()),
        Pte::Swap { slot, .. } => w.swap.get(&slot).map(|s| s.data.clone()),
        Pte::None => None,
    }
}

/// A load: faults the page in for reading if needed, returns its data.
pub fn user_read(ctx: &mut Ctx, pid: Pid, vpn: u64) -> KResult<String> {
    let vma = ctx.w.vma(pid, vpn)?.clone();
    if !vma.flags.read {
        return errno(
            Errno::EFAULT,
            format!("{} is not readable (SIGSEGV)", ctx.w.page_name(pid, vpn)),
        );
    }
    if !vma.pte(vpn).is_present() {
        handle_mm_fault(ctx, pid, vpn, FaultKind::Read)?;
    }
    let mut pte = ctx.w.pte(pid, vpn);
    let (folio, page) = pte.folio().expect("present after fault");
    if !pte.is_young() {
        // The CPU sets the accessed bit on the load.
        pte.set_young(true);
        ctx.w.set_pte(pid, vpn, pte);
    }
    let data = ctx.w.folio(folio).pages[page].data.clone();
    ctx.step(
        "load",
        "(user space)",
        format!("{} reads '{}' from {folio}.", ctx.w.page_name(pid, vpn), data.tag()),
    );
    ctx.touch(ObjRef::Page(pid, vpn));
    ctx.touch(ObjRef::Folio(folio));
    check_leak(ctx, pid, &data, ObjRef::Page(pid, vpn), &ctx.w.page_name(pid, vpn));
    Ok(data.tag().to_string())
}

/// A store of `tag`: takes whatever write fault the PTE needs first.
pub fn user_write(ctx: &mut Ctx, pid: Pid, vpn: u64, tag: &str) -> KResult<()> {
    let vma = ctx.w.vma(pid, vpn)?.clone();
    if !vma.flags.write {
        return errno(
            Errno::EFAULT,
            format!("{} is not writable (SIGSEGV)", ctx.w.page_name(pid, vpn)),
        );
    }
    if !vma.pte(vpn).is_writable() {
        handle_mm_fault(ctx, pid, vpn, FaultKind::Write)?;
    }
    let mut pte = ctx.w.pte(pid, vpn);
    let Pte::Present {
        folio,
        page,
        writable: true,
        dirty,
        ..
    } = &mut pte
    else {
        return errno(
            Errno::EFAULT,
            format!("{} did not become writable", ctx.w.page_name(pid, vpn)),
        );
    };
    let (folio, page) = (*folio, *page as usize);
    ctx.step(
        "store",
        "(user space)",
        format!(
            "{} stores '{tag}' into {folio} (the CPU sets the PTE's dirty and accessed bits).",
            ctx.w.page_name(pid, vpn)
        ),
    );
    *dirty = true;
    pte.set_young(true);
    ctx.w.set_pte(pid, vpn, pte);
    let seq = ctx.w.bump_seq();
    ctx.w.folio_mut(folio).pages[page].data = Data::new(tag, Writer::Process(pid), seq, !vma.flags.shared);
    ctx.touch(ObjRef::Page(pid, vpn));
    ctx.touch(ObjRef::Folio(folio));
    Ok(())
}

/// Stores over a range of pages (a `write` with `pages = N`): first every
/// write fault the range needs, then one store per page, recorded as one
/// batched micro-step.
pub fn user_write_range(ctx: &mut Ctx, pid: Pid, first: u64, n: u64, tags: &crate::action::Tags) -> KResult<()> {
    for vpn in first..first + n {
        let vma = ctx.w.vma(pid, vpn)?.clone();
        if !vma.flags.write {
            return errno(
                Errno::EFAULT,
                format!("{} is not writable (SIGSEGV)", ctx.w.page_name(pid, vpn)),
            );
        }
        if !vma.pte(vpn).is_writable() {
            handle_mm_fault(ctx, pid, vpn, FaultKind::Write)?;
        }
    }
    let what = match tags {
        crate::action::Tags::One(t) => format!("'{t}' into each"),
        crate::action::Tags::Many(_) => "one tag into each".to_string(),
    };
    ctx.step(
        "store",
        "(user space)",
        format!(
            "{} .. {} : the process stores {what} of {n} pages (the CPU sets each PTE's dirty and accessed bits).",
            ctx.w.page_name(pid, first),
            ctx.w.page_name(pid, first + n - 1)
        ),
    );
    ctx.set_count(n);
    for (i, vpn) in (first..first + n).enumerate() {
        let tag = tags.get(i).unwrap_or_default().to_string();
        let mut pte = ctx.w.pte(pid, vpn);
        let Pte::Present {
            folio,
            page,
            writable: true,
            dirty,
            ..
        } = &mut pte
        else {
            return errno(
                Errno::EFAULT,
                format!("{} did not become writable", ctx.w.page_name(pid, vpn)),
            );
        };
        let (folio, page) = (*folio, *page as usize);
        *dirty = true;
        pte.set_young(true);
        ctx.w.set_pte(pid, vpn, pte);
        let shared = ctx.w.vma(pid, vpn)?.flags.shared;
        let seq = ctx.w.bump_seq();
        ctx.w.folio_mut(folio).pages[page].data = Data::new(&tag, Writer::Process(pid), seq, !shared);
        ctx.touch(ObjRef::Folio(folio));
    }
    ctx.touch(ObjRef::Page(pid, first));
    Ok(())
}
