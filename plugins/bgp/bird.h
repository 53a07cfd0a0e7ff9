/* bgp mode's BIRD side: what loomd's controller (controller.c) renders for
 * BIRD 2 and how it talks to it.  loom speaks no BGP itself.
 *
 * Pure parts (no store, no kernel; tests/unit/test_bird_render.c):
 * bird_spec.c (who peers with whom, from spec.backend.bgp as mode.c parsed
 * it; the desired configuration; what to do with BIRD next),
 * bird_render.c (the configuration text), bird_status.c (`show protocols
 * all` parsed).  bird_ctl.c speaks BIRD's control socket; bird_proc.c
 * starts a BIRD.  Functions return 0 or -1 with a filled loom_err, or
 * -errno where they say so. */
#ifndef LOOM_BGP_BIRD_H
#define LOOM_BGP_BIRD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"
#include "base/ip.h"
#include "mode.h"

bool loom_bgp_is_reflector(const struct loom_bgp_spec *s, const char *node);

/* One BGP session in the rendered configuration. */
struct loom_bird_neighbor {
	char proto[64];               /* BIRD protocol name, from the address */
	char node[LOOM_BGP_NAME_MAX]; /* the peer node's name; "" = external peer */
	struct loom_ip address;
	uint32_t as;
	bool rr_client; /* we reflect routes to it */
};

/* A node as the neighbour choice needs it. */
struct loom_bird_node {
	const char *name;
	struct loom_ip address;
};

/* The sessions of node `self` given the other nodes: every node (mesh),
 * or with mesh off the reflectors (a reflector: every node, non-reflectors
 * as rr clients), plus the external peers.  Sorted by address, one per
 * address (a node wins over an external peer).  *out is malloc()ed (caller
 * frees); -1 with err on ENOMEM. */
int loom_bird_neighbors(const struct loom_bgp_spec *s, const char *self,
			const struct loom_bird_node *nodes, size_t n,
			struct loom_bird_neighbor **out, size_t *n_out, struct loom_err *err);

struct loom_bird_conf {
	const char *node;         /* for the header comment */
	struct loom_ip router_id; /* IPv4: the node's underlay address */
	uint32_t as;
	unsigned hold_time;
	struct loom_prefix pool;  /* the Network's cidr */
	struct loom_prefix block; /* this node's block */
	const char *log_path;     /* NULL: no log clause */
	const struct loom_bird_neighbor *nbrs;
	size_t n_nbrs;
};

/* The configuration text, malloc()ed; NULL with err (IPv6 router id,
 * ENOMEM). */
char *loom_bird_render(const struct loom_bird_conf *c, struct loom_err *err);

/* This node, as its BIRD configuration names it. */
struct loom_bird_self {
	const char *node;
	struct loom_ip router_id; /* IPv4: the node's underlay address */
	struct loom_prefix pool;  /* the Network's cidr */
	struct loom_prefix block; /* this node's block */
	const char *log_path;     /* NULL: no log clause */
};

/* The configuration BIRD should run with, from the spec and the other
 * nodes: the sessions (loom_bird_neighbors) and the text
 * (loom_bird_render).  *nbrs and *text malloc()ed (caller frees); -1 with
 * err. */
int loom_bird_desired(const struct loom_bgp_spec *s, const struct loom_bird_self *self,
		      const struct loom_bird_node *nodes, size_t n,
		      struct loom_bird_neighbor **nbrs, size_t *n_nbrs, char **text,
		      struct loom_err *err);

/* What to do with BIRD once its configuration file is written: start one
 * (ours, and none runs: it reads the file), tell it to reload (the file
 * changed since it last read it), or nothing. */
enum loom_bird_action {
	LOOM_BIRD_NOTHING,
	LOOM_BIRD_START,
	LOOM_BIRD_RELOAD
};
enum loom_bird_action loom_bird_next(bool external, bool running, bool reload_pending);

/* One protocol of `show protocols all`. */
struct loom_bird_proto {
	char name[64];
	char proto[16];     /* "BGP", "Kernel", ... */
	char state[16];     /* "up", "start", "down" */
	char bgp_state[32]; /* "Established", "Active", ... ("" if not BGP) */
	bool has_neighbor;
	struct loom_ip neighbor;
	uint32_t neighbor_as;
	long imported, exported; /* -1 = not shown */
};

/* Parse the reply text (codes stripped, as loom_bird_cmd gives it).
 * *out malloc()ed; 0 or -ENOMEM. */
int loom_bird_status_parse(const char *text, struct loom_bird_proto **out, size_t *n);

/* Send one command on the control socket; *reply gets the reply's text
 * with the reply codes stripped (malloc()ed, caller frees; may be NULL).
 * 0, -EPROTO when BIRD answered with an error (its text in *reply), or
 * -errno (-ENOENT/-ECONNREFUSED: no BIRD there, -ETIMEDOUT). */
int loom_bird_cmd(const char *sock, const char *cmd, int timeout_ms, char **reply);

/* Start `bird -c conf -s sock -P pidfile` (BIRD daemonizes once its
 * configuration parsed).  0, -EINVAL (BIRD refused the config, its
 * complaint in err), or -errno. */
int loom_bird_spawn(const char *conf, const char *sock, const char *pidfile, struct loom_err *err);
/* The pid in pidfile when that process lives, else 0. */
pid_t loom_bird_pid(const char *pidfile);

/* Replace path with text atomically (temp, fsync, rename, fsync dir).
 * 1 written, 0 already that text, -errno. */
int loom_bird_write_file(const char *path, const char *text);

#endif
