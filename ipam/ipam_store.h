/* The on-disk address store, byte-compatible with host-local's disk backend.
 *
 * Layout of <dataDir>/<network>/ (directories 0755 as host-local makes them):
 *   <address>            one per reservation, named as Go prints the address,
 *                        content "<containerID>\r\n<ifname>" (older host-local
 *                        wrote only "<containerID>"); ours are 0600
 *   last_reserved_ip.<N> the address last reserved in range set N (a hint)
 *   lock                 flock(LOCK_EX) for a whole operation; host-local
 *                        takes the same lock, so the two interoperate
 *   .loom-index/table    loom's per-attachment index: one hash table file
 *                        (index.h) saying which addresses an attachment
 *                        holds, so ADD/DEL/CHECK need not read every file.
 *                        A hint: always verified against the address file
 *                        before use.  Its content starts with a NUL-bearing
 *                        magic, so host-local (which walks the directory and
 *                        releases files by content) never mistakes it for a
 *                        reservation.
 *   .loom-tmp/           temp files for reservations where O_TMPFILE is
 *                        unsupported
 *
 * Everything read back is outside input: bounded, type-checked, and garbage
 * is ignored rather than trusted. */
#ifndef LOOM_IPAM_STORE_H
#define LOOM_IPAM_STORE_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "index.h"
#include "base/ip.h"
#include "ipam.h"

#define LOOM_IPAM_STORE_FILE_MAX 1024 /* a larger address file is garbage */
#define LOOM_IPAM_STORE_ID_MAX 256

struct loom_ipam_store {
	int dirfd;             /* the network's directory; -1 when closed */
	int lockfd;            /* "lock", held LOCK_EX while open */
	struct loom_index idx; /* .loom-index, opened when first needed */
	bool no_tmpfile;       /* O_TMPFILE/linkat unsupported here: use .loom-tmp */
	bool have_tmp_dir;     /* .loom-tmp known to exist */
	/* Called by loom_ipam_store_reserve before an address file can appear
	 * (NULL: none): ADD records its intent in the index here, so a kill
	 * between the file and the index leaves an entry that names it.
	 * Negative -errno fails the reservation. */
	int (*before_reserve)(struct loom_ipam_store *s, const struct loom_ip *ip, void *arg);
	void *before_reserve_arg;
	char path[PATH_MAX]; /* the directory, for messages */
};

/* Who holds an address, as read from its file. */
struct loom_holder {
	bool valid;  /* false: empty, oversized or unreadable content */
	bool legacy; /* content is a bare container ID (no ifname) */
	char id[LOOM_IPAM_STORE_ID_MAX];
	char ifname[IFNAMSIZ];
};

/* mkdir -p <data_dir>/<network> (0755), open it and take the lock (blocks
 * until host-local or another loom releases it).  LOOM_ERR_STORE naming the
 * path and the errno on failure. */
int loom_ipam_store_open(struct loom_ipam_store *s, const char *data_dir, const char *network,
			 struct loom_err *err);
/* Unlock and close; NULL-safe and idempotent.  Nothing is synced, here or
 * anywhere in the store: what a call wrote is in the page cache, which
 * outlives the process (docs/durability.md). */
void loom_ipam_store_close(struct loom_ipam_store *s);

/* Create the address file with its content in one step (it appears whole
 * or not at all): 1 reserved, 0 taken by someone else, -1 with err filled. */
int loom_ipam_store_reserve(struct loom_ipam_store *s, const struct loom_ip *ip, const char *id,
			    const char *ifname, struct loom_err *err);
/* True when a file by the address's name exists (cheap: one fstatat). */
bool loom_ipam_store_exists(struct loom_ipam_store *s, const struct loom_ip *ip);
/* Read the holder of an address: 0, or -ENOENT when free, other -errno. */
int loom_ipam_store_holder(struct loom_ipam_store *s, const struct loom_ip *ip,
			   struct loom_holder *h);
/* Remove the address file: 0, or -errno (-ENOENT counts as success: 0). */
int loom_ipam_store_release(struct loom_ipam_store *s, const struct loom_ip *ip);
/* Same by file name, for entries found by a walk. */
int loom_ipam_store_release_name(struct loom_ipam_store *s, const char *name);

/* True when `h` names (id, ifname); legacy (ID-only) holders match only when
 * `legacy_ok`. */
bool loom_holder_is(const struct loom_holder *h, const char *id, const char *ifname,
		    bool legacy_ok);

/* last_reserved_ip.<set>: 0 with *out filled, or -errno/-EINVAL (garbage). */
int loom_ipam_store_last_get(struct loom_ipam_store *s, size_t set, struct loom_ip *out);
/* Overwrite it in place, as host-local does (not synced: it is a hint).
 * 0 or -errno. */
int loom_ipam_store_last_set(struct loom_ipam_store *s, size_t set, const struct loom_ip *ip);

#define LOOM_IPAM_STORE_INDEX_MAX LOOM_INDEX_MAX_IPS

/* The addresses the index lists for (id, ifname): count >= 0, -ENOENT when
 * there is no usable index (absent, truncated, garbage), other -errno. */
int loom_ipam_store_index_get(struct loom_ipam_store *s, const char *id, const char *ifname,
			      struct loom_ip *ips, size_t max);
/* Replace the index entry (n > 0) or remove it (n == 0).  0 or -errno;
 * -EINVAL when (id, ifname) cannot be an index key, -E2BIG when n exceeds
 * LOOM_IPAM_STORE_INDEX_MAX (DEL will then fall back to a scan). */
int loom_ipam_store_index_put(struct loom_ipam_store *s, const char *id, const char *ifname,
			      const struct loom_ip *ips, size_t n);

/* Walk every entry named like an address (not "lock", not last_reserved_ip,
 * no dot-files, no directories): fn gets the address and its holder; a
 * non-zero return stops the walk and is returned.  0, fn's value, or -errno. */
typedef int (*loom_ipam_store_walk_fn)(struct loom_ipam_store *s, const char *name,
				       const struct loom_ip *ip, const struct loom_holder *h,
				       void *user);
int loom_ipam_store_walk(struct loom_ipam_store *s, bool read_holders, loom_ipam_store_walk_fn fn,
			 void *user);

/* Walk the index: fn gets each live entry's (id, ifname); used by GC to drop
 * entries of dead attachments.  fn may call loom_ipam_store_index_put. */
typedef int (*loom_ipam_store_index_walk_fn)(struct loom_ipam_store *s, const char *id,
					     const char *ifname, void *user);
int loom_ipam_store_index_walk(struct loom_ipam_store *s, loom_ipam_store_index_walk_fn fn,
			       void *user);

/* Remove what a killed writer can leave behind: .loom-tmp/'s temp files
 * and an unfinished index rebuild (.loom-index/table.new).  Safe only under
 * the store's lock (every writer holds it).  Returns how many were removed,
 * or -errno. */
int loom_ipam_store_remove_temps(struct loom_ipam_store *s);

/* Probe that the directory accepts new files (an unlinked O_TMPFILE or a
 * temp file).  LOOM_ERR_STORE with the errno when not. */
int loom_ipam_store_probe_writable(struct loom_ipam_store *s, struct loom_err *err);

/* ---- allocation on top of the store (allocator.c) ---- */

/* Whether `ip` may ever be handed out from range `r`: inside [start,end] and
 * not the gateway, the network address or the IPv4 broadcast (the last two
 * only for subnets with more than two addresses: /31, /32, /127, /128 use
 * every address). */
bool loom_range_usable(const struct loom_ipam_range *r, const struct loom_ip *ip);
/* Index of the range of `set` whose [start,end] holds ip, or -1. */
int loom_rangeset_find(const struct loom_ipam_rangeset *set, const struct loom_ip *ip);
/* "10.0.0.2-10.0.0.254 (10.0.0.0/24),..." into buf, for messages. */
const char *loom_rangeset_fmt(const struct loom_ipam_rangeset *set, char *buf, size_t len);

/* Reserve an address from set `idx` for (id, ifname): `requested` when not
 * NULL, else the next free one after last_reserved_ip.<idx>, wrapping, as
 * host-local iterates.  *out gets the address with its subnet's length and
 * *range the range it came from. */
int loom_alloc_get(struct loom_ipam_store *s, const struct loom_ipam_conf *conf, size_t idx,
		   const struct loom_ip *requested, const char *id, const char *ifname,
		   struct loom_prefix *out, const struct loom_ipam_range **range,
		   struct loom_err *err);

/* 1 when set `idx` has no free address, 0 when it has one, -1 on error.
 * Probes a few candidates after the last reservation; only when all are
 * taken does it count the set's reservations with one directory walk. */
int loom_alloc_set_full(struct loom_ipam_store *s, const struct loom_ipam_conf *conf, size_t idx,
			struct loom_err *err);

#endif
