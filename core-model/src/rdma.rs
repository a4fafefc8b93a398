//! RDMA memory regions (drivers/infiniband/core/umem.c): ib_umem_get pins
//! with FOLL_LONGTERM for as long as the region is registered; the remote
//! peer writes into it at any time; deregistration unpins with dirtying.

use crate::error::KResult;
use crate::gup::{GupFlags, drop_holder_pages, gup_into_holder};
use crate::holder::HolderKind;
use crate::ids::Pid;
use crate::step::Ctx;

pub fn reg_mr(ctx: &mut Ctx, pid: Pid, first: u64, n: u64, mr: &str, write: bool) -> KResult<()> {
    // Before 6.2 ib_umem_get asked for FOLL_WRITE whatever the access, plus
    // FOLL_FORCE for a read-only region: the pin breaks COW on a private
    // mapping and write-faults (->page_mkwrite, dirty) a shared file page.
    let legacy_ro = !write && ctx.w.preset.rdma_ro_uses_foll_write();
    let flags = GupFlags {
        pin: true,
        write: write || legacy_ro,
        longterm: true,
        fast: true,
        force: legacy_ro,
    };
    ctx.step(
        "ib_umem_get",
        "drivers/infiniband/core/umem.c",
        if legacy_ro {
            format!(
                "ibv_reg_mr (read-only): pin {n} page(s) with {} for memory region '{mr}' (held until deregistration, possibly for days). Before 6.2 ib_umem_get asks for FOLL_WRITE even for a read-only region, with FOLL_FORCE so that a read-only mapping is accepted: the pages are write-faulted first.",
                flags.describe()
            )
        } else {
            format!(
                "ibv_reg_mr: pin {n} page(s) with {} for memory region '{mr}' (held until deregistration, possibly for days).",
                flags.describe()
            )
        },
    );
    gup_into_holder(ctx, pid, first, n, flags, mr, HolderKind::Rdma)?;
    if legacy_ro {
        // The region is still read-only for the peer: the device only reads it.
        let h = ctx.w.holders.get_mut(mr).expect("just inserted");
        std::sync::Arc::make_mut(h).write = false;
    }
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
    // __ib_umem_release: unpin_user_pages_dirty_lock page by page before
    // 5.14, unpin_user_page_range_dirty_lock per scatterlist entry from 5.14;
    // make_dirty only for a writable region (umem->writable && dirty).
    let unpin = if ctx.w.preset >= crate::preset::Preset::V5_14 {
        "unpin_user_page_range_dirty_lock"
    } else {
        "unpin_user_pages_dirty_lock"
    };
    ctx.step(
        "ib_umem_release",
        "drivers/infiniband/core/umem.c",
        format!(
            "ibv_dereg_mr: {unpin}{} on every page (-1024 each, or -1 and pincount -1 on a large folio).",
            if h.write {
                " with make_dirty (the peer may have written): each folio not already dirty is marked dirty first"
            } else {
                " without make_dirty (a read-only region)"
            }
        ),
    );
    drop_holder_pages(ctx, mr, h.write)
}
