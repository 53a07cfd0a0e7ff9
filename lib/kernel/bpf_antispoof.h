/* Anti-spoofing for pods: the BPF program of bpf/antispoof.bpf.c, loaded
 * once per node and pinned, then per pod one `allowed` map element and one
 * tc filter (clsact ingress of the host-side veth, i.e. the pod's egress).
 *
 * The pinned objects live in <pin_dir>/net<inode of the caller's netns>/
 * (prog, allowed, counters): ifindexes are per network namespace, so each
 * node netns needs maps of its own.  When pin_dir is under /sys/fs/bpf and
 * no BPF filesystem is mounted there, loom_antispoof_open mounts one.
 *
 * Functions return 0, or -1 with err filled (messages start "antiSpoof: "),
 * unless they say otherwise.  Nothing here prints. */
#ifndef LOOM_BPF_ANTISPOOF_LIB_H
#define LOOM_BPF_ANTISPOOF_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "antispoof.h"
#include "base/err.h"
#include "base/ip.h"

#define LOOM_ANTISPOOF_DEFAULT_PIN_DIR "/sys/fs/bpf/loom"

struct loom_antispoof;

/* The node's program and maps, loaded, verified and pinned on first use
 * (serialised by a lock on the pin directory, so concurrent ADDs load
 * once).  A kernel without BPF gives an error saying so. */
int loom_antispoof_open(const char *pin_dir, struct loom_antispoof **out, struct loom_err *err);
/* The pinned maps only (DEL, loom-bpf).  -ENOENT, err untouched, when
 * nothing was ever pinned for this netns. */
int loom_antispoof_open_maps(const char *pin_dir, struct loom_antispoof **out,
			     struct loom_err *err);
/* A private, unpinned instance (unit tests run it with BPF_PROG_TEST_RUN). */
int loom_antispoof_open_private(struct loom_antispoof **out, struct loom_err *err);
void loom_antispoof_close(struct loom_antispoof *as); /* NULL-safe */
int loom_antispoof_prog_fd(const struct loom_antispoof *as);
/* <pin_dir>/net<inode> of the calling thread's netns. */
int loom_antispoof_pin_path(const char *pin_dir, char *buf, size_t len);

struct loom_antispoof_pod {
	int ifindex;    /* host-side veth */
	uint8_t mac[6]; /* the pod interface's */
	size_t n_ips;
	const struct loom_prefix *ips; /* at most LOOM_ANTISPOOF_MAX_V4 / _V6 per family */
};

/* Write the pod's `allowed` element and zeroed counters. */
int loom_antispoof_set(struct loom_antispoof *as, const struct loom_antispoof_pod *p,
		       struct loom_err *err);
/* clsact on ifindex (kept when there) and the program as its ingress
 * filter, direct action; run in the veth's netns. */
int loom_antispoof_attach(struct loom_antispoof *as, int ifindex, struct loom_err *err);
/* Delete ifindex's elements; missing ones are fine.  0 or -errno. */
int loom_antispoof_forget(struct loom_antispoof *as, int ifindex);
/* Delete the elements of interfaces that no longer exist in the calling
 * thread's netns (a DEL that lost its record).  0 or -errno. */
int loom_antispoof_forget_stale(struct loom_antispoof *as);

struct loom_antispoof_stats {
	uint32_t ifindex;
	bool has_allowed; /* an `allowed` element exists */
	uint64_t pass_packets, pass_bytes;
	uint64_t drop[LOOM_ANTISPOOF_DROP_MAX];
};
/* Every interface in either map, counters summed over CPUs; *out is
 * malloc'd (free it). */
int loom_antispoof_stats(struct loom_antispoof *as, struct loom_antispoof_stats **out, size_t *n,
			 struct loom_err *err);
/* "mac", "ipv4", ... for reports. */
const char *loom_antispoof_drop_name(int reason);

#endif
