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
use pinlab_lessons::model::{Preset, World, ZERO_FOLIO};

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
        let (units, shown) = pte_units(vma.ptes.len(), |i| vma.ptes[i]);
        let mut slot = 0;
        for (first, len) in units {
            let key = |i: usize| CellKey::Pte(p.pid, vma.start + i as u64);
            if len == 1 {
                l.cells.insert(key(first), cell(8.0, y, slot));
                slot += 1;
                continue;
            }
            // A run takes a whole row of its own.
            slot = slot.next_multiple_of(PER_ROW);
            let rect = cell(8.0, y, slot).union(cell(8.0, y, slot + PER_ROW - 1));
            for i in first..first + len {
                l.cells.insert(key(i), rect);
            }
            let off = vma.start - base;
            let label = format!("[{}..{}]", first as u64 + off, (first + len - 1) as u64 + off);
            l.runs.push(Run {
                rect,
                first: key(first),
                label,
                len,
            });
            slot += PER_ROW;
        }
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

/// A right-hand block: title lines and a grid of `n` cells keyed by `key`.
fn titled_cells(
    lines: Vec<(String, f32, Color32)>,
    n: usize,
    key: impl Fn(usize) -> CellKey,
    at: CellsAt,
) -> (Layout, f32) {
    let mut l = Layout::default();
    let n = n.min(MAX_CELLS);
    let grid = rows_height(n);
    let mut y = if at == CellsAt::Above && n > 0 {
        8.0 + grid + 4.0
    } else {
        6.0
    };
    for (t, size, color) in lines {
        l.text(8.0, y, t, size, color);
        y += size + 7.0;
    }
    let cells_y = if at == CellsAt::Above { 8.0 } else { y + 2.0 };
    for i in 0..n {
        l.cells.insert(key(i), cell(8.0, cells_y, i));
    }
    let bottom = if at == CellsAt::Above { y } else { cells_y + grid };
    (l, bottom)
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

/// A mapping's page-table entries as units to draw: (first index, length),
/// length 1 for a single cell; at most MAX_CELLS cells' worth. Also returns
/// how many entries the units cover.
fn pte_units(n: usize, pte: impl Fn(usize) -> Pte) -> (Vec<(usize, usize)>, usize) {
    let mut units = Vec::new();
    let (mut i, mut slots) = (0, 0);
    while i < n && slots < MAX_CELLS {
        let mut j = i + 1;
        while j < n && continues(pte(j - 1), pte(j)) {
            j += 1;
        }
        if j - i >= MIN_RUN {
            units.push((i, j - i));
            slots = slots.next_multiple_of(PER_ROW) + PER_ROW;
            i = j;
        } else {
            units.push((i, 1));
            slots += 1;
            i += 1;
        }
    }
    (units, i)
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
    let (l, y) = titled_cells(lines, idx.len(), |i| CellKey::Cache(fid, idx[i]), at);
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
    let (l, y) = titled_cells(lines, h.pages.len(), |i| CellKey::Holder(h.name.clone(), i), at);
    let color = match h.grab {
        Grab::Pin => theme::PIN,
        Grab::Ref => theme::REF,
        Grab::List => theme::LIST,
    };
    frame(l, y, color.gamma_multiply(0.6))
}

pub fn pipe(name: &str, bufs: usize, at: CellsAt) -> Layout {
    let lines = vec![(format!("pipe '{name}'"), HEAD, Color32::WHITE)];
    let (l, y) = titled_cells(lines, bufs, |i| CellKey::Pipe(name.to_string(), i), at);
    frame(l, y, FRAME)
}

pub fn kbuf(name: &str, pages: usize, at: CellsAt) -> Layout {
    let lines = vec![(format!("kernel buffer '{name}'"), HEAD, Color32::WHITE)];
    let (l, y) = titled_cells(lines, pages, |i| CellKey::Kbuf(name.to_string(), i), at);
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
    right.extend(w.pipes.values().map(|p| pipe(&p.name, p.bufs.len(), at)));
    right.extend(w.kbufs.iter().map(|(n, p)| kbuf(n, p.len(), at)));
    // Blocks without cells (a file with nothing cached) have no arrows: last,
    // away from the folios, so no arrow crosses them.
    right.sort_by_key(|b| b.cells.is_empty());
    right
}
