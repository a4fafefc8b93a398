//! The blocks around the folios: a process with its mappings' page tables, a
//! file with its page cache and disk, a holder (GUP, iov_iter, bio, io_uring,
//! RDMA) with its pages, a pipe, a kernel buffer. Each is laid out at its own
//! origin, BLOCK_W wide.

use super::super::theme;
use super::layout::{BLOCK_W, BODY, CellKey, HEAD, Layout, MAX_CELLS, PER_ROW, Run, TITLE, cell, rows_height};
use egui::{Color32, Rect, pos2};
use pinlab_lessons::model::holder::{Grab, Holder};
use pinlab_lessons::model::mm::Process;
use pinlab_lessons::model::mm::Pte;
use pinlab_lessons::model::{FolioId, Preset, World, ZERO_FOLIO};

/// Closes a block: its frame from the top to `y`, and its size.
fn frame(mut l: Layout, y: f32, color: Color32) -> Layout {
    let r = Rect::from_min_max(pos2(0.0, 0.0), pos2(BLOCK_W, y + 6.0));
    l.boxes.push((r, color));
    l.size = r.size();
    l
}

const FRAME: Color32 = Color32::from_gray(90);

/// A process block; the pin flag is named as the release names it
/// (mm->has_pinned 5.9-5.13, MMF_HAS_PINNED from 5.14).
pub fn process(p: &Process, preset: Preset) -> Layout {
    let mut l = Layout::default();
    let pinned = if p.mm.has_pinned {
        format!("  {}", pinlab_lessons::model::names::has_pinned_flag(preset))
    } else {
        String::new()
    };
    l.text(
        8.0,
        6.0,
        format!("{} (pid {}){pinned}", p.name, p.pid.0),
        TITLE,
        Color32::WHITE,
    );
    let mut y = 28.0;
    for vma in p.mm.vmas.values() {
        let mut flags = vec![
            if vma.flags.write { "rw" } else { "r" },
            if vma.flags.shared { "shared" } else { "private" },
        ];
        for (on, name) in [
            (vma.flags.dontcopy, "dontfork"),
            (vma.flags.hugepage, "thp"),
            (vma.flags.locked, "locked"),
            (vma.flags.nocow, "nocow"),
        ] {
            if on {
                flags.push(name);
            }
        }
        let base = p.mm.regions.get(&vma.name).map(|r| r.base).unwrap_or(vma.start);
        let label = format!("{} [{}..] {}", vma.name, vma.start - base, flags.join(" "));
        l.text(8.0, y, label, BODY, Color32::LIGHT_GRAY);
        y += 19.0;
        let (units, shown) = units(vma.ptes.len(), |i| continues(vma.ptes[i - 1], vma.ptes[i]));
        let off = vma.start - base;
        let key = |i: usize| CellKey::Pte(p.pid, vma.start + i as u64);
        let slot = place_units(&mut l, &units, y, &key, |first, len| {
            format!("[{}..{}]", first as u64 + off, (first + len - 1) as u64 + off)
        });
        y += rows_height(slot) + 4.0;
        if vma.ptes.len() > shown {
            let more = format!("+{} more pages", vma.ptes.len() - shown);
            l.text(8.0, y, more, BODY, Color32::GRAY);
            y += 18.0;
        }
    }
    frame(l, y, FRAME)
}

/// Where a right-hand block's cells go: below its title (arrows leave
/// sideways, in columns) or above it (arrows leave upwards, in bands, and do
/// not cross the title).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CellsAt {
    Below,
    Above,
}

/// A right-hand block: title lines and a grid of `n` cells keyed by `key`,
/// where entry `i` continuing entry `i - 1` (`continues(i)`: the same folio,
/// its next page or the same page again) makes runs of one wide cell, so
/// 1022 references of one holder to the zero page are one cell and one arrow.
fn titled_cells(
    lines: Vec<(String, f32, Color32)>,
    n: usize,
    key: impl Fn(usize) -> CellKey,
    continues: impl Fn(usize) -> bool,
    at: CellsAt,
) -> (Layout, f32) {
    let mut l = Layout::default();
    let (units, shown) = units(n, continues);
    let slots = units.iter().fold(0, |s, (_, len)| unit_end(s, *len));
    let grid = rows_height(slots);
    let mut y = if at == CellsAt::Above && n > 0 {
        8.0 + grid + 4.0
    } else {
        6.0
    };
    for (t, size, color) in lines {
        l.text(8.0, y, t, size, color);
        y += size + 7.0;
    }
    if n > shown {
        l.text(8.0, y, format!("+{} more pages", n - shown), BODY, Color32::GRAY);
        y += BODY + 7.0;
    }
    let cells_y = if at == CellsAt::Above { 8.0 } else { y + 2.0 };
    place_units(&mut l, &units, cells_y, &key, |first, len| {
        format!("[{first}..{}]", first + len - 1)
    });
    let bottom = if at == CellsAt::Above { y } else { cells_y + grid };
    (l, bottom)
}

/// Where the slots end after a unit of `len` entries that starts at slot `s`:
/// a run takes a whole row of its own.
fn unit_end(s: usize, len: usize) -> usize {
    if len == 1 {
        s + 1
    } else {
        s.next_multiple_of(PER_ROW) + PER_ROW
    }
}

/// Puts `units` (first entry, length) as cells at `y`, a run as one wide
/// cell that every entry of it shares, labelled by `label`.
fn place_units(
    l: &mut Layout,
    units: &[(usize, usize)],
    y: f32,
    key: &impl Fn(usize) -> CellKey,
    label: impl Fn(usize, usize) -> String,
) -> usize {
    let mut slot = 0;
    for &(first, len) in units {
        if len == 1 {
            l.cells.insert(key(first), cell(8.0, y, slot));
            slot += 1;
            continue;
        }
        slot = slot.next_multiple_of(PER_ROW);
        let rect = cell(8.0, y, slot).union(cell(8.0, y, slot + PER_ROW - 1));
        for i in first..first + len {
            l.cells.insert(key(i), rect);
        }
        l.runs.push(Run {
            rect,
            first: key(first),
            label: label(first, len),
            len,
        });
        slot += PER_ROW;
    }
    slot
}

/// Runs shorter than this stay single cells: a few pages read better one by one.
const MIN_RUN: usize = 4;

/// Whether `b` continues a run that `a` is in: the same kind of entry, the
/// next page of the same folio with the same flags, or both unmapped.
fn continues(a: Pte, b: Pte) -> bool {
    match (a, b) {
        (Pte::None, Pte::None) => true,
        (
            Pte::Present {
                folio: fa,
                page: pa,
                writable: wa,
                dirty: da,
                pmd: ma,
                ..
            },
            Pte::Present {
                folio: fb,
                page: pb,
                writable: wb,
                dirty: db,
                pmd: mb,
                ..
            },
        ) => {
            // The next page of one folio, or the zero page again (a read-only
            // stretch that was only read).
            let next = pb == pa + 1 || (fa == ZERO_FOLIO && pa == pb);
            fa == fb && next && (wa, da, ma) == (wb, db, mb)
        }
        _ => false,
    }
}

/// Entries as units to draw: (first index, length), length 1 for a single
/// cell, a run where `continues(i)` holds MIN_RUN times or more; at most
/// MAX_CELLS cells' worth. Also returns how many entries the units cover.
fn units(n: usize, continues: impl Fn(usize) -> bool) -> (Vec<(usize, usize)>, usize) {
    let mut units = Vec::new();
    let (mut i, mut slots) = (0, 0);
    while i < n && slots < MAX_CELLS {
        let mut j = i + 1;
        while j < n && continues(j) {
            j += 1;
        }
        if j - i >= MIN_RUN {
            units.push((i, j - i));
            slots = unit_end(slots, j - i);
            i = j;
        } else {
            units.push((i, 1));
            slots += 1;
            i += 1;
        }
    }
    (units, i)
}

/// Whether page `b` continues a run of held pages that `a` is in: the next
/// page of the same folio, or the same page again (the zero page, read-faulted
/// into every page of a mapping, and taken once per page).
fn same_run(a: (FolioId, u16), b: (FolioId, u16)) -> bool {
    a.0 == b.0 && (b.1 == a.1 + 1 || b.1 == a.1)
}

pub fn file(w: &World, fid: pinlab_lessons::model::FileId, at: CellsAt) -> Layout {
    let f = w.file(fid);
    let mut lines = vec![(format!("file {} ({:?})", f.name, f.fs), HEAD, Color32::WHITE)];
    if f.fs.has_disk() {
        let shown: Vec<&str> = f.disk.iter().take(6).map(|d| d.tag()).collect();
        let more = if f.disk.len() > 6 { " ..." } else { "" };
        lines.push((format!("disk: {}{more}", shown.join(" | ")), BODY, Color32::LIGHT_GRAY));
    }
    let idx: Vec<u64> = f.cache.keys().copied().collect();
    // Page-cache indexes are one cell each: every index is its own entry.
    let (l, y) = titled_cells(lines, idx.len(), |i| CellKey::Cache(fid, idx[i]), |_| false, at);
    frame(l, y, FRAME)
}

/// A holder's title and what it holds, on two lines.
fn holder_lines(h: &Holder) -> (String, String) {
    let grab = match h.grab {
        Grab::Ref => "references (FOLL_GET)",
        Grab::Pin => "pins (FOLL_PIN)",
        Grab::List => "just listed, no reference",
    };
    let mut detail = grab.to_string();
    if h.longterm {
        detail.push_str(", long-term");
    }
    if let Some(b) = &h.bio {
        let f = b.flags.names();
        if !f.is_empty() {
            detail.push_str(&format!(", {}", f.join("|")));
        }
    }
    (format!("{:?} '{}'", h.kind, h.name), detail)
}

pub fn holder(h: &Holder, at: CellsAt) -> Layout {
    let (title, detail) = holder_lines(h);
    let lines = vec![(title, HEAD, Color32::WHITE), (detail, BODY, Color32::LIGHT_GRAY)];
    let page = |i: usize| (h.pages[i].folio, h.pages[i].page);
    let (l, y) = titled_cells(
        lines,
        h.pages.len(),
        |i| CellKey::Holder(h.name.clone(), i),
        |i| same_run(page(i - 1), page(i)),
        at,
    );
    let color = match h.grab {
        Grab::Pin => theme::PIN,
        Grab::Ref => theme::REF,
        Grab::List => theme::LIST,
    };
    frame(l, y, color.gamma_multiply(0.6))
}

pub fn pipe(name: &str, bufs: &[(FolioId, u16)], at: CellsAt) -> Layout {
    let lines = vec![(format!("pipe '{name}'"), HEAD, Color32::WHITE)];
    let (l, y) = titled_cells(
        lines,
        bufs.len(),
        |i| CellKey::Pipe(name.to_string(), i),
        |i| same_run(bufs[i - 1], bufs[i]),
        at,
    );
    frame(l, y, FRAME)
}

pub fn kbuf(name: &str, pages: &[FolioId], at: CellsAt) -> Layout {
    let lines = vec![(format!("kernel buffer '{name}'"), HEAD, Color32::WHITE)];
    let (l, y) = titled_cells(
        lines,
        pages.len(),
        |i| CellKey::Kbuf(name.to_string(), i),
        |i| pages[i - 1] == pages[i],
        at,
    );
    frame(l, y, FRAME)
}

/// The left group: the live processes, in pid order.
pub fn left(w: &World) -> Vec<Layout> {
    w.procs
        .values()
        .filter(|p| p.alive)
        .map(|p| process(p, w.preset))
        .collect()
}

/// The right group; its blocks are the same size wherever the cells go.
pub fn right(w: &World, at: CellsAt) -> Vec<Layout> {
    let mut right: Vec<Layout> = w
        .files
        .iter()
        .filter(|(_, f)| !(f.cache.is_empty() && f.shmem_for_anon))
        .map(|(id, _)| file(w, *id, at))
        .collect();
    right.extend(w.holders.values().map(|h| holder(h, at)));
    right.extend(w.pipes.values().map(|p| {
        let bufs: Vec<(FolioId, u16)> = p.bufs.iter().map(|b| (b.folio, b.page)).collect();
        pipe(&p.name, &bufs, at)
    }));
    right.extend(w.kbufs.iter().map(|(n, p)| kbuf(n, p, at)));
    // Blocks without cells (a file with nothing cached) have no arrows: last,
    // away from the folios, so no arrow crosses them.
    right.sort_by_key(|b| b.cells.is_empty());
    right
}
