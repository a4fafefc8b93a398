//! Buffered read and write through the page cache (mm/filemap.c:
//! filemap_read, generic_perform_write).

use crate::data::{Data, Writer};
use crate::error::{KResult, invalid};
use crate::fault::filemap_get_folio;
use crate::ids::{FileId, Pid};
use crate::step::{Ctx, ObjRef};

fn check(ctx: &Ctx, file: FileId, offset: u64, n: u64) -> KResult<()> {
    let f = ctx.w.file(file);
    if n == 0 || offset.checked_add(n).is_none_or(|e| e > f.pages) {
        return invalid(format!(
            "pages {offset}..{} of '{}' ({} pages)",
            offset.saturating_add(n),
            f.name,
            f.pages
        ));
    }
    Ok(())
}

pub fn read_file(ctx: &mut Ctx, _pid: Pid, file: FileId, offset: u64, n: u64) -> KResult<Vec<String>> {
    check(ctx, file, offset, n)?;
    let mut out = Vec::new();
    for idx in offset..offset + n {
        let folio = filemap_get_folio(ctx, file, idx)?;
        out.push(ctx.w.folio(folio).pages[0].data.tag().to_string());
        // filemap_read: folio_mark_accessed on every folio it copies from.
        ctx.w.mark_accessed(folio);
    }
    let (func, path) = crate::names::buffered_read(ctx.w.preset);
    ctx.step(
        func,
        path,
        format!(
            "read(): copy {n} page(s) of '{}' from the page cache to the user; each folio is marked accessed (PG_referenced, or active on a second read).",
            ctx.w.file(file).name
        ),
    );
    ctx.touch(ObjRef::File(file));
    Ok(out)
}

pub fn write_file(ctx: &mut Ctx, pid: Pid, file: FileId, offset: u64, data: &[String]) -> KResult<()> {
    check(ctx, file, offset, data.len() as u64)?;
    let attaches = ctx.w.file(file).fs.attaches_private();
    for (i, tag) in data.iter().enumerate() {
        let idx = offset + i as u64;
        let folio = filemap_get_folio(ctx, file, idx)?;
        ctx.step(
            "generic_perform_write",
            "mm/filemap.c",
            format!(
                "write(): ->write_begin locks page {idx} of '{}'{}, the data is copied in, ->write_end marks it dirty.",
                ctx.w.file(file).name,
                if attaches {
                    " and attaches the filesystem's private data (one more reference)"
                } else {
                    ""
                }
            ),
        );
        let seq = ctx.w.bump_seq();
        let f = ctx.w.folio_mut(folio);
        f.pages[0].data = Data::new(tag, Writer::Process(pid), seq, false);
        f.flags.dirty = true;
        if attaches {
            ctx.w.attach_private(folio);
        }
        ctx.touch(ObjRef::Folio(folio));
    }
    Ok(())
}
