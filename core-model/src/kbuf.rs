//! Kernel-allocated buffers: pages the kernel owns (alloc_pages / kmalloc'd
//! bounce buffers, network buffers). Iterators over them (ITER_KVEC,
//! ITER_BVEC) are "just listed": the submitter must keep them alive.

use crate::data::{Data, Writer};
use crate::error::{KResult, invalid};
use crate::folio::{FolioKind, Zone};
use crate::ids::FolioId;
use crate::step::{Ctx, ObjRef};
use std::sync::Arc;

pub fn kbuf_pages(ctx: &Ctx, name: &str) -> KResult<Arc<Vec<FolioId>>> {
    match ctx.w.kbufs.get(name) {
        Some(p) => Ok(p.clone()),
        None => invalid(format!("no kernel buffer named '{name}'")),
    }
}

pub fn alloc(ctx: &mut Ctx, name: &str, pages: u64) -> KResult<()> {
    if ctx.w.kbufs.contains_key(name) {
        return invalid(format!("a kernel buffer named '{name}' already exists"));
    }
    if pages == 0 || pages > 1 << 16 {
        return invalid(format!("a kernel buffer of {pages} pages (1 to 65536 allowed)"));
    }
    ctx.w.check_budget(pages, "this kernel buffer")?;
    ctx.step(
        "alloc_pages",
        "include/linux/gfp.h",
        format!(
            "The kernel allocates {pages} page(s) for buffer '{name}'; the buffer holds the only reference to each."
        ),
    );
    let ids: Vec<FolioId> = (0..pages)
        .map(|_| ctx.w.alloc_folio(FolioKind::Kernel, 0, Zone::Normal))
        .collect();
    for id in &ids {
        ctx.touch(ObjRef::Folio(*id));
    }
    ctx.w.kbufs.insert(name.to_string(), Arc::new(ids));
    Ok(())
}

/// The kernel fills a page of its buffer (memcpy).
pub fn write(ctx: &mut Ctx, name: &str, page: u64, tag: &str) -> KResult<()> {
    let pages = kbuf_pages(ctx, name)?;
    let Some(&id) = pages.get(page as usize) else {
        return invalid(format!(
            "kernel buffer '{name}' has {} pages; page {page} is out of range",
            pages.len()
        ));
    };
    ctx.step(
        "memcpy",
        "(kernel)",
        format!("The kernel writes '{tag}' into page {page} of '{name}'."),
    );
    let seq = ctx.w.bump_seq();
    ctx.w.folio_mut(id).pages[0].data = Data::new(tag, Writer::Device, seq, false);
    ctx.touch(ObjRef::Folio(id));
    Ok(())
}

pub fn read(ctx: &mut Ctx, name: &str) -> KResult<Vec<String>> {
    let pages = kbuf_pages(ctx, name)?;
    ctx.step("memcpy", "(kernel)", format!("The kernel reads buffer '{name}'."));
    Ok(pages
        .iter()
        .map(|id| ctx.w.folio(*id).pages[0].data.tag().to_string())
        .collect())
}

/// __free_pages: the buffer drops its references. A bio that only listed the
/// pages does not keep them alive.
pub fn free(ctx: &mut Ctx, name: &str) -> KResult<()> {
    let pages = kbuf_pages(ctx, name)?;
    ctx.step(
        "__free_pages",
        "mm/page_alloc.c",
        format!(
            "The kernel frees buffer '{name}': one reference less on each page; a page nobody else references is freed."
        ),
    );
    for id in pages.iter() {
        ctx.touch(ObjRef::Folio(*id));
        ctx.w.folio_put(*id, 1);
    }
    ctx.w.kbufs.remove(name);
    Ok(())
}
