//! RDMA memory regions (drivers/infiniband/core/umem.c): ib_umem_get pins
//! with FOLL_LONGTERM for as long as the region is registered; the remote
//! peer writes into it at any time; deregistration unpins with dirtying.

use crate::error::KResult;
use crate::gup::{GupFlags, gup_into_holder, release_holder};
use crate::holder::HolderKind;
use crate::ids::Pid;
use crate::step::Ctx;

pub fn reg_mr(ctx: &mut Ctx, pid: Pid, first: u64, n: u64, mr: &str, write: bool) -> KResult<()> {
    ctx.step(
        "ib_umem_get",
        "drivers/infiniband/core/umem.c",
        format!(
            "ibv_reg_mr: pin {n} page(s) with FOLL_LONGTERM{} for memory region '{mr}' (held until deregistration, possibly for days).",
            if write { "|FOLL_WRITE" } else { "" }
        ),
    );
    let flags = GupFlags {
        pin: true,
        write,
        longterm: true,
        fast: true,
    };
    gup_into_holder(ctx, pid, first, n, flags, mr, HolderKind::Rdma)?;
    if ctx.w.whatif.vm_nocow {
        crate::direct_io::set_nocow(ctx, pid, first, n, "an RDMA registration");
    }
    Ok(())
}

pub fn dereg_mr(ctx: &mut Ctx, mr: &str) -> KResult<()> {
    let h = ctx.w.holder(mr)?.clone();
    if h.kind != HolderKind::Rdma {
        return crate::error::invalid(format!("'{mr}' is not an RDMA memory region"));
    }
    ctx.step(
        "ib_umem_release",
        "drivers/infiniband/core/umem.c",
        format!(
            "ibv_dereg_mr: unpin_user_page_range_dirty_lock{}.",
            if h.write {
                " with make_dirty (the peer may have written)"
            } else {
                ""
            }
        ),
    );
    release_holder(ctx, mr, h.write)
}
