// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * pinlab probe: read a page's counts from the running kernel.
 *
 * Userspace cannot see a folio's _refcount or _pincount, nor an mm's
 * MMF_HAS_PINNED. This program reads them from struct page through BTF
 * (CO-RE: every offset and sizeof(struct page) is relocated against the
 * running kernel's /sys/kernel/btf/vmlinux at load time; nothing here knows
 * a layout). It changes nothing: bpf_probe_read_kernel only reads.
 *
 * Two programs:
 *  - lru_insertion (tracepoint pagemap:mm_lru_insertion) learns where the
 *    memmap (vmemmap) starts: the tracepoint gives a folio's address and its
 *    PFN, and page_to_pfn(page) = page - vmemmap on SPARSEMEM_VMEMMAP.
 *  - sys_enter (raw tracepoint) does two things: for a process in `watched`
 *    it records current->mm->flags (so MMF_HAS_PINNED is read in the
 *    worker's own context, at every system call it makes); and when the
 *    probe's own process makes the trigger system call it reads the counts
 *    of the PFNs in `request` into `result`.
 *
 * The license string must be GPL-compatible: bpf_probe_read_kernel is a
 * GPL-only helper. Rebuild with tools/build-bpf (CI checks the committed
 * object is what this source builds to).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

typedef struct { int counter; } atomic_t;

/* Only the fields read; preserve_access_index makes each access a CO-RE
 * relocation against the kernel's own struct. */
struct page {
	atomic_t _refcount;
	atomic_t _mapcount;
	unsigned long compound_head;
} __attribute__((preserve_access_index));

/* struct folio (5.16 on) overlays the head page and the first tail pages;
 * _pincount lives there from 6.1 (in 5.16-6.0 in page[1].compound_pincount). */
struct folio {
	atomic_t _pincount;
} __attribute__((preserve_access_index));

struct page___compound_pincount {
	atomic_t compound_pincount;
} __attribute__((preserve_access_index));

/* mm->flags: an unsigned long before 6.18, mm_flags_t (a bitmap) since. */
struct mm_struct___word {
	unsigned long flags;
} __attribute__((preserve_access_index));

struct mm_flags___bitmap {
	unsigned long __mm_flags[1];
};

struct mm_struct___bitmap {
	struct mm_flags___bitmap flags;
} __attribute__((preserve_access_index));

struct task_struct {
	void *mm;
} __attribute__((preserve_access_index));

#define MAX_PFNS 256

struct config {
	__u32 probe_tgid;   /* the process whose trigger call reads the PFNs */
	__u32 trigger_nr;   /* the trigger system call's number */
};

struct state {
	__u64 vmemmap;      /* address of the struct page of PFN 0; 0 until known */
	__u64 page_size;    /* sizeof(struct page) in this kernel */
	__u32 requested;    /* PFNs in `request` */
	__u32 served;       /* requests answered (a sequence number) */
};

struct counts {
	__s32 refcount;     /* page->_refcount */
	__s32 mapcount;     /* page->_mapcount (-1: not mapped) */
	__u64 compound_head;
	__s32 folio_pincount; /* the folio's _pincount, read as if PFN were a head */
	__u32 read_ok;      /* 1 when every read succeeded */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct state);
} state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_PFNS);
	__type(key, __u32);
	__type(value, __u64);
} request SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_PFNS);
	__type(key, __u32);
	__type(value, struct counts);
} result SEC(".maps");

/* tgid -> the last mm->flags word seen in that process. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} watched SEC(".maps");

/* The tracepoint's record, as its format file in tracefs gives it
 * (events/pagemap/mm_lru_insertion/format); userspace checks the format
 * before attaching. */
struct lru_insertion_args {
	__u64 common;
	__u64 folio;
	__u64 pfn;
};

SEC("tracepoint/pagemap/mm_lru_insertion")
int lru_insertion(struct lru_insertion_args *ctx)
{
	__u32 zero = 0;
	struct state *s = bpf_map_lookup_elem(&state, &zero);
	if (!s || s->vmemmap)
		return 0;
	__u64 size = bpf_core_type_size(struct page);
	s->page_size = size;
	s->vmemmap = ctx->folio - ctx->pfn * size;
	return 0;
}

static __always_inline __u64 mm_flags_word(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	void *mm = BPF_CORE_READ(task, mm);
	__u64 word = 0;
	if (!mm)
		return 0;
	if (bpf_core_field_exists(struct mm_struct___bitmap, flags)) {
		struct mm_struct___bitmap *m = mm;
		bpf_probe_read_kernel(&word, sizeof(word), &m->flags.__mm_flags[0]);
	} else {
		struct mm_struct___word *m = mm;
		bpf_probe_read_kernel(&word, sizeof(word), &m->flags);
	}
	return word;
}

static __always_inline void read_counts(__u64 page_addr, struct counts *c)
{
	struct page *p = (struct page *)page_addr;
	int err = 0;
	err |= bpf_probe_read_kernel(&c->refcount, sizeof(c->refcount), &p->_refcount.counter);
	err |= bpf_probe_read_kernel(&c->mapcount, sizeof(c->mapcount), &p->_mapcount.counter);
	err |= bpf_probe_read_kernel(&c->compound_head, sizeof(c->compound_head), &p->compound_head);
	c->folio_pincount = 0;
	if (bpf_core_field_exists(struct folio, _pincount)) {
		struct folio *f = (struct folio *)page_addr;
		err |= bpf_probe_read_kernel(&c->folio_pincount, sizeof(c->folio_pincount), &f->_pincount.counter);
	} else if (bpf_core_field_exists(struct page___compound_pincount, compound_pincount)) {
		struct page___compound_pincount *tail =
			(struct page___compound_pincount *)(page_addr + bpf_core_type_size(struct page));
		err |= bpf_probe_read_kernel(&c->folio_pincount, sizeof(c->folio_pincount),
					     &tail->compound_pincount.counter);
	}
	c->read_ok = err == 0;
}

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 zero = 0;

	__u64 *seen = bpf_map_lookup_elem(&watched, &tgid);
	if (seen)
		*seen = mm_flags_word();

	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || cfg->probe_tgid != tgid || ctx->args[1] != cfg->trigger_nr)
		return 0;
	struct state *s = bpf_map_lookup_elem(&state, &zero);
	if (!s || !s->vmemmap)
		return 0;
	__u32 n = s->requested;
	for (__u32 i = 0; i < MAX_PFNS; i++) {
		if (i >= n)
			break;
		__u32 key = i;
		__u64 *pfn = bpf_map_lookup_elem(&request, &key);
		struct counts *c = bpf_map_lookup_elem(&result, &key);
		if (!pfn || !c)
			break;
		read_counts(s->vmemmap + *pfn * s->page_size, c);
	}
	s->served += 1;
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
