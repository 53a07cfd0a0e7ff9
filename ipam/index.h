/* loom's per-attachment index: one fixed-slot hash table file per network,
 * <netdir>/.loom-index/table, mapping "<containerID>@<ifname>" to the addresses
 * the attachment holds, so ADD/DEL/CHECK need not read every address file.
 *
 * It is a hint, never the truth: callers verify every address it names
 * against that address file's content.  It is written in place with pwrite
 * and never synced, so after a machine crash any record
 * may be stale or torn; a torn or garbage record (bad checksum, bad field)
 * reads as "no entry here" and its slot is reused.  An unreadable header
 * makes the whole index absent until the next write recreates it.
 *
 * Layout (little-endian, in 512-byte blocks so a record never straddles a
 * page): block 0 the header ("LOOMIDX\0", version, slot count, slots in use,
 * checksum), block 1 + i slot i.  Slot i's record: checksum, state (empty =
 * all zero, live, tombstone), the addresses, then the key.  The magic's NUL
 * byte means the content never equals "<id>\r\n<ifname>" or "<id>", which is
 * what host-local's release walk (it reads every file under the network
 * directory) would delete.
 *
 * Linear probing from FNV-1a(key); deletes leave tombstones; when slots in
 * use (live + tombstones) would pass half the table it is rebuilt, without
 * tombstones, into a new file renamed over the old one.  Every call runs
 * under the store's flock. */
#ifndef LOOM_IPAM_INDEX_H
#define LOOM_IPAM_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ip.h"

/* In a directory of its own so the network directory's top level stays
 * exactly host-local's layout (address files, last_reserved_ip.N, lock). */
#define LOOM_INDEX_DIR ".loom-index"
#define LOOM_INDEX_FILE LOOM_INDEX_DIR "/table"
#define LOOM_INDEX_TMP LOOM_INDEX_DIR "/table.new" /* a rebuild in progress */
#define LOOM_INDEX_MAX_IPS 13                      /* addresses one record holds */
#define LOOM_INDEX_ID_MAX 255                      /* bytes of a container ID */
#define LOOM_INDEX_IFNAME_MAX 15                   /* bytes of an ifname (IFNAMSIZ - 1) */
#define LOOM_INDEX_MIN_SLOTS 64u
#define LOOM_INDEX_MAX_SLOTS 65536u /* 32 MiB at most, sparse */
#define LOOM_INDEX_BLOCK 512u

struct loom_index {
	int fd;         /* -1 when not open */
	uint32_t slots; /* power of two in [MIN, MAX] */
	uint32_t used;  /* non-empty slots, as the header says */
};

/* Called for each live record by loom_index_walk; non-zero stops the walk. */
typedef int (*loom_index_walk_fn)(const char *id, const char *ifname, void *user);

/* FNV-1a 64 of "<id>@<ifname>": the probe starts at hash & (slots - 1). */
uint64_t loom_index_hash(const char *id, const char *ifname);

/* Open the index of the network directory `dirfd`.  0; -ENOENT when absent
 * or its header is unusable and !create; with create, an unusable or absent
 * index is replaced by an empty one (a new file; the first time, a new
 * directory too).  Other -errno. */
int loom_index_open(struct loom_index *ix, int dirfd, bool create);
/* NULL-safe, idempotent. */
void loom_index_close(struct loom_index *ix);

/* The addresses recorded for (id, ifname): count > 0, -ENOENT when none,
 * -E2BIG when more than `max`, other -errno. */
int loom_index_get(struct loom_index *ix, const char *id, const char *ifname, struct loom_ip *ips,
		   size_t max);
/* Record `n` addresses for (id, ifname), replacing its record (n > 0), or
 * tombstone it (n == 0; absent is fine).  May rebuild the table (a new file
 * in dirfd).  0; -EINVAL when id or ifname cannot be a key; -E2BIG when n
 * exceeds LOOM_INDEX_MAX_IPS; -ENOSPC when the table is at its maximum size;
 * other -errno. */
int loom_index_put(struct loom_index *ix, int dirfd, const char *id, const char *ifname,
		   const struct loom_ip *ips, size_t n);
/* Every live record, in slot order.  0, fn's non-zero value, or -errno. */
int loom_index_walk(struct loom_index *ix, loom_index_walk_fn fn, void *user);

#endif
