//! Reading the kernel's view of a worker's pages: /proc/PID/pagemap, then
//! /proc/kpageflags and /proc/kpagecount at the page's frame. Reading them
//! changes nothing: no fault, no reference.

use crate::compare::LivePage;
use crate::maps;
use crate::pagemap::{KpageFlags, PagemapEntry, entries, folio_order};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

const PAGE: u64 = 4096;
/// The largest folio looked for: a PMD-sized THP (512 pages).
const MAX_FOLIO: u64 = 512;

pub struct Kpage {
    flags: File,
    count: File,
}

impl Kpage {
    pub fn open() -> io::Result<Kpage> {
        Ok(Kpage {
            flags: File::open("/proc/kpageflags")?,
            count: File::open("/proc/kpagecount")?,
        })
    }

    fn read(&self, f: &File, first: u64, n: u64) -> io::Result<Vec<u64>> {
        let mut buf = vec![0u8; (n * 8) as usize];
        let got = f.read_at(&mut buf, first * 8)?;
        buf.truncate(got);
        Ok(entries(&buf).collect())
    }

    pub fn flags(&self, pfn: u64) -> io::Result<KpageFlags> {
        Ok(KpageFlags(
            self.read(&self.flags, pfn, 1)?.first().copied().unwrap_or(0),
        ))
    }

    pub fn count(&self, pfn: u64) -> io::Result<u64> {
        Ok(self.read(&self.count, pfn, 1)?.first().copied().unwrap_or(0))
    }

    /// The head PFN and order of the folio holding `pfn`.
    pub fn folio(&self, pfn: u64) -> io::Result<(u64, Option<u8>)> {
        let f = self.flags(pfn)?;
        if !f.compound() {
            return Ok((pfn, Some(0)));
        }
        let mut head = pfn;
        if f.tail() {
            let lo = pfn.saturating_sub(MAX_FOLIO - 1);
            let before: Vec<KpageFlags> = self
                .read(&self.flags, lo, pfn - lo)?
                .into_iter()
                .map(KpageFlags)
                .collect();
            match before.iter().rposition(|f| f.has(KpageFlags::COMPOUND_HEAD)) {
                Some(i) => head = lo + i as u64,
                None => return Ok((pfn, None)),
            }
        }
        let head_flags = self.flags(head)?;
        let after: Vec<KpageFlags> = self
            .read(&self.flags, head + 1, MAX_FOLIO)?
            .into_iter()
            .map(KpageFlags)
            .collect();
        Ok((head, folio_order(head_flags, &after)))
    }
}

pub fn pagemap_entry(pid: i32, addr: u64) -> io::Result<PagemapEntry> {
    let f = File::open(format!("/proc/{pid}/pagemap"))?;
    let mut b = [0u8; 8];
    f.read_exact_at(&mut b, addr / PAGE * 8)?;
    Ok(PagemapEntry::from_bytes(b))
}

pub fn maps_of(pid: i32) -> Vec<maps::MapLine> {
    std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .map(|t| maps::parse(&t))
        .unwrap_or_default()
}

/// Everything about one page but its data (which needs the worker).
pub fn page(k: &Kpage, pid: i32, addr: u64, lines: &[maps::MapLine]) -> io::Result<LivePage> {
    let entry = pagemap_entry(pid, addr)?;
    let mut p = LivePage {
        mapped: maps::covering(lines, addr).is_some(),
        entry,
        ..LivePage::default()
    };
    if let Some(pfn) = entry.pfn() {
        p.flags = Some(k.flags(pfn)?);
        p.mapcount = Some(k.count(pfn)?);
        let (head, order) = k.folio(pfn)?;
        p.head = Some(head);
        p.order = order;
    }
    Ok(p)
}

/// /proc/vmstat as name -> value.
pub fn vmstat() -> io::Result<std::collections::BTreeMap<String, u64>> {
    let text = std::fs::read_to_string("/proc/vmstat")?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect())
}
