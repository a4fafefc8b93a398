//! io_uring fixed buffers (io_uring/rsrc.c: io_sqe_buffer_register): long-term
//! writable pins, dropped at unregistration or when the ring's owner exits.

use crate::error::{Errno, KResult, errno};
use crate::file::FsKind;
use crate::gup::{GupFlags, gup_into_holder, release_holder};
use crate::holder::HolderKind;
use crate::ids::Pid;
use crate::mm::Backing;
use crate::preset::{IoUringFileRule, Preset};
use crate::step::Ctx;

pub fn register(ctx: &mut Ctx, pid: Pid, first: u64, n: u64, ring: &str) -> KResult<()> {
    // io_buffer_account_pin / io_pin_pages: before 6.5 io_uring itself refused
    // file-backed buffers other than hugetlbfs (and shmem, accepted from 5.14).
    if ctx.w.preset.io_uring_file_rule() == IoUringFileRule::AnonShmemHugetlbOnly {
        let mut vpn = first;
        while vpn < first + n {
            let vma = ctx.w.vma(pid, vpn)?.clone();
            if let Backing::File { file, .. } = vma.backing {
                let fs = ctx.w.file(file).fs;
                let shmem_ok = fs == FsKind::Tmpfs && ctx.w.preset >= Preset::V5_18;
                if fs != FsKind::Hugetlbfs && !shmem_ok {
                    return errno(
                        Errno::EOPNOTSUPP,
                        format!(
                            "io_uring refuses a {fs:?}-backed fixed buffer (only anonymous, hugetlbfs and, from 5.14, shmem memory)"
                        ),
                    );
                }
            }
            vpn = vma.end();
        }
    }
    ctx.step(
        "io_sqe_buffer_register",
        "io_uring/rsrc.c",
        format!("IORING_REGISTER_BUFFERS: pin {n} page(s) with FOLL_WRITE|FOLL_LONGTERM for ring '{ring}'."),
    );
    // io_pin_pages: pin_user_pages (the slow path) with FOLL_WRITE|FOLL_LONGTERM.
    let flags = GupFlags {
        pin: true,
        write: true,
        longterm: true,
        fast: false,
    };
    gup_into_holder(ctx, pid, first, n, flags, ring, HolderKind::IoUring)
}

pub fn unregister(ctx: &mut Ctx, ring: &str) -> KResult<()> {
    let h = ctx.w.holder(ring)?;
    if h.kind != HolderKind::IoUring {
        return crate::error::invalid(format!("'{ring}' is not an io_uring buffer registration"));
    }
    ctx.step(
        "io_buffer_unmap",
        "io_uring/rsrc.c",
        format!("IORING_UNREGISTER_BUFFERS: unpin the pages of ring '{ring}'."),
    );
    release_holder(ctx, ring, false)
}
