//! Process creation and exit, and files on disk.

use crate::data::{Data, Writer};
use crate::error::{KResult, invalid};
use crate::file::{File, FsKind};
use crate::holder::HolderKind;
use crate::ids::{FileId, Pid};
use crate::mm::{Mm, Process};
use crate::step::{Ctx, ObjRef};
use imbl::OrdMap;
use std::sync::Arc;

pub fn spawn(ctx: &mut Ctx, name: &str) -> KResult<Pid> {
    if name.is_empty() || ctx.w.procs.values().any(|p| p.name == name) {
        return invalid(format!("process name '{name}' is empty or already used"));
    }
    ctx.step(
        "execve",
        "fs/exec.c",
        format!("Start process '{name}' with an empty address space."),
    );
    let seq = ctx.w.bump_seq();
    let pid = Pid(ctx.w.next_pid);
    ctx.w.next_pid += 1;
    ctx.w.procs.insert(
        pid,
        Arc::new(Process {
            pid,
            name: name.to_string(),
            parent: None,
            created_seq: seq,
            alive: true,
            mm: Mm::default(),
        }),
    );
    ctx.touch(ObjRef::Process(pid));
    Ok(pid)
}

/// do_exit: exit_mmap zaps every VMA; the process's io_uring rings are torn
/// down with it (unpinning their buffers). Other GUP holders keep their pages.
pub fn exit(ctx: &mut Ctx, pid: Pid) -> KResult<()> {
    let rings: Vec<String> = ctx
        .w
        .holders
        .values()
        .filter(|h| h.kind == HolderKind::IoUring && h.pages.first().is_some_and(|p| p.owner == Some(pid)))
        .map(|h| h.name.clone())
        .collect();
    for r in rings {
        crate::io_uring::unregister(ctx, &r)?;
    }
    ctx.step(
        "exit_mmap",
        "mm/mmap.c",
        format!(
            "{} exits: every mapping is zapped (one mapcount and one reference less per PTE).",
            ctx.w.proc(pid).name
        ),
    );
    ctx.touch(ObjRef::Process(pid));
    let vmas: Vec<(u64, u64)> = ctx.w.proc(pid).mm.vmas.values().map(|v| (v.start, v.pages())).collect();
    for (s, n) in vmas {
        crate::vma_ops::zap_range(ctx, pid, s, n);
    }
    let p = ctx.w.proc_mut(pid);
    p.mm.vmas = OrdMap::new();
    p.alive = false;
    Ok(())
}

/// A file whose blocks hold `data` (one tag per page; missing tags are zeros).
pub fn create_file(ctx: &mut Ctx, name: &str, fs: FsKind, pages: u64, data: &[String]) -> KResult<FileId> {
    if name.is_empty() || ctx.w.files.values().any(|f| f.name == name) {
        return invalid(format!("file name '{name}' is empty or already used"));
    }
    if pages == 0 || pages > crate::vma_ops::MAX_MAP_PAGES {
        return invalid(format!(
            "a file of {pages} pages (1 to {} allowed)",
            crate::vma_ops::MAX_MAP_PAGES
        ));
    }
    if data.len() as u64 > pages {
        return invalid(format!("{} data tags for a file of {pages} pages", data.len()));
    }
    ctx.w.check_budget(pages, "this file")?;
    ctx.step(
        "create",
        "(setup)",
        format!(
            "Create {fs:?} file '{name}' of {pages} page(s){}.",
            if fs.has_disk() {
                " on disk"
            } else {
                " (memory filesystem: its initial content is kept as if on a backing store)"
            }
        ),
    );
    let id = FileId(ctx.w.files.keys().next_back().map(|k| k.0 + 1).unwrap_or(0));
    let seq = ctx.w.bump_seq();
    let disk = (0..pages as usize)
        .map(|i| match data.get(i) {
            Some(t) => Data::new(t, Writer::Disk, seq, false),
            None => Data::zero(),
        })
        .collect();
    ctx.w.files.insert(
        id,
        Arc::new(File {
            name: name.to_string(),
            fs,
            pages,
            cache: OrdMap::new(),
            disk,
            shmem_for_anon: false,
        }),
    );
    ctx.touch(ObjRef::File(id));
    Ok(id)
}
