//! Model against machine, page by page: what the model's world says about a
//! page a lesson names, what the kernel's /proc files said about it, and
//! which of those can be compared honestly. Pure: the live side arrives as
//! data (`LivePage`), so these rules are tested without a kernel.

use crate::pagemap::{KpageFlags, PagemapEntry};
use crate::report::{Check, Source, Verdict};
use pinlab_lessons::address::Address;
use pinlab_lessons::expect::{Subject, Value, What};
use pinlab_model::folio::FolioKind;
use pinlab_model::mm::{Backing, Pte};
use pinlab_model::{FolioId, World};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Global /proc/vmstat counters compared as per-step deltas. Others the
/// model keeps (pgfault, pgscan) move with every process on the machine.
pub const VMSTAT_COUNTERS: [&str; 5] = [
    "nr_foll_pin_acquired",
    "nr_foll_pin_released",
    "thp_fault_alloc",
    "thp_split_pmd",
    "thp_collapse_alloc",
];

/// What the model says about one process page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelPage {
    pub present: bool,
    pub swapped: bool,
    pub folio: Option<FolioId>,
    /// Page index inside its folio.
    pub index: usize,
    pub zero: bool,
    pub anon: bool,
    pub order: u8,
    pub mapcount: i64,
    /// Mapped by a PMD (a whole THP), and the mapcount of its folio's head
    /// page: pagemap's bit 56 looks at the head page for every page of a
    /// PMD mapping (see `expected_mapped_once`).
    pub pmd: bool,
    pub head_mapcount: i64,
    pub anon_exclusive: bool,
    pub dirty: bool,
    pub writeback: bool,
    pub private: bool,
    pub mlocked: bool,
    pub data: Option<String>,
    /// The mapping is of a file (or shmem), not anonymous memory.
    pub file_backed: bool,
    /// The folio's refcount and (a large folio's) pincount.
    pub refcount: i64,
    pub pincount: i64,
}

/// The model's page at `proc:vma[page]`; None when the process or the
/// mapping does not exist in the model.
pub fn model_page(w: &World, proc: &str, vma: &str, page: u64) -> Option<ModelPage> {
    let pid = w.pid_of(proc).ok()?;
    if !w.proc(pid).alive {
        return None;
    }
    let region = w.proc(pid).mm.regions.get(vma)?;
    if page >= region.pages {
        return None;
    }
    let vpn = region.base + page;
    let v = w.proc(pid).mm.vma_at(vpn);
    let file_backed = v.is_some_and(|v| matches!(v.backing, Backing::File { .. }));
    let pte = w.pte(pid, vpn);
    let mut m = ModelPage {
        present: pte.is_present(),
        swapped: matches!(pte, Pte::Swap { .. }),
        folio: None,
        index: 0,
        zero: false,
        anon: false,
        order: 0,
        mapcount: 0,
        pmd: pte.is_pmd(),
        head_mapcount: 0,
        anon_exclusive: false,
        dirty: false,
        writeback: false,
        private: false,
        mlocked: false,
        data: pinlab_model::access::peek(w, pid, vpn).map(|d| d.tag().to_string()),
        file_backed,
        refcount: 0,
        pincount: 0,
    };
    if let Some((id, index)) = pte.folio() {
        let f = w.folio(id);
        m.folio = Some(id);
        m.index = index;
        m.zero = f.kind == FolioKind::Zero;
        m.anon = f.kind == FolioKind::Anon;
        m.order = f.order;
        m.mapcount = f.page_mapcount(index) as i64;
        m.head_mapcount = f.page_mapcount(0) as i64;
        m.anon_exclusive = f.pages[index].anon_exclusive;
        m.dirty = f.flags.dirty;
        m.writeback = f.flags.writeback;
        m.private = f.flags.private;
        m.mlocked = f.flags.mlocked;
        m.refcount = f.refcount;
        m.pincount = f.pincount;
    }
    Some(m)
}

/// What the kernel's /proc files said about one page of a worker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LivePage {
    /// /proc/PID/maps covers the address.
    pub mapped: bool,
    pub entry: PagemapEntry,
    pub flags: Option<KpageFlags>,
    /// /proc/kpagecount: folio_precise_page_mapcount (CONFIG_PAGE_MAPCOUNT).
    pub mapcount: Option<u64>,
    /// PFN of the folio's head page.
    pub head: Option<u64>,
    pub order: Option<u8>,
    /// The tag a load returns (read only when the page is present, so that
    /// looking does not fault anything in).
    pub data: Option<String>,
    /// The folio's `_refcount` (its head page's), read through BPF once the
    /// per-CPU LRU batches drained (crate::counts); None where BPF cannot run.
    pub refcount: Option<i64>,
    /// A large folio's `_pincount` (None for an order-0 folio, whose pins
    /// are in its refcount, and where BPF cannot run).
    pub pincount: Option<i64>,
}

/// `mm/gup.c`: a small folio's pins are counted in its refcount in units of
/// GUP_PIN_COUNTING_BIAS (include/linux/mm.h).
pub const GUP_PIN_COUNTING_BIAS: i64 = 1024;

impl LivePage {
    /// `include/linux/mm.h: folio_maybe_dma_pinned` on the counts read: a
    /// large folio's exact pincount, else the refcount against the bias.
    /// An order-1 folio has had a _pincount only since 6.6, so it is not
    /// judged.
    pub fn maybe_dma_pinned(&self) -> Option<bool> {
        match self.order? {
            0 => Some(self.refcount? >= GUP_PIN_COUNTING_BIAS),
            1 => None,
            _ => Some(self.pincount? > 0),
        }
    }
}

/// Everything observed live after one step.
#[derive(Clone, Debug, Default)]
pub struct LiveStep {
    /// By address text (`p:mem[0]`).
    pub pages: BTreeMap<String, LivePage>,
    /// kpagecount before the step, by PFN, for the pages observed then.
    pub mapcount_before: HashMap<u64, u64>,
    pub vmstat_delta: BTreeMap<String, i64>,
    /// Counters that moved while pinlab was idle: other processes use them.
    pub disturbed: BTreeSet<String>,
    /// The step's errno (None: it succeeded).
    pub errno: Option<String>,
    /// Each label's page (captured live when the lesson labelled it), as
    /// its frame shows it now.
    pub labels: HashMap<String, LivePage>,
    /// What each pipe holds (read with tee(2), which consumes nothing).
    pub pipes: HashMap<String, Vec<String>>,
    /// What each registered io_uring buffer holds (read by WRITE_FIXED).
    pub rings: HashMap<String, Vec<String>>,
    /// The compared counters' change since the lesson began: what the
    /// model's counters (which start at zero) say.
    pub vmstat_since_start: BTreeMap<String, i64>,
    /// Refcount and pincount before the step, by head PFN.
    pub counts_before: HashMap<u64, (i64, Option<i64>)>,
    /// MMF_HAS_PINNED of each live process, read through BPF.
    pub has_pinned: BTreeMap<String, bool>,
    /// Why refcounts cannot be read here (None: they are read).
    pub counts_unavailable: Option<String>,
}

fn check(what: &str, subject: &str, model: impl ToString, live: impl ToString) -> Check {
    let (model, live) = (model.to_string(), live.to_string());
    let verdict = if model == live {
        Verdict::Agree
    } else {
        Verdict::Disagree
    };
    Check {
        source: Source::Predicted,
        what: what.into(),
        subject: subject.into(),
        model,
        live,
        verdict,
        line: None,
        holds_live: None,
    }
}

/// The model's predictions for one page, each compared with what the kernel
/// shows. Only what userspace can read is compared; refcount and pincount
/// are not visible from userspace and are never inferred.
pub fn page_checks(subject: &str, m: &ModelPage, l: &LivePage) -> Vec<Check> {
    let mut out = vec![check("present", subject, m.present, l.entry.present())];
    if !(m.present && l.entry.present()) {
        return out;
    }
    let Some(flags) = l.flags else {
        return out;
    };
    out.push(check("zero_page", subject, m.zero, flags.zero_page()));
    if m.zero || flags.zero_page() {
        return out;
    }
    out.push(check("anon", subject, m.anon, flags.anon()));
    if let Some(order) = l.order {
        out.push(check("folio_order", subject, m.order, order));
    }
    if let Some(mc) = l.mapcount {
        out.push(check("mapcount", subject, m.mapcount, mc));
    }
    if let Some(r) = l.refcount {
        out.push(check("refcount", subject, m.refcount, r));
    }
    if let Some(p) = l.pincount {
        out.push(check("pincount", subject, m.pincount, p));
    }
    out.push(check(
        "mapped_once",
        subject,
        expected_mapped_once(m),
        l.entry.exclusively_mapped(),
    ));
    if m.anon
        && let Some(ex) = flags.anon_exclusive()
    {
        out.push(check("anon_exclusive", subject, m.anon_exclusive, ex));
    }
    if !m.anon {
        out.push(check("dirty", subject, m.dirty, flags.has(KpageFlags::DIRTY)));
        out.push(check("buffers", subject, m.private, flags.has(KpageFlags::PRIVATE)));
        out.push(check(
            "writeback",
            subject,
            m.writeback,
            flags.has(KpageFlags::WRITEBACK),
        ));
    }
    out.push(check("mlocked", subject, m.mlocked, flags.has(KpageFlags::MLOCKED)));
    if let (Some(md), Some(ld)) = (&m.data, &l.data) {
        out.push(check("data", subject, md, ld));
    }
    out
}

/// What pagemap's bit 56 (PM_MMAP_EXCLUSIVE) shows for a page the model
/// describes. With CONFIG_PAGE_MAPCOUNT it is `folio_precise_page_mapcount
/// (folio, page) == 1`; but for a PMD mapping, fs/proc/task_mmu.c
/// (pagemap_pmd_range_thp, 6.18 and 7.1) passes `page = pmd_page(pmd)`, the
/// head page, for every one of the 512 entries: bit 56 then tells whether
/// the head page is mapped once. Found by `pinlab probe`: after a parent's
/// COW of page 0 of a THP its child still maps by PMD, page 511 has mapcount
/// 2 and bit 56 set.
pub fn expected_mapped_once(m: &ModelPage) -> bool {
    if m.pmd { m.head_mapcount == 1 } else { m.mapcount == 1 }
}

/// Whether pairs of present pages share a folio, in the model (the same
/// folio) and live (the same head PFN). Every pair of the first `named`
/// pages (the ones the lesson names); of the rest, each page with the page
/// before it in its mapping (where a folio ends) and with the same page of
/// every other process (what fork shared): linear, not every pair.
pub fn same_folio_checks(pages: &[(String, &ModelPage, &LivePage)], named: usize) -> Vec<Check> {
    let key = |a: &str| -> Option<(String, String, u64)> {
        let (proc, rest) = a.split_once(':')?;
        let (vma, idx) = rest.strip_suffix(']')?.split_once('[')?;
        Some((proc.into(), vma.into(), idx.parse().ok()?))
    };
    let keys: Vec<Option<(String, String, u64)>> = pages.iter().map(|(a, _, _)| key(a)).collect();
    let related = |i: usize, j: usize| {
        if j < named {
            return true;
        }
        let (Some((pi, vi, ni)), Some((pj, vj, nj))) = (&keys[i], &keys[j]) else {
            return false;
        };
        vi == vj && ((pi == pj && ni + 1 == *nj) || (pi != pj && ni == nj))
    };
    let mut out = Vec::new();
    for (i, (a, ma, la)) in pages.iter().enumerate() {
        for (j, (b, mb, lb)) in pages.iter().enumerate().skip(i + 1) {
            if !related(i, j) {
                continue;
            }
            let (Some(fa), Some(fb), Some(ha), Some(hb)) = (ma.folio, mb.folio, la.head, lb.head) else {
                continue;
            };
            if ma.zero || mb.zero {
                continue;
            }
            out.push(check("same_folio", &format!("{a}, {b}"), fa == fb, ha == hb));
        }
    }
    out
}

/// MMF_HAS_PINNED of every live process the model also has.
pub fn has_pinned_checks(after: &World, live: &LiveStep) -> Vec<Check> {
    live.has_pinned
        .iter()
        .filter_map(|(proc, &l)| {
            let pid = after.pid_of(proc).ok()?;
            let p = after.proc(pid);
            p.alive.then(|| check("has_pinned", proc, p.mm.has_pinned, l))
        })
        .collect()
}

/// Per-step deltas of the global counters.
pub fn vmstat_checks(before: &World, after: &World, live: &LiveStep) -> Vec<Check> {
    VMSTAT_COUNTERS
        .iter()
        .filter_map(|name| {
            let model = after.vmstat.get(name)? as i64 - before.vmstat.get(name)? as i64;
            let live_delta = *live.vmstat_delta.get(*name)?;
            let mut c = check("vmstat_delta", name, model, live_delta);
            if c.verdict == Verdict::Disagree && live.disturbed.contains(*name) {
                c.verdict = Verdict::Skipped(format!(
                    "{name} is global and moved while pinlab was idle: another process disturbed it"
                ));
            }
            Some(c)
        })
        .collect()
}

/// Why an expectation cannot be checked from userspace, or the live value it
/// looks at.
pub fn live_value(what: What, subject: &Subject, live: &LiveStep) -> Result<Value, String> {
    let page = |a: &Address| -> Result<&LivePage, String> {
        match a {
            Address::Page { .. } => live
                .pages
                .get(&a.to_string())
                .ok_or_else(|| format!("{a} was not observed (no live process or mapping)")),
            Address::Label(l) => live
                .labels
                .get(l)
                .ok_or_else(|| format!("label '{l}' was not captured live")),
            _ => Err(format!("{a} is kernel state: no /proc file shows it")),
        }
    };
    let flags = |a: &Address| -> Result<KpageFlags, String> {
        let p = page(a)?;
        p.flags.ok_or_else(|| format!("{a} is not present: no page to look at"))
    };
    let head = |a: &Address| -> Result<u64, String> { page(a)?.head.ok_or_else(|| format!("{a} is not present")) };
    match (what, subject) {
        (What::Refcount | What::Pincount | What::MaybeDmaPinned | What::RefcountDelta | What::PincountDelta, _)
        | (What::HasPinned, _)
            if live.counts_unavailable.is_some() =>
        {
            Err(format!(
                "refcounts, pincounts and mm->flags are read through BPF, which cannot run here: {}",
                live.counts_unavailable.as_deref().unwrap_or_default()
            ))
        }
        (What::Refcount, Subject::At(a)) => {
            let p = page(a)?;
            if flags(a)?.zero_page() {
                return Err("the zero page's refcount is not counted per user".into());
            }
            p.refcount
                .map(Value::Int)
                .ok_or_else(|| format!("{a}'s refcount was not read"))
        }
        (What::Pincount, Subject::At(a)) => {
            let p = page(a)?;
            match p.order {
                Some(0) => Err("an order-0 folio has no _pincount: its pins are in its refcount".into()),
                _ => p
                    .pincount
                    .map(Value::Int)
                    .ok_or_else(|| format!("{a}'s pincount was not read")),
            }
        }
        (What::MaybeDmaPinned, Subject::At(a)) => {
            let p = page(a)?;
            if flags(a)?.zero_page() {
                return Err("the zero page's refcount is not counted per user".into());
            }
            p.maybe_dma_pinned()
                .map(Value::Bool)
                .ok_or_else(|| format!("{a}: folio_maybe_dma_pinned of an order-1 folio depends on the release"))
        }
        (What::RefcountDelta | What::PincountDelta, Subject::At(a)) => {
            if matches!(a, Address::Label(_)) {
                return Err("a label's count before the step was not read".into());
            }
            let p = page(a)?;
            let head = head(a)?;
            let (rb, pb) = live
                .counts_before
                .get(&head)
                .copied()
                .ok_or_else(|| format!("{a}'s folio was not observed before the step"))?;
            let now = if what == What::RefcountDelta {
                p.refcount
            } else {
                p.pincount
            };
            let before = if what == What::RefcountDelta { Some(rb) } else { pb };
            now.zip(before)
                .map(|(n, b)| Value::Int(n - b))
                .ok_or_else(|| format!("{a}'s count was not read"))
        }
        (What::HasPinned, Subject::At(Address::Process(p) | Address::Page { proc: p, .. })) => live
            .has_pinned
            .get(p)
            .copied()
            .map(Value::Bool)
            .ok_or_else(|| format!("{p}'s mm->flags were not read")),
        (What::BioFlags | What::WillPin, _) => Err("bios and iterators are kernel-internal".into()),
        (What::Zone, _) => Err("no /proc file gives a page's zone".into()),
        (What::Lru, _) => Err(
            "PG_lru is set only when a per-CPU folio batch drains (lru_add_drain), so a snapshot can miss it".into(),
        ),
        (What::Freed, _) => Err("a freed page may be reused at once: its PFN says nothing".into()),
        (What::PteWritable | What::PteDirty, _) => Err("pagemap does not export a PTE's write or dirty bit".into()),
        (What::Vmstat, Subject::Vmstat(n)) => {
            if live.disturbed.contains(n.as_str()) {
                return Err(format!("{n} moved while pinlab was idle"));
            }
            let get = |k: &str| live.vmstat_since_start.get(k).copied();
            let v = if n == "pins_outstanding" {
                get("nr_foll_pin_acquired")
                    .zip(get("nr_foll_pin_released"))
                    .map(|(a, r)| a - r)
            } else {
                get(n)
            };
            v.map(Value::Int).ok_or_else(|| {
                format!("{n} is global and moves with every process: only the counters pinlab compares are read")
            })
        }
        (What::Hazard, _) => Err("a hazard is compared by its outcome (the data a read returns)".into()),
        (What::PtePresent, Subject::At(a)) => Ok(Value::Bool(page(a)?.entry.present())),
        (What::Mapped, Subject::At(a)) => Ok(Value::Bool(page(a)?.mapped)),
        (What::Mapcount, Subject::At(a)) => {
            let p = page(a)?;
            if flags(a)?.zero_page() {
                return Err("the zero page's mappings are not counted".into());
            }
            p.mapcount
                .map(|m| Value::Int(m as i64))
                .ok_or_else(|| "no kpagecount".into())
        }
        (What::MapcountDelta, Subject::At(a)) => {
            let p = page(a)?;
            let pfn = p.entry.pfn().ok_or_else(|| format!("{a} is not present"))?;
            if matches!(a, Address::Label(_)) {
                return Err("a label's count before the step was not read".into());
            }
            let now = p.mapcount.ok_or("no kpagecount")? as i64;
            let before = live.mapcount_before.get(&pfn).copied().unwrap_or(0) as i64;
            Ok(Value::Int(now - before))
        }
        (What::AnonExclusive, Subject::At(a)) => flags(a)?
            .anon_exclusive()
            .map(Value::Bool)
            .ok_or_else(|| "PG_anon_exclusive shows only for an anonymous head page".into()),
        (What::Dirty, Subject::At(a)) => Ok(Value::Bool(flags(a)?.has(KpageFlags::DIRTY))),
        (What::Writeback, Subject::At(a)) => Ok(Value::Bool(flags(a)?.has(KpageFlags::WRITEBACK))),
        (What::Buffers, Subject::At(a)) => Ok(Value::Bool(flags(a)?.has(KpageFlags::PRIVATE))),
        (What::Swapcache, Subject::At(a)) => Ok(Value::Bool(flags(a)?.has(KpageFlags::SWAPCACHE))),
        (What::SameFolio, Subject::Pair(a, b)) => Ok(Value::Bool(head(a)? == head(b)?)),
        (What::Data, Subject::At(Address::Pipe(name))) => Ok(Value::Str(
            live.pipes
                .get(name)
                .ok_or_else(|| format!("pipe '{name}' was not read live"))?
                .join(","),
        )),
        (What::Data, Subject::At(Address::Holder { name, index: None })) if live.rings.contains_key(name) => {
            Ok(Value::Str(live.rings[name].join(",")))
        }
        (What::Data, Subject::At(a)) => {
            let p = page(a)?;
            p.data
                .clone()
                .map(Value::Str)
                .ok_or_else(|| "not present: reading it would fault it in".into())
        }
        (What::VmstatDelta, Subject::Vmstat(n)) => {
            let get = |k: &str| live.vmstat_delta.get(k).copied();
            let v = if n == "pins_outstanding" {
                get("nr_foll_pin_acquired")
                    .zip(get("nr_foll_pin_released"))
                    .map(|(a, r)| a - r)
            } else {
                get(n)
            };
            if live.disturbed.contains(n.as_str()) {
                return Err(format!("{n} moved while pinlab was idle"));
            }
            v.map(Value::Int).ok_or_else(|| format!("{n} is not compared live"))
        }
        (w, s) => Err(format!("{} of {s:?} is not observable", w.key())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anon_page() -> ModelPage {
        ModelPage {
            present: true,
            swapped: false,
            folio: Some(FolioId(3)),
            index: 0,
            zero: false,
            anon: true,
            order: 0,
            mapcount: 1,
            pmd: false,
            head_mapcount: 1,
            anon_exclusive: true,
            dirty: false,
            writeback: false,
            private: false,
            mlocked: false,
            data: Some("1".into()),
            file_backed: false,
            refcount: 1,
            pincount: 0,
        }
    }

    fn live_anon(pfn: u64, mapcount: u64, exclusive: bool) -> LivePage {
        let mut flags = 1u64 << KpageFlags::ANON | 1 << KpageFlags::MMAP;
        if exclusive {
            flags |= 1 << KpageFlags::OWNER_2;
        }
        LivePage {
            mapped: true,
            entry: PagemapEntry(1 << 63 | if mapcount == 1 { 1 << 56 } else { 0 } | pfn),
            flags: Some(KpageFlags(flags)),
            mapcount: Some(mapcount),
            head: Some(pfn),
            order: Some(0),
            data: Some("1".into()),
            refcount: None,
            pincount: None,
        }
    }

    #[test]
    fn an_agreeing_anonymous_page() {
        let checks = page_checks("p:mem[0]", &anon_page(), &live_anon(100, 1, true));
        let whats: Vec<&str> = checks.iter().map(|c| c.what.as_str()).collect();
        assert_eq!(
            whats,
            [
                "present",
                "zero_page",
                "anon",
                "folio_order",
                "mapcount",
                "mapped_once",
                "anon_exclusive",
                "mlocked",
                "data"
            ]
        );
        assert!(checks.iter().all(|c| c.verdict == Verdict::Agree), "{checks:?}");
    }

    #[test]
    fn a_shared_page_the_model_thinks_exclusive_disagrees() {
        // After fork the kernel maps the page twice; a model that forgot
        // the child's PTE would say mapcount 1.
        let checks = page_checks("p:mem[0]", &anon_page(), &live_anon(100, 2, false));
        let bad: Vec<&str> = checks
            .iter()
            .filter(|c| c.verdict == Verdict::Disagree)
            .map(|c| c.what.as_str())
            .collect();
        assert_eq!(bad, ["mapcount", "mapped_once", "anon_exclusive"]);
    }

    #[test]
    fn pagemap_bit_56_of_a_pmd_mapping_follows_the_head_page() {
        let mut m = anon_page();
        m.pmd = true;
        m.order = 9;
        m.index = 511;
        m.mapcount = 2;
        m.head_mapcount = 1;
        assert!(expected_mapped_once(&m));
        m.pmd = false;
        assert!(!expected_mapped_once(&m));
    }

    #[test]
    fn an_absent_page_compares_only_presence() {
        let mut m = anon_page();
        m.present = false;
        let l = LivePage::default();
        let checks = page_checks("p:mem[0]", &m, &l);
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].verdict, Verdict::Agree);
    }

    #[test]
    fn same_folio_compares_folio_ids_with_head_pfns() {
        let (m1, m2) = (anon_page(), anon_page());
        let (l1, l2) = (live_anon(100, 2, false), live_anon(100, 2, false));
        let c = same_folio_checks(&[("p:mem[0]".into(), &m1, &l1), ("c:mem[0]".into(), &m2, &l2)], 2);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].verdict, Verdict::Agree);
        // After COW the child has its own copy: a different PFN.
        let l3 = live_anon(200, 1, true);
        let c = same_folio_checks(&[("p:mem[0]".into(), &m1, &l1), ("c:mem[0]".into(), &m2, &l3)], 2);
        assert_eq!(c[0].verdict, Verdict::Disagree);
        // Beyond the named pages: neighbours and the same page elsewhere.
        let m = anon_page();
        let l = live_anon(100, 1, true);
        let many: Vec<(String, &ModelPage, &LivePage)> = ["p:mem[0]", "p:mem[1]", "p:mem[2]", "c:mem[1]", "p:other[1]"]
            .iter()
            .map(|a| (a.to_string(), &m, &l))
            .collect();
        let subjects: Vec<String> = same_folio_checks(&many, 1).into_iter().map(|c| c.subject).collect();
        assert_eq!(
            subjects,
            ["p:mem[0], p:mem[1]", "p:mem[1], p:mem[2]", "p:mem[1], c:mem[1]"]
        );
        assert_eq!(c[0].verdict, Verdict::Disagree);
    }

    #[test]
    fn a_refcount_is_compared_where_bpf_read_it() {
        // Two mappings after fork: refcount 2 on the kernel's side.
        let mut m = anon_page();
        m.mapcount = 2;
        m.anon_exclusive = false;
        let mut l = live_anon(100, 2, false);
        l.refcount = Some(2);
        m.refcount = 2;
        let c = page_checks("p:mem[0]", &m, &l);
        let r = c.iter().find(|c| c.what == "refcount").expect("a refcount check");
        assert_eq!(r.verdict, Verdict::Agree);
        // A model that forgot the child's reference disagrees.
        m.refcount = 1;
        let c = page_checks("p:mem[0]", &m, &l);
        let r = c.iter().find(|c| c.what == "refcount").expect("a refcount check");
        assert_eq!(
            (r.model.as_str(), r.live.as_str(), &r.verdict),
            ("1", "2", &Verdict::Disagree)
        );
        // Without BPF there is no live refcount and no check.
        l.refcount = None;
        assert!(!page_checks("p:mem[0]", &m, &l).iter().any(|c| c.what == "refcount"));
    }

    #[test]
    fn maybe_dma_pinned_follows_the_kernel_rule_on_live_counts() {
        let mut l = live_anon(100, 1, true);
        l.refcount = Some(1025);
        assert_eq!(l.maybe_dma_pinned(), Some(true));
        l.refcount = Some(1023);
        assert_eq!(l.maybe_dma_pinned(), Some(false));
        l.order = Some(9);
        l.pincount = Some(1);
        assert_eq!(l.maybe_dma_pinned(), Some(true));
        l.order = Some(1);
        assert_eq!(l.maybe_dma_pinned(), None);
    }

    #[test]
    fn expectations_read_the_live_counts() {
        let a = Address::Page {
            proc: "p".into(),
            vma: "mem".into(),
            page: 0,
        };
        let mut live = LiveStep::default();
        let mut l = live_anon(100, 1, true);
        l.refcount = Some(1025);
        live.pages.insert(a.to_string(), l);
        live.counts_before.insert(100, (1, None));
        live.has_pinned.insert("p".into(), true);
        let at = Subject::At(a.clone());
        assert_eq!(live_value(What::Refcount, &at, &live), Ok(Value::Int(1025)));
        assert_eq!(live_value(What::RefcountDelta, &at, &live), Ok(Value::Int(1024)));
        assert_eq!(live_value(What::MaybeDmaPinned, &at, &live), Ok(Value::Bool(true)));
        assert!(
            live_value(What::Pincount, &at, &live).is_err(),
            "order 0 has no _pincount"
        );
        assert_eq!(
            live_value(What::HasPinned, &Subject::At(Address::Process("p".into())), &live),
            Ok(Value::Bool(true))
        );
    }

    #[test]
    fn refcounts_are_never_inferred_without_bpf() {
        let mut live = LiveStep {
            counts_unavailable: Some("the kernel has no BTF".into()),
            ..LiveStep::default()
        };
        let mut l = live_anon(100, 1, true);
        l.refcount = Some(1);
        live.pages.insert("p:mem[0]".into(), l);
        let a = Address::Page {
            proc: "p".into(),
            vma: "mem".into(),
            page: 0,
        };
        for w in [
            What::Refcount,
            What::Pincount,
            What::RefcountDelta,
            What::MaybeDmaPinned,
            What::HasPinned,
        ] {
            let e = live_value(w, &Subject::At(a.clone()), &live).unwrap_err();
            assert!(e.contains("no BTF"), "{e}");
        }
    }

    #[test]
    fn a_disturbed_counter_is_skipped_not_failed() {
        let mut live = LiveStep::default();
        live.vmstat_delta.insert("thp_fault_alloc".into(), 2);
        live.disturbed.insert("thp_fault_alloc".into());
        let n = "thp_fault_alloc".to_string();
        assert!(live_value(What::VmstatDelta, &Subject::Vmstat(n), &live).is_err());
    }
}
