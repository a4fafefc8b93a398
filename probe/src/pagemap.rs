//! What /proc/PID/pagemap, /proc/kpagecount and /proc/kpageflags say about a
//! page, decoded from their 64-bit entries (the kernel's
//! Documentation/admin-guide/mm/pagemap.rst; fs/proc/task_mmu.c:
//! pte_to_pagemap_entry, fs/proc/page.c: stable_page_flags and
//! get_kpage_count, Linux 6.18). Pure: the bytes come from the caller.

/// One /proc/PID/pagemap entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PagemapEntry(pub u64);

impl PagemapEntry {
    pub fn from_bytes(b: [u8; 8]) -> PagemapEntry {
        PagemapEntry(u64::from_ne_bytes(b))
    }

    /// Bit 63: the page is present (a PTE or PMD maps it).
    pub fn present(self) -> bool {
        self.0 >> 63 & 1 == 1
    }

    /// Bit 62: a swap entry (or a migration entry) is in the PTE.
    pub fn swapped(self) -> bool {
        self.0 >> 62 & 1 == 1
    }

    /// Bit 61: a file page or shared anonymous memory (the folio is not
    /// anonymous: `!folio_test_anon`). Clear for the zero page, which
    /// vm_normal_page does not return.
    pub fn file_or_shared(self) -> bool {
        self.0 >> 61 & 1 == 1
    }

    /// Bit 56: with CONFIG_PAGE_MAPCOUNT, folio_precise_page_mapcount == 1
    /// (the page is mapped exactly once). Not PG_anon_exclusive.
    pub fn exclusively_mapped(self) -> bool {
        self.0 >> 56 & 1 == 1
    }

    /// Bits 0-54: the page frame number, when present (zero without
    /// CAP_SYS_ADMIN).
    pub fn pfn(self) -> Option<u64> {
        if self.present() {
            Some(self.0 & ((1 << 55) - 1))
        } else {
            None
        }
    }
}

/// One /proc/kpageflags entry (include/uapi/linux/kernel-page-flags.h, and
/// the "kernel hacking" bits of include/linux/kernel-page-flags.h that
/// stable_page_flags exports too).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KpageFlags(pub u64);

impl KpageFlags {
    pub const LOCKED: u32 = 0;
    pub const UPTODATE: u32 = 3;
    pub const DIRTY: u32 = 4;
    pub const LRU: u32 = 5;
    pub const ACTIVE: u32 = 6;
    pub const WRITEBACK: u32 = 8;
    pub const MMAP: u32 = 11;
    pub const ANON: u32 = 12;
    pub const SWAPCACHE: u32 = 13;
    pub const SWAPBACKED: u32 = 14;
    pub const COMPOUND_HEAD: u32 = 15;
    pub const COMPOUND_TAIL: u32 = 16;
    pub const HUGE: u32 = 17;
    pub const UNEVICTABLE: u32 = 18;
    pub const NOPAGE: u32 = 20;
    pub const KSM: u32 = 21;
    pub const THP: u32 = 22;
    pub const ZERO_PAGE: u32 = 24;
    pub const MLOCKED: u32 = 33;
    /// PG_owner_2: PG_anon_exclusive on an anonymous page, PG_mappedtodisk
    /// on a page-cache page. Read from the folio's (head page's) flags.
    pub const OWNER_2: u32 = 34;
    /// PG_private: the filesystem attached private data (buffer heads).
    pub const PRIVATE: u32 = 35;

    pub fn from_bytes(b: [u8; 8]) -> KpageFlags {
        KpageFlags(u64::from_ne_bytes(b))
    }

    pub fn has(self, bit: u32) -> bool {
        bit < 64 && self.0 >> bit & 1 == 1
    }

    pub fn anon(self) -> bool {
        self.has(Self::ANON)
    }

    pub fn zero_page(self) -> bool {
        self.has(Self::ZERO_PAGE)
    }

    /// Part of a large folio (THP, mTHP, a large page-cache folio, the huge
    /// zero page).
    pub fn compound(self) -> bool {
        self.has(Self::COMPOUND_HEAD) || self.has(Self::COMPOUND_TAIL)
    }

    pub fn tail(self) -> bool {
        self.has(Self::COMPOUND_TAIL)
    }

    /// PG_anon_exclusive, meaningful only on an anonymous head page (or a
    /// small folio): stable_page_flags copies the head page's flags.
    pub fn anon_exclusive(self) -> Option<bool> {
        (self.anon() && !self.tail()).then(|| self.has(Self::OWNER_2))
    }

    /// The names of the set bits this module knows, for transcripts.
    pub fn names(self) -> Vec<&'static str> {
        const NAMES: [(u32, &str); 21] = [
            (KpageFlags::LOCKED, "locked"),
            (KpageFlags::UPTODATE, "uptodate"),
            (KpageFlags::DIRTY, "dirty"),
            (KpageFlags::LRU, "lru"),
            (KpageFlags::ACTIVE, "active"),
            (KpageFlags::WRITEBACK, "writeback"),
            (KpageFlags::MMAP, "mmap"),
            (KpageFlags::ANON, "anon"),
            (KpageFlags::SWAPCACHE, "swapcache"),
            (KpageFlags::SWAPBACKED, "swapbacked"),
            (KpageFlags::COMPOUND_HEAD, "head"),
            (KpageFlags::COMPOUND_TAIL, "tail"),
            (KpageFlags::HUGE, "huge"),
            (KpageFlags::UNEVICTABLE, "unevictable"),
            (KpageFlags::NOPAGE, "nopage"),
            (KpageFlags::KSM, "ksm"),
            (KpageFlags::THP, "thp"),
            (KpageFlags::ZERO_PAGE, "zero_page"),
            (KpageFlags::MLOCKED, "mlocked"),
            (KpageFlags::OWNER_2, "owner_2"),
            (KpageFlags::PRIVATE, "private"),
        ];
        NAMES.iter().filter(|(b, _)| self.has(*b)).map(|(_, n)| *n).collect()
    }
}

/// Splits a buffer read from a pagemap-style file into its 64-bit entries.
/// A short read (a truncated file) yields only the whole entries.
pub fn entries(buf: &[u8]) -> impl Iterator<Item = u64> + '_ {
    buf.chunks_exact(8).map(|c| {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        u64::from_ne_bytes(b)
    })
}

/// The order of the folio whose head is at `head`, from the flags of the
/// frames that follow it: a compound folio is its head and then only tails.
/// `flags_after[i]` are the flags of frame `head + 1 + i`.
pub fn folio_order(head: KpageFlags, flags_after: &[KpageFlags]) -> Option<u8> {
    if !head.has(KpageFlags::COMPOUND_HEAD) {
        return (!head.tail()).then_some(0);
    }
    let tails = flags_after.iter().take_while(|f| f.tail()).count() + 1;
    tails.is_power_of_two().then(|| tails.trailing_zeros() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Bytes as /proc/self/pagemap gives them on x86-64 (little endian).
    fn le(v: u64) -> [u8; 8] {
        v.to_le_bytes()
    }

    #[test]
    fn a_present_exclusively_mapped_anonymous_page() {
        // present | exclusive | soft-dirty | PFN 0x12345
        let e = PagemapEntry::from_bytes(le(1 << 63 | 1 << 56 | 1 << 55 | 0x12345));
        assert!(e.present());
        assert!(!e.swapped());
        assert!(!e.file_or_shared());
        assert!(e.exclusively_mapped());
        assert_eq!(e.pfn(), Some(0x12345));
    }

    #[test]
    fn a_shared_file_page_and_an_absent_page() {
        let e = PagemapEntry::from_bytes(le(1 << 63 | 1 << 61 | 7));
        assert!(e.file_or_shared() && !e.exclusively_mapped());
        assert_eq!(e.pfn(), Some(7));
        let none = PagemapEntry::from_bytes(le(1 << 55));
        assert!(!none.present());
        assert_eq!(none.pfn(), None);
    }

    #[test]
    fn a_swap_entry_has_no_pfn() {
        // swapped: type 1, offset 0x40 in bits 5-54
        let e = PagemapEntry::from_bytes(le(1 << 62 | 0x40 << 5 | 1));
        assert!(e.swapped() && !e.present());
        assert_eq!(e.pfn(), None);
    }

    #[test]
    fn kpageflags_of_an_anonymous_exclusive_page() {
        // uptodate, dirty, lru, mmap, anon, swapbacked, owner_2
        let raw = 1u64 << 3 | 1 << 4 | 1 << 5 | 1 << 11 | 1 << 12 | 1 << 14 | 1 << 34;
        let f = KpageFlags::from_bytes(le(raw));
        assert!(f.anon() && !f.zero_page() && !f.compound());
        assert_eq!(f.anon_exclusive(), Some(true));
        assert_eq!(
            f.names(),
            ["uptodate", "dirty", "lru", "mmap", "anon", "swapbacked", "owner_2"]
        );
    }

    #[test]
    fn owner_2_is_not_anon_exclusive_on_a_file_page_or_a_tail() {
        let file = KpageFlags(1 << 34 | 1 << 3);
        assert_eq!(file.anon_exclusive(), None);
        let tail = KpageFlags(1 << 12 | 1 << 16 | 1 << 22);
        assert_eq!(tail.anon_exclusive(), None);
    }

    #[test]
    fn the_zero_page_and_the_huge_zero_page() {
        let zero = KpageFlags(1 << 24 | 1 << 3);
        assert!(zero.zero_page() && !zero.anon() && !zero.compound());
        let huge_zero = KpageFlags(1 << 24 | 1 << 22 | 1 << 15);
        assert!(huge_zero.zero_page() && huge_zero.compound());
    }

    #[test]
    fn folio_order_counts_the_tails_after_a_head() {
        let head = KpageFlags(1 << 15 | 1 << 22 | 1 << 12);
        let tail = KpageFlags(1 << 16 | 1 << 22 | 1 << 12);
        let other = KpageFlags(1 << 12);
        let mut after = vec![tail; 15];
        after.push(other);
        assert_eq!(folio_order(head, &after), Some(4));
        assert_eq!(folio_order(other, &[]), Some(0));
        // A tail is not a head: no order from there.
        assert_eq!(folio_order(tail, &after), None);
        // 511 tails and a head: a PMD-sized THP.
        assert_eq!(folio_order(head, &vec![tail; 511]), Some(9));
        // A run that is not a power of two is not a folio.
        assert_eq!(folio_order(head, &[tail, tail]), None);
    }

    #[test]
    fn entries_ignores_a_truncated_tail() {
        let mut buf = Vec::new();
        buf.extend_from_slice(&le(1));
        buf.extend_from_slice(&le(2));
        buf.extend_from_slice(&[9, 9, 9]);
        assert_eq!(entries(&buf).collect::<Vec<_>>(), [1, 2]);
    }
}
