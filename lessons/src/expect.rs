//! Expectations: what a step asserts about the model, and how each is
//! evaluated against the world after the step.

use crate::address::Address;
use crate::kernels::KernelFilter;
use pinlab_model::folio::LruList;
use pinlab_model::holder::HeldPage;
use pinlab_model::mm::Pte;
use pinlab_model::{Errno, FolioId, HazardKind, World};
use std::collections::HashMap;
use std::fmt;

/// What an expectation looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    Refcount,
    Pincount,
    Mapcount,
    MaybeDmaPinned,
    AnonExclusive,
    Dirty,
    Writeback,
    Buffers,
    Lru,
    Freed,
    PtePresent,
    PteWritable,
    PteDirty,
    HasPinned,
    SameFolio,
    Data,
    Hazard,
    Errno,
    Vmstat,
    /// Counts relative to the world before the step.
    RefcountDelta,
    PincountDelta,
    MapcountDelta,
    VmstatDelta,
    /// A bio's flags (BIO_PAGE_PINNED, BIO_NO_PAGE_REF, BIO_CLONED, ...).
    BioFlags,
    /// iov_iter_extract_will_pin for an extraction holder or a bio.
    WillPin,
    /// A process page, or a process's mapping, exists (a VMA is there).
    Mapped,
    Zone,
    Swapcache,
}

impl What {
    /// (key in the lesson file, kind of value `is` takes)
    pub const ALL: [(What, &'static str, ValueKind); 28] = [
        (What::Refcount, "refcount", ValueKind::Int),
        (What::Pincount, "pincount", ValueKind::Int),
        (What::Mapcount, "mapcount", ValueKind::Int),
        (What::MaybeDmaPinned, "maybe_dma_pinned", ValueKind::Bool),
        (What::AnonExclusive, "anon_exclusive", ValueKind::Bool),
        (What::Dirty, "dirty", ValueKind::Bool),
        (What::Writeback, "writeback", ValueKind::Bool),
        (What::Buffers, "buffers", ValueKind::Bool),
        (What::Lru, "lru", ValueKind::Str),
        (What::Freed, "freed", ValueKind::Bool),
        (What::PtePresent, "pte_present", ValueKind::Bool),
        (What::PteWritable, "pte_writable", ValueKind::Bool),
        (What::PteDirty, "pte_dirty", ValueKind::Bool),
        (What::HasPinned, "has_pinned", ValueKind::Bool),
        (What::SameFolio, "same_folio", ValueKind::Bool),
        (What::Data, "data", ValueKind::Str),
        (What::Hazard, "hazard", ValueKind::Bool),
        (What::Errno, "errno", ValueKind::None),
        (What::Vmstat, "vmstat", ValueKind::Int),
        (What::RefcountDelta, "refcount_delta", ValueKind::Int),
        (What::PincountDelta, "pincount_delta", ValueKind::Int),
        (What::MapcountDelta, "mapcount_delta", ValueKind::Int),
        (What::VmstatDelta, "vmstat_delta", ValueKind::Int),
        (What::BioFlags, "bio_flags", ValueKind::Set),
        (What::WillPin, "will_pin", ValueKind::Bool),
        (What::Mapped, "mapped", ValueKind::Bool),
        (What::Zone, "zone", ValueKind::Str),
        (What::Swapcache, "swapcache", ValueKind::Bool),
    ];

    pub fn key(self) -> &'static str {
        What::ALL
            .iter()
            .find(|(w, _, _)| *w == self)
            .map(|(_, k, _)| *k)
            .unwrap_or("?")
    }

    pub fn value_kind(self) -> ValueKind {
        What::ALL
            .iter()
            .find(|(w, _, _)| *w == self)
            .map(|(_, _, v)| *v)
            .unwrap_or(ValueKind::None)
    }

    pub fn from_key(k: &str) -> Option<What> {
        What::ALL.iter().find(|(_, key, _)| *key == k).map(|(w, _, _)| *w)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    Int,
    Bool,
    Str,
    /// A set of names (bio flags).
    Set,
    None,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Bool(bool),
    Str(String),
    /// Sorted names.
    Set(Vec<String>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Str(s) => write!(f, "'{s}'"),
            Value::Set(v) => write!(f, "[{}]", v.join(", ")),
        }
    }
}

/// How the observed value is compared: `is = v`, `at_least = n`,
/// `one_of = [a, b]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cmp {
    Is(Value),
    AtLeast(i64),
    OneOf(Vec<Value>),
}

impl Cmp {
    pub fn holds(&self, actual: &Value) -> bool {
        match (self, actual) {
            (Cmp::Is(v), a) => v == a,
            (Cmp::AtLeast(n), Value::Int(a)) => a >= n,
            (Cmp::AtLeast(_), _) => false,
            (Cmp::OneOf(vs), a) => vs.contains(a),
        }
    }
}

impl fmt::Display for Cmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cmp::Is(v) => write!(f, "= {v}"),
            Cmp::AtLeast(n) => write!(f, ">= {n}"),
            Cmp::OneOf(vs) => write!(
                f,
                "in {{{}}}",
                vs.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

/// What the expectation is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    At(Address),
    Pair(Address, Address),
    Hazard(HazardKind),
    Errno(Errno),
    Vmstat(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    pub what: What,
    pub subject: Subject,
    /// None only for `errno`.
    pub cmp: Option<Cmp>,
    pub kernels: Vec<KernelFilter>,
    /// Line in the lesson file.
    pub line: usize,
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subject = match &self.subject {
            Subject::At(a) => a.to_string(),
            Subject::Pair(a, b) => format!("{a}, {b}"),
            Subject::Hazard(h) => h.name().to_string(),
            Subject::Errno(e) => e.name().to_string(),
            Subject::Vmstat(v) => v.clone(),
        };
        match &self.cmp {
            Some(c) => write!(f, "{}({subject}) {c}", self.what.key()),
            None => write!(f, "{}({subject})", self.what.key()),
        }
    }
}

/// What a step produced, as expectations need it.
pub struct StepOutcome<'a> {
    /// The world before the step (for the `*_delta` checks).
    pub before: &'a World,
    pub world: &'a World,
    pub labels: &'a HashMap<String, (FolioId, usize)>,
    pub errno: Option<Errno>,
    pub hazards: Vec<HazardKind>,
}

/// The folio and page an address designates now.
pub fn resolve_folio(
    w: &World,
    labels: &HashMap<String, (FolioId, usize)>,
    a: &Address,
) -> Result<(FolioId, usize), String> {
    match a {
        Address::Page { proc, vma, page } => {
            let pid = w.pid_of(proc).map_err(|e| e.to_string())?;
            let vpn = w.resolve(pid, vma, *page).map_err(|e| e.to_string())?;
            w.pte(pid, vpn).folio().ok_or_else(|| format!("{a} maps no page"))
        }
        Address::Cache { file, index } => {
            let id = w.file_id(file).map_err(|e| e.to_string())?;
            w.file(id)
                .cache
                .get(index)
                .map(|f| (*f, 0))
                .ok_or_else(|| format!("{a} is not in the page cache"))
        }
        Address::Holder { name, index } => {
            let h = w.holder(name).map_err(|e| e.to_string())?;
            let i = index.unwrap_or(0) as usize;
            h.pages
                .get(i)
                .map(|p: &HeldPage| (p.folio, p.page as usize))
                .ok_or_else(|| format!("{a}: the holder has {} pages", h.pages.len()))
        }
        Address::KernelBuf { name, index } => match w.kbufs.get(name) {
            Some(p) => p
                .get(*index as usize)
                .map(|f| (*f, 0))
                .ok_or_else(|| format!("{a} is out of range")),
            None => Err(format!("no kernel buffer named '{name}'")),
        },
        Address::Label(l) => labels
            .get(l)
            .copied()
            .ok_or_else(|| format!("no label '{l}' captured yet")),
        Address::Disk { .. } | Address::Pipe(_) | Address::Process(_) => Err(format!("{a} is not a folio")),
        Address::Mapping { .. } => Err(format!("{a} is a whole mapping: name a page, such as {a}[0]")),
    }
}

fn pte_of(w: &World, a: &Address) -> Result<Pte, String> {
    match a {
        Address::Page { proc, vma, page } => {
            let pid = w.pid_of(proc).map_err(|e| e.to_string())?;
            let vpn = w.resolve(pid, vma, *page).map_err(|e| e.to_string())?;
            Ok(w.pte(pid, vpn))
        }
        _ => Err(format!(
            "{a} is not a process page: PTE checks need 'process:mapping[page]'"
        )),
    }
}

/// What an address reads as (without faulting anything in).
pub fn data_at(w: &World, labels: &HashMap<String, (FolioId, usize)>, a: &Address) -> Result<String, String> {
    match a {
        Address::Page { proc, vma, page } => {
            let pid = w.pid_of(proc).map_err(|e| e.to_string())?;
            let vpn = w.resolve(pid, vma, *page).map_err(|e| e.to_string())?;
            Ok(pinlab_model::access::peek(w, pid, vpn)
                .map(|d| d.tag().to_string())
                .unwrap_or_else(|| "0".into()))
        }
        Address::Disk { file, block } => {
            let id = w.file_id(file).map_err(|e| e.to_string())?;
            w.file(id)
                .disk
                .get(*block as usize)
                .map(|d| d.tag().to_string())
                .ok_or_else(|| format!("{a} is beyond the end of the file"))
        }
        Address::Pipe(p) => match w.pipes.get(p) {
            Some(p) => Ok(p
                .bufs
                .iter()
                .map(|b| w.folio(b.folio).pages[b.page as usize].data.tag().to_string())
                .collect::<Vec<_>>()
                .join(",")),
            None => Ok(String::new()),
        },
        Address::Holder { name, index: None } => {
            let h = w.holder(name).map_err(|e| e.to_string())?;
            Ok(h.pages
                .iter()
                .map(|p| w.folio(p.folio).pages[p.page as usize].data.tag().to_string())
                .collect::<Vec<_>>()
                .join(","))
        }
        Address::Process(_) | Address::Mapping { .. } => Err(format!("{a} holds no data: name a page")),
        other => {
            let (f, p) = resolve_folio(w, labels, other)?;
            Ok(w.folio(f).pages[p].data.tag().to_string())
        }
    }
}

impl Expectation {
    pub fn applies(&self, p: pinlab_model::Preset) -> bool {
        crate::kernels::any_matches(&self.kernels, p)
    }

    /// Evaluates against the world after the step: Ok(actual) when it holds,
    /// Err(actual or reason) when not.
    pub fn check(&self, o: &StepOutcome) -> Result<String, String> {
        if let (What::Errno, Subject::Errno(e)) = (&self.what, &self.subject) {
            return match o.errno {
                Some(got) if got == *e => Ok(got.name().into()),
                Some(got) => Err(format!("failed with {}", got.name())),
                None => Err("succeeded".into()),
            };
        }
        let actual = observe(self.what, &self.subject, o)?;
        let shown = actual.to_string();
        if self.cmp.as_ref().is_some_and(|c| c.holds(&actual)) {
            Ok(shown)
        } else {
            Err(shown)
        }
    }
}

/// Reads the value an expectation (or a model-answered question) looks at.
pub fn observe(what: What, subject: &Subject, o: &StepOutcome) -> Result<Value, String> {
    let w = o.world;
    let actual: Value = match (&what, subject) {
        (What::Hazard, Subject::Hazard(k)) => Value::Bool(o.hazards.contains(k)),
        (What::Vmstat, Subject::Vmstat(n)) => {
            Value::Int(w.vmstat.get(n).ok_or_else(|| format!("no vmstat counter '{n}'"))? as i64)
        }
        (What::VmstatDelta, Subject::Vmstat(n)) => {
            let get = |w: &World| {
                w.vmstat
                    .get(n)
                    .map(|v| v as i64)
                    .ok_or_else(|| format!("no vmstat counter '{n}'"))
            };
            Value::Int(get(w)? - get(o.before)?)
        }
        (What::BioFlags | What::WillPin, Subject::At(Address::Holder { name, .. })) => {
            let h = w.holder(name).map_err(|e| e.to_string())?;
            if what == What::WillPin {
                Value::Bool(
                    h.will_pin()
                        .ok_or_else(|| format!("'{name}' is neither an iov_iter_extract_pages holder nor a bio"))?,
                )
            } else {
                let b = h.bio.as_ref().ok_or_else(|| format!("'{name}' is not a bio"))?;
                let mut names: Vec<String> = b.flags.names().iter().map(|s| s.to_string()).collect();
                names.sort();
                Value::Set(names)
            }
        }
        (What::Mapped, Subject::At(Address::Page { proc, vma, page })) => {
            let pid = w.pid_of(proc).map_err(|e| e.to_string())?;
            let mm = &w.proc(pid).mm;
            Value::Bool(
                mm.regions
                    .get(vma.as_str())
                    .is_some_and(|r| *page < r.pages && mm.vma_at(r.base + page).is_some()),
            )
        }
        (What::Mapped, Subject::At(Address::Mapping { proc, vma })) => {
            let pid = w.pid_of(proc).map_err(|e| e.to_string())?;
            let mm = &w.proc(pid).mm;
            Value::Bool(
                mm.regions
                    .get(vma.as_str())
                    .is_some_and(|r| (r.base..r.base + r.pages).any(|v| mm.vma_at(v).is_some())),
            )
        }
        (What::RefcountDelta | What::PincountDelta | What::MapcountDelta, Subject::At(a)) => {
            let (id, page) = resolve_folio(w, o.labels, a)?;
            let count = |f: &pinlab_model::Folio| match what {
                What::RefcountDelta => f.refcount,
                What::PincountDelta => f.pincount,
                _ => f.page_mapcount(page) as i64,
            };
            let before = o.before.folios.get(id.0 as usize).map(count).unwrap_or(0);
            Value::Int(count(w.folio(id)) - before)
        }
        (What::SameFolio, Subject::Pair(a, b)) => {
            // The same folio, whichever of its pages each address designates.
            let fa = resolve_folio(w, o.labels, a)?.0;
            let fb = resolve_folio(w, o.labels, b)?.0;
            Value::Bool(fa == fb)
        }
        (What::Data, Subject::At(a)) => Value::Str(data_at(w, o.labels, a)?),
        (What::HasPinned, Subject::At(Address::Process(p)) | Subject::At(Address::Page { proc: p, .. })) => {
            let pid = w.pid_of(p).map_err(|e| e.to_string())?;
            Value::Bool(w.proc(pid).mm.has_pinned)
        }
        (What::PtePresent, Subject::At(a)) => Value::Bool(pte_of(w, a)?.is_present()),
        (What::PteWritable, Subject::At(a)) => Value::Bool(pte_of(w, a)?.is_writable()),
        (What::PteDirty, Subject::At(a)) => Value::Bool(pte_of(w, a)?.is_dirty()),
        (what, Subject::At(a)) => {
            let (id, page) = resolve_folio(w, o.labels, a)?;
            let f = w.folio(id);
            match what {
                What::Refcount => Value::Int(f.refcount),
                What::Pincount => Value::Int(f.pincount),
                What::Mapcount => Value::Int(f.page_mapcount(page) as i64),
                What::MaybeDmaPinned => Value::Bool(f.maybe_dma_pinned()),
                What::AnonExclusive => Value::Bool(f.pages[page].anon_exclusive),
                What::Dirty => Value::Bool(f.flags.dirty),
                What::Writeback => Value::Bool(f.flags.writeback),
                What::Buffers => Value::Bool(f.flags.private),
                What::Freed => Value::Bool(f.freed),
                What::Swapcache => Value::Bool(f.flags.swapcache),
                What::Zone => Value::Str(f.zone.name().into()),
                What::Lru => Value::Str(
                    match f.lru {
                        None => "none",
                        Some(LruList::Inactive) => "inactive",
                        Some(LruList::Active) => "active",
                        Some(LruList::Unevictable) => "unevictable",
                    }
                    .into(),
                ),
                _ => return Err(format!("{} does not apply to {a}", what.key())),
            }
        }
        (what, _) => return Err(format!("{} cannot be checked this way", what.key())),
    };
    Ok(actual)
}
