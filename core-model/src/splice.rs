//! vmsplice(2) of user pages into a pipe and reading them back
//! (fs/splice.c: iter_to_pipe uses iov_iter_get_pages, iov_iter_get_pages2
//! from 6.0, i.e. FOLL_GET refs).

use crate::device::check_leak;
use crate::error::{KResult, invalid};
use crate::gup::{GupFlags, gup};
use crate::holder::{Pipe, PipeBuf};
use crate::ids::Pid;
use crate::step::{Ctx, ObjRef};
use std::sync::Arc;

/// A pipe holds PIPE_DEF_BUFFERS (16) buffers unless F_SETPIPE_SZ grows it
/// (include/linux/pipe_fs_i.h).
pub const PIPE_DEF_BUFFERS: u64 = 16;

/// vmsplice_to_pipe -> iter_to_pipe: pages go in while the pipe has free
/// slots; add_to_pipe fails with -EAGAIN on a full pipe, the rest of the
/// batch's references are put back (`while (++i < n) put_page(...)`) and
/// vmsplice returns the bytes that went in. A full pipe refuses the call
/// (EAGAIN; a blocking writer would wait in wait_for_space for a reader).
pub fn vmsplice(ctx: &mut Ctx, pid: Pid, first: u64, n: u64, pipe: &str) -> KResult<()> {
    if ctx.w.holders.contains_key(pipe) {
        return invalid(format!("'{pipe}' is a holder, not a pipe"));
    }
    let used = ctx.w.pipes.get(pipe).map_or(0, |p| p.bufs.len() as u64);
    let free = PIPE_DEF_BUFFERS.saturating_sub(used);
    if free == 0 {
        return crate::error::errno(
            crate::error::Errno::EAGAIN,
            format!("pipe '{pipe}' is full ({PIPE_DEF_BUFFERS} buffers): a blocking vmsplice would wait for a reader"),
        );
    }
    let taken = n.min(free);
    let fits = if taken < n {
        format!(
            " Only {taken} of the {n} fit: a pipe has {PIPE_DEF_BUFFERS} buffers (PIPE_DEF_BUFFERS) and {used} are in use, so vmsplice returns {} bytes.",
            taken * 4096
        )
    } else {
        String::new()
    };
    ctx.step(
        "iter_to_pipe",
        "fs/splice.c",
        format!(
            "vmsplice: {} takes a plain reference (FOLL_GET, no pin) on each of {taken} page(s) and puts them into pipe '{pipe}'.{fits}",
            crate::names::iov_iter_get_pages(ctx.w.preset).0
        ),
    );
    let n = taken;
    let flags = GupFlags {
        pin: false,
        write: false,
        longterm: false,
        fast: true,
        force: false,
    };
    let pages = gup(ctx, pid, first, n, flags)?;
    let mut p = ctx.w.pipes.get(pipe).map(|p| (**p).clone()).unwrap_or_else(|| Pipe {
        name: pipe.to_string(),
        bufs: Vec::new(),
    });
    p.bufs.extend(pages.iter().map(|h| PipeBuf {
        folio: h.folio,
        page: h.page,
        sender: pid,
    }));
    ctx.w.pipes.insert(pipe.to_string(), Arc::new(p));
    ctx.touch(ObjRef::Pipe(pipe.to_string()));
    Ok(())
}

/// The reader consumes every buffer: returns the data, drops the references
/// (pipe_buf_release -> put_page).
pub fn pipe_read(ctx: &mut Ctx, reader: Pid, pipe: &str) -> KResult<Vec<String>> {
    let Some(p) = ctx.w.pipes.get(pipe).cloned() else {
        return invalid(format!("no pipe named '{pipe}'"));
    };
    let (func, path) = crate::names::pipe_read(ctx.w.preset);
    ctx.step(
        func,
        path,
        format!(
            "{} reads {} buffer(s) from pipe '{pipe}'; each buffer's reference is dropped (put_page).",
            ctx.w.proc(reader).name,
            p.bufs.len()
        ),
    );
    ctx.touch(ObjRef::Pipe(pipe.to_string()));
    let mut out = Vec::new();
    for b in &p.bufs {
        let data = ctx.w.folio(b.folio).pages[b.page as usize].data.clone();
        out.push(data.tag().to_string());
        // What the sender itself wrote into the spliced page is what it sent
        // (vmsplice's own semantics), whenever it wrote it; the CVE is the
        // other process's later write showing through.
        if data.stamp().is_none_or(|s| s.owner() != Some(b.sender)) {
            check_leak(
                ctx,
                reader,
                &data,
                ObjRef::Pipe(pipe.to_string()),
                &format!("pipe '{pipe}'"),
            );
        }
        ctx.touch(ObjRef::Folio(b.folio));
        ctx.w.folio_put(b.folio, 1);
    }
    ctx.w.pipes.remove(pipe);
    Ok(out)
}
