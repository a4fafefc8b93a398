//! iov_iter page extraction (lib/iov_iter.c; docs/model.md, "The I/O side"): take a ref (iov_iter_get_pages2), pin, or just list
//! (iov_iter_extract_pages).

use crate::error::{Errno, KResult, errno, invalid};
use crate::fault::filemap_get_folio;
use crate::gup::{GupFlags, gup};
use crate::holder::{Grab, HeldPage, Holder, HolderKind};
use crate::ids::{FolioId, Pid};
use crate::step::{Ctx, ObjRef};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::VariantNames)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum IterKind {
    Ubuf,
    Iovec,
    Kvec,
    Bvec,
    Xarray,
    Folioq,
    Pipe,
}

impl IterKind {
    /// user_backed_iter.
    pub fn user_backed(self) -> bool {
        matches!(self, IterKind::Ubuf | IterKind::Iovec)
    }

    pub fn name(self) -> &'static str {
        match self {
            IterKind::Ubuf => "ITER_UBUF",
            IterKind::Iovec => "ITER_IOVEC",
            IterKind::Kvec => "ITER_KVEC",
            IterKind::Bvec => "ITER_BVEC",
            IterKind::Xarray => "ITER_XARRAY",
            IterKind::Folioq => "ITER_FOLIOQ",
            IterKind::Pipe => "ITER_PIPE",
        }
    }
}

/// What the iterator walks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IterSource {
    User {
        pid: Pid,
        first: u64,
        pages: u64,
    },
    KernelBuf(String),
    PageCache {
        file: crate::ids::FileId,
        first: u64,
        pages: u64,
    },
    Pipe(String),
}

/// lib/iov_iter.c: iov_iter_extract_will_pin == user_backed_iter.
pub fn extract_will_pin(kind: IterKind) -> bool {
    kind.user_backed()
}

fn check_kind(ctx: &Ctx, kind: IterKind, src: &IterSource) -> KResult<()> {
    let ok = matches!(
        (kind, src),
        (IterKind::Ubuf | IterKind::Iovec, IterSource::User { .. })
            | (IterKind::Kvec | IterKind::Bvec, IterSource::KernelBuf(_))
            | (IterKind::Xarray | IterKind::Folioq, IterSource::PageCache { .. })
            | (IterKind::Pipe, IterSource::Pipe(_))
    );
    if !ok {
        return invalid(format!(
            "{} iterates {}",
            kind.name(),
            match kind {
                IterKind::Ubuf | IterKind::Iovec => "user memory (proc, vma)",
                IterKind::Kvec | IterKind::Bvec => "a kernel buffer (kbuf)",
                IterKind::Xarray | IterKind::Folioq => "a file's page cache (file)",
                IterKind::Pipe => "a pipe (pipe)",
            }
        ));
    }
    if kind == IterKind::Pipe && !ctx.w.preset.has_iter_pipe() {
        return invalid("ITER_PIPE was removed in 6.5 (3fc40265ae2b)");
    }
    if kind == IterKind::Ubuf && ctx.w.preset < crate::preset::Preset::V6_0 {
        return invalid("ITER_UBUF exists from 6.0 (fcb14cb1bdac); use ITER_IOVEC");
    }
    // Absent from the 5.12.9 tree, present in 5.14.2: 7ff5062079ef, 5.13
    // merge window; the 5.11 preset (5.11-5.13) models 5.11.
    if kind == IterKind::Xarray && ctx.w.preset < crate::preset::Preset::V5_14 {
        return invalid("ITER_XARRAY exists from 5.13 (7ff5062079ef, for netfs); 5.11 and 5.12 have no such iterator");
    }
    if kind == IterKind::Folioq && !ctx.w.preset.has_iter_folioq() {
        return invalid("ITER_FOLIOQ exists from 6.12");
    }
    Ok(())
}

fn kernel_pages(ctx: &mut Ctx, src: &IterSource) -> KResult<Vec<(FolioId, u16)>> {
    Ok(match src {
        IterSource::KernelBuf(name) => crate::kbuf::kbuf_pages(ctx, name)?.iter().map(|f| (*f, 0)).collect(),
        IterSource::PageCache { file, first, pages } => {
            let f = ctx.w.file(*file);
            if first.checked_add(*pages).is_none_or(|e| e > f.pages) {
                return invalid(format!(
                    "pages {first}..{} are beyond the end of '{}'",
                    first.saturating_add(*pages),
                    f.name
                ));
            }
            let mut v = Vec::new();
            for i in *first..*first + *pages {
                v.push((filemap_get_folio(ctx, *file, i)?, 0));
            }
            v
        }
        IterSource::Pipe(name) => match ctx.w.pipes.get(name) {
            Some(p) => p.bufs.iter().map(|b| (b.folio, b.page)).collect(),
            None => return invalid(format!("no pipe named '{name}'")),
        },
        IterSource::User { .. } => unreachable!("user iterators go through GUP"),
    })
}

fn store(
    ctx: &mut Ctx,
    holder: &str,
    grab: Grab,
    write: bool,
    pages: Vec<HeldPage>,
    taken_at: usize,
    extracted_from: Option<IterKind>,
) {
    let h = Holder {
        name: holder.to_string(),
        kind: HolderKind::IovIter,
        grab,
        write,
        longterm: false,
        taken_at,
        pages,
        bio: None,
        extracted_from,
    };
    ctx.w.holders.insert(holder.to_string(), Arc::new(h));
    ctx.touch(ObjRef::Holder(holder.to_string()));
}

fn held_kernel(pages: &[(FolioId, u16)]) -> Vec<HeldPage> {
    pages
        .iter()
        .map(|(folio, page)| HeldPage {
            folio: *folio,
            page: *page,
            owner: None,
            vpn: 0,
            no_grab: false,
        })
        .collect()
}

/// iov_iter_get_pages2: references on every page.
pub fn get_pages2(
    ctx: &mut Ctx,
    kind: IterKind,
    dest: bool,
    src: &IterSource,
    holder: &str,
    count: u64,
) -> KResult<()> {
    crate::gup::check_count(count, 1)?;
    get_pages2_once(ctx, kind, dest, src, holder)?;
    if count > 1 {
        let grab = if matches!(src, IterSource::User { .. }) {
            crate::names::grab_fast(ctx.w.preset)
        } else {
            (crate::names::get_ref(ctx.w.preset), "include/linux/mm.h")
        };
        crate::gup::repeat_grabs(ctx, holder, false, count, grab)?;
    }
    Ok(())
}

fn get_pages2_once(ctx: &mut Ctx, kind: IterKind, dest: bool, src: &IterSource, holder: &str) -> KResult<()> {
    // Before 6.0 the function was iov_iter_get_pages (the "2" variants came
    // with the 6.0 iov_iter rework).
    let (func, path) = crate::names::iov_iter_get_pages(ctx.w.preset);
    check_kind(ctx, kind, src)?;
    if ctx.w.holders.contains_key(holder) {
        return invalid(format!("a holder named '{holder}' already exists"));
    }
    let taken_at = ctx.step_index();
    if let IterSource::User { pid, first, pages } = *src {
        ctx.step(
            func,
            path,
            format!(
                "{}: get_user_pages_fast with FOLL_GET{}: one reference per page.",
                kind.name(),
                if dest { "|FOLL_WRITE" } else { "" }
            ),
        );
        let flags = GupFlags {
            pin: false,
            write: dest,
            longterm: false,
            fast: true,
            force: false,
        };
        let held = gup(ctx, pid, first, pages, flags)?;
        store(ctx, holder, Grab::Ref, dest, held, taken_at, None);
        return Ok(());
    }
    if kind == IterKind::Kvec {
        return errno(Errno::EFAULT, format!("{func} does not support ITER_KVEC"));
    }
    let pages = kernel_pages(ctx, src)?;
    ctx.step(
        func,
        path,
        format!(
            "{}: {} on each of {} page(s): one reference each.",
            kind.name(),
            crate::names::get_ref(ctx.w.preset),
            pages.len()
        ),
    );
    for (f, _) in &pages {
        if ctx.w.folio(*f).freed {
            return errno(Errno::EFAULT, format!("{f} was already freed"));
        }
        ctx.w.folio_mut(*f).refcount += 1;
        ctx.touch(ObjRef::Folio(*f));
    }
    store(ctx, holder, Grab::Ref, dest, held_kernel(&pages), taken_at, None);
    Ok(())
}

/// iov_iter_extract_pages (6.3+): pin user-backed pages, just list the rest.
pub fn extract_pages(
    ctx: &mut Ctx,
    kind: IterKind,
    dest: bool,
    src: &IterSource,
    holder: &str,
    count: u64,
) -> KResult<()> {
    crate::gup::check_count(count, 1)?;
    extract_pages_once(ctx, kind, dest, src, holder)?;
    if count > 1 && kind.user_backed() {
        let grab = crate::names::grab_fast(ctx.w.preset);
        crate::gup::repeat_grabs(ctx, holder, true, count, grab)?;
    }
    Ok(())
}

fn extract_pages_once(ctx: &mut Ctx, kind: IterKind, dest: bool, src: &IterSource, holder: &str) -> KResult<()> {
    if !ctx.w.preset.has_iov_iter_extract_pages() {
        return invalid("iov_iter_extract_pages exists from 6.3 (7d58fe731028); use iov_iter_get_pages2");
    }
    check_kind(ctx, kind, src)?;
    if ctx.w.holders.contains_key(holder) {
        return invalid(format!("a holder named '{holder}' already exists"));
    }
    if kind == IterKind::Pipe {
        return errno(Errno::EFAULT, "iov_iter_extract_pages never supported ITER_PIPE");
    }
    let taken_at = ctx.step_index();
    if let IterSource::User { pid, first, pages } = *src {
        ctx.step(
            "iov_iter_extract_user_pages",
            "lib/iov_iter.c",
            format!(
                "{}: iov_iter_extract_will_pin is true, so pin_user_pages_fast{} pins every page; the caller must unpin.",
                kind.name(),
                if dest { " with FOLL_WRITE (data flows into the pages)" } else { "" }
            ),
        );
        let flags = GupFlags {
            pin: true,
            write: dest,
            longterm: false,
            fast: true,
            force: false,
        };
        let held = gup(ctx, pid, first, pages, flags)?;
        store(ctx, holder, Grab::Pin, dest, held, taken_at, Some(kind));
        return Ok(());
    }
    let pages = kernel_pages(ctx, src)?;
    ctx.step(
        "iov_iter_extract_pages",
        "lib/iov_iter.c",
        format!(
            "{}: iov_iter_extract_will_pin is false: {} page(s) are just listed, no reference, no pin. Whoever owns them must keep them alive until the I/O is done.",
            kind.name(),
            pages.len()
        ),
    );
    for (f, _) in &pages {
        ctx.touch(ObjRef::Folio(*f));
    }
    store(ctx, holder, Grab::List, dest, held_kernel(&pages), taken_at, Some(kind));
    Ok(())
}
