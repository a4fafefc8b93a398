//! Kernel function names and source files by release. A micro-step names the
//! function that does the work in the preset's release (the first release of
//! its span); where a function was renamed or moved between the presets, the
//! choice is made here. `assets/kernel-symbols.toml`
//! records, for every function the model prints, the releases that have it in
//! that file and the evidence; a test runs every lesson, selftest case and a
//! batch of random action sequences under every preset and checks each printed
//! (function, file) against that table.

use crate::preset::Preset::{self, *};

/// A kernel function and the file that defines it.
pub type KFn = (&'static str, &'static str);

const GUP_C: &str = "mm/gup.c";
const FILEMAP_C: &str = "mm/filemap.c";
const VMSCAN_C: &str = "mm/vmscan.c";

/// The slow path's grab of one page (follow_page_pte): try_grab_page, which
/// "mm: gup: stop abusing try_grab_folio" (f442fa614137, 6.10) renamed
/// try_grab_folio when the old try_grab_folio became try_grab_folio_fast.
pub fn grab_slow(p: Preset) -> KFn {
    if p >= V6_12 {
        ("try_grab_folio", GUP_C)
    } else {
        ("try_grab_page", GUP_C)
    }
}

/// GUP-fast's grab (gup_pte_range): try_grab_compound_head until the folio
/// conversion made it try_grab_folio (5.18), try_grab_folio_fast from 6.10.
pub fn grab_fast(p: Preset) -> KFn {
    if p >= V6_12 {
        ("try_grab_folio_fast", GUP_C)
    } else if p >= V5_18 {
        ("try_grab_folio", GUP_C)
    } else {
        ("try_grab_compound_head", GUP_C)
    }
}

/// Where GUP-fast hands the rest of a range to the slow path:
/// internal_get_user_pages_fast, renamed gup_fast_fallback in 6.9.
pub fn gup_fast_fallback(p: Preset) -> KFn {
    if p >= V6_12 {
        ("gup_fast_fallback", GUP_C)
    } else {
        ("internal_get_user_pages_fast", GUP_C)
    }
}

/// Who records that an mm has pinned: mm->has_pinned, set by
/// __get_user_pages_locked and, for GUP-fast, internal_get_user_pages_fast
/// (008cfe4418b3, 5.9); packed into MMF_HAS_PINNED with
/// mm_set_has_pinned_flag (a458b76a4171, 5.14).
pub fn set_has_pinned(p: Preset, fast: bool) -> KFn {
    if p >= V5_14 {
        ("mm_set_has_pinned_flag", GUP_C)
    } else if fast {
        ("internal_get_user_pages_fast", GUP_C)
    } else {
        ("__get_user_pages_locked", GUP_C)
    }
}

/// The name of the mm's pin flag in prose.
pub fn has_pinned_flag(p: Preset) -> &'static str {
    if p >= V5_14 { "MMF_HAS_PINNED" } else { "mm->has_pinned" }
}

/// FOLL_LONGTERM's migration of folios that may not stay pinned:
/// check_and_migrate_cma_pages (CMA only) until d1e153fea2a8 (5.14) made it
/// check_and_migrate_movable_pages (ZONE_MOVABLE too).
pub fn longterm_migrate(p: Preset) -> KFn {
    if p >= V5_14 {
        ("check_and_migrate_movable_pages", GUP_C)
    } else {
        ("check_and_migrate_cma_pages", GUP_C)
    }
}

/// Writeback's "clean it and write-protect its PTEs" (page_mkclean inside).
pub fn clear_dirty_for_io(p: Preset) -> KFn {
    if p >= V5_18 {
        ("folio_clear_dirty_for_io", "mm/page-writeback.c")
    } else {
        ("clear_page_dirty_for_io", "mm/page-writeback.c")
    }
}

/// The rmap walk that write-protects and cleans a page-cache folio's PTEs.
pub fn mkclean(p: Preset) -> &'static str {
    if p >= V5_18 { "folio_mkclean" } else { "page_mkclean" }
}

/// The end of writeback (PG_writeback cleared).
pub fn end_writeback(p: Preset) -> KFn {
    if p >= V5_18 {
        ("folio_end_writeback", FILEMAP_C)
    } else {
        ("end_page_writeback", FILEMAP_C)
    }
}

/// Freeing a folio's private data (buffer heads) before reclaim.
pub fn release_folio(p: Preset) -> KFn {
    if p >= V5_18 {
        ("filemap_release_folio", FILEMAP_C)
    } else {
        ("try_to_release_page", FILEMAP_C)
    }
}

/// btrfs's read of one page-cache page (it attaches private data).
pub fn btrfs_readpage(p: Preset) -> KFn {
    if p >= V5_11 {
        ("btrfs_do_readpage", "fs/btrfs/extent_io.c")
    } else {
        ("__do_readpage", "fs/btrfs/extent_io.c")
    }
}

/// Buffered read(2).
pub fn buffered_read(p: Preset) -> KFn {
    if p >= V5_14 {
        ("filemap_read", FILEMAP_C)
    } else {
        ("generic_file_buffered_read", FILEMAP_C)
    }
}

/// madvise advice that only changes VMA flags.
pub fn madvise_flags(p: Preset) -> KFn {
    if p >= V5_18 {
        ("madvise_vma_behavior", "mm/madvise.c")
    } else {
        ("madvise_behavior", "mm/madvise.c")
    }
}

/// A bio borrowing an ITER_BVEC's bvec array (BIO_CLONED in 6.x).
pub fn bio_bvec(p: Preset) -> KFn {
    if p >= V5_14 {
        ("bio_iov_bvec_set", "block/bio.c")
    } else {
        ("__bio_iov_bvec_add_pages", "block/bio.c")
    }
}

/// The page-cache invalidation after an O_DIRECT write.
pub fn invalidate_after_dio_write(p: Preset) -> KFn {
    if p >= V6_5 {
        ("kiocb_invalidate_post_direct_write", FILEMAP_C)
    } else {
        ("invalidate_inode_pages2_range", "mm/truncate.c")
    }
}

fn io_uring_file(p: Preset) -> &'static str {
    if p >= V6_0 { "io_uring/rsrc.c" } else { "fs/io_uring.c" }
}

/// IORING_REGISTER_BUFFERS.
pub fn io_uring_register(p: Preset) -> KFn {
    ("io_sqe_buffer_register", io_uring_file(p))
}

/// Where registration drops the pins a coalesced buffer no longer needs:
/// inside io_sqe_buffer_register (6.3), io_do_coalesce_buffer (6.12),
/// io_coalesce_buffer by 6.18.
pub fn io_uring_coalesce(p: Preset) -> KFn {
    if p >= V6_18 {
        ("io_coalesce_buffer", "io_uring/rsrc.c")
    } else if p >= V6_12 {
        ("io_do_coalesce_buffer", "io_uring/rsrc.c")
    } else {
        io_uring_register(p)
    }
}

/// IORING_UNREGISTER_BUFFERS: the per-buffer unpin.
pub fn io_uring_unregister(p: Preset) -> KFn {
    if p >= V5_14 {
        ("io_buffer_unmap", io_uring_file(p))
    } else {
        ("io_sqe_buffer_unregister", io_uring_file(p))
    }
}

/// Reclaim's per-folio loop.
pub fn shrink_list(p: Preset) -> KFn {
    if p >= V6_1 {
        ("shrink_folio_list", VMSCAN_C)
    } else {
        ("shrink_page_list", VMSCAN_C)
    }
}

/// Reclaim's isolation of LRU folios (a reference each).
pub fn isolate_lru(p: Preset) -> KFn {
    if p >= V6_1 {
        ("isolate_lru_folios", VMSCAN_C)
    } else {
        ("isolate_lru_pages", VMSCAN_C)
    }
}

/// Reclaim's putback of what it could not free.
pub fn put_back_lru(p: Preset) -> KFn {
    if p >= V6_1 {
        ("move_folios_to_lru", VMSCAN_C)
    } else {
        ("move_pages_to_lru", VMSCAN_C)
    }
}

/// The accessed-bit and PG_referenced check of reclaim.
pub fn check_references(p: Preset) -> KFn {
    if p >= V5_18 {
        ("folio_check_references", VMSCAN_C)
    } else {
        ("page_check_references", VMSCAN_C)
    }
}

/// Dropping a folio from the swap cache once no swap entry needs it.
pub fn free_swap(p: Preset) -> KFn {
    if p >= V6_1 {
        ("folio_free_swap", "mm/swapfile.c")
    } else {
        ("try_to_free_swap", "mm/swapfile.c")
    }
}

/// The refcounting page-list getter of an iov_iter.
pub fn iov_iter_get_pages(p: Preset) -> KFn {
    if p >= V6_0 {
        ("iov_iter_get_pages2", "lib/iov_iter.c")
    } else {
        ("iov_iter_get_pages", "lib/iov_iter.c")
    }
}

/// What block O_DIRECT's bio_iov_iter_get_pages calls to get user pages:
/// iov_iter_get_pages (FOLL_GET), iov_iter_get_pages2 in 6.0-6.1, the
/// gup-flags iov_iter_get_pages again in 6.2-6.4, iov_iter_extract_pages
/// (pins) from 6.5.
pub fn dio_get_user_pages(p: Preset) -> &'static str {
    if p >= V6_5 {
        "iov_iter_extract_pages"
    } else if p >= V6_2 || p < V6_0 {
        "iov_iter_get_pages"
    } else {
        "iov_iter_get_pages2"
    }
}

/// set_page_dirty_lock: mm/page-writeback.c, a folio-compat wrapper around
/// folio_mark_dirty_lock by 6.18.
pub fn set_page_dirty_lock(p: Preset) -> KFn {
    if p >= V6_18 {
        ("set_page_dirty_lock", "mm/folio-compat.c")
    } else {
        ("set_page_dirty_lock", "mm/page-writeback.c")
    }
}

/// Taking one plain reference: get_page, folio_get from 5.18 (include/linux/mm.h).
pub fn get_ref(p: Preset) -> &'static str {
    if p >= V5_18 { "folio_get" } else { "get_page" }
}

/// put_page: an inline in include/linux/mm.h.
pub fn put_page(_p: Preset) -> KFn {
    ("put_page", "include/linux/mm.h")
}

/// bio_release_pages: a function of block/bio.c, then (5.18) an inline
/// wrapper in include/linux/bio.h around __bio_release_pages.
pub fn bio_release_pages(p: Preset) -> KFn {
    if p >= V5_18 {
        ("bio_release_pages", "include/linux/bio.h")
    } else {
        ("bio_release_pages", "block/bio.c")
    }
}

/// fork's copy of the VMA list: kernel/fork.c, mm/mmap.c by 6.18.
pub fn dup_mmap(p: Preset) -> KFn {
    if p >= V6_18 {
        ("dup_mmap", "mm/mmap.c")
    } else {
        ("dup_mmap", "kernel/fork.c")
    }
}

/// A read from a pipe: pipe_read, anon_pipe_read by 6.18.
pub fn pipe_read(p: Preset) -> KFn {
    if p >= V6_18 {
        ("anon_pipe_read", "fs/pipe.c")
    } else {
        ("pipe_read", "fs/pipe.c")
    }
}

/// Reclaim giving an anon folio a swap slot and a swap-cache entry:
/// add_to_swap, folio_alloc_swap called from shrink_folio_list by 6.18.
pub fn add_to_swap(p: Preset) -> KFn {
    if p >= V6_18 {
        ("folio_alloc_swap", "mm/swapfile.c")
    } else {
        ("add_to_swap", "mm/swap_state.c")
    }
}
