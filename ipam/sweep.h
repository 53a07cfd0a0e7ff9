/* The IPAM store's start-up sweep: what loomd runs once when it starts to
 * release the reservations a machine crash (or a runtime that never sent
 * DEL) left behind.  docs/durability.md says why the store needs it: no
 * reservation is synced, so a crash loses the recent ones, and the ones it
 * keeps belong to pods that died with the machine.
 *
 * The sweep walks every address file of one network (or of every network
 * directory under dataDir), under each store's lock, and asks the caller
 * whether the attachment still exists (loomd: it has an endpoint record, and
 * that record's netns is there).  A reservation the caller disowns is
 * released with its index entry and reported once through `released` (one
 * log line each).  A reservation younger than `grace_s` is kept whatever
 * the caller says: an ADD in flight holds its address before it writes its
 * endpoint record.  Files no attachment can own (empty or garbage content:
 * a host-local ADD killed between create and write) are released too, and
 * so are temp files a killed writer left.
 *
 * Uses only the store (ipam_store.h); no kernel, no datastore. */
#ifndef LOOM_IPAM_SWEEP_H
#define LOOM_IPAM_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/err.h"

/* One reservation as the sweep found it. */
struct loom_ipam_reservation {
	const char *network;      /* the store directory's name */
	const char *address;      /* the file's name: the address */
	const char *container_id; /* "" when the content names no one */
	const char *ifname;       /* "" for old host-local files (ID only) and garbage */
	time_t mtime;             /* when it was written */
};

/* True when the attachment still exists: keep the reservation.  Not called
 * for garbage (container_id ""). */
typedef bool (*loom_ipam_sweep_in_use_fn)(const struct loom_ipam_reservation *r, void *user);
/* Called once per released reservation, after its release. */
typedef void (*loom_ipam_sweep_released_fn)(const struct loom_ipam_reservation *r, void *user);

struct loom_ipam_sweep {
	const char *data_dir;                 /* the stores' dataDir */
	const char *network;                  /* one network; NULL: every directory under data_dir
					* that holds a store (has a "lock" file) */
	unsigned grace_s;                     /* keep reservations younger than this */
	loom_ipam_sweep_in_use_fn in_use;     /* required */
	loom_ipam_sweep_released_fn released; /* may be NULL */
	void *user;                           /* for both callbacks */
	/* filled by loom_ipam_sweep */
	size_t n_released; /* reservations released */
	size_t n_kept;     /* reservations kept (in use or young) */
	size_t n_temps;    /* temp files removed */
};

/* Sweep as above; counts in *sw.  0, or -1 with LOOM_ERR_STORE naming the
 * directory (a network that fails stops the sweep: what was released stays
 * released).  A missing data_dir is an empty one. */
int loom_ipam_sweep(struct loom_ipam_sweep *sw, struct loom_err *err);

/* A ready in_use predicate for loom-bridge's endpoint records: true when
 * "<user>/<network>:<containerID>:<ifname>.json" exists (user: the
 * records' directory, a const char *).  Old host-local files name no
 * interface: true when any record of that container exists. */
bool loom_ipam_sweep_has_record(const struct loom_ipam_reservation *r, void *record_dir);

#endif
