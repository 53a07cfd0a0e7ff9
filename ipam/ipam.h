/* loom-ipam: host-local compatible address management, in-process API.
 *
 * The same code backs the loom-ipam binary and the plugins that call the
 * allocator in-process (when their ipam.type is "loom-ipam").  Both share the
 * on-disk store: <dataDir>/<network name>/, one file per reserved address,
 * byte-compatible with the reference host-local plugin, so a store written by
 * one is read, respected and released by the other (see ipam_store.h).
 *
 * Usage: loom_ipam_conf_parse() once, then one of add/del/check/gc/status.
 * Every call takes the store's lock for its whole duration; calls may come
 * from many processes at once. */
#ifndef LOOM_IPAM_H
#define LOOM_IPAM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cni/cni.h"
#include "base/err.h"
#include "base/ip.h"

#define LOOM_IPAM_DEFAULT_DATA_DIR "/var/lib/cni/networks"

/* Bounds on everything a config can make us hold. */
#define LOOM_IPAM_MAX_SETS 8       /* range sets = addresses per ADD */
#define LOOM_IPAM_MAX_RANGES 32    /* ranges in one set */
#define LOOM_IPAM_MAX_REQUESTED 16 /* requested addresses, all sources */
#define LOOM_IPAM_MAX_ROUTES LOOM_RESULT_MAX_ROUTES
#define LOOM_IPAM_WHERE_MAX 48 /* "runtimeConfig.ipRanges[7][31]" */

struct loom_ipam_range {
	struct loom_prefix subnet;       /* host bits clear */
	struct loom_ip start;            /* first candidate, inclusive, inside subnet */
	struct loom_ip end;              /* last candidate, inclusive, >= start */
	bool has_gateway;                /* given, or defaulted to network+1 */
	struct loom_ip gateway;          /* inside subnet; never handed out */
	uint64_t usable;                 /* addresses in [start,end] we may hand out (saturating) */
	char where[LOOM_IPAM_WHERE_MAX]; /* config path, e.g. "ipam.ranges[0][1]" */
};

struct loom_ipam_rangeset {
	size_t n; /* >= 1; all ranges of one family */
	struct loom_ipam_range r[LOOM_IPAM_MAX_RANGES];
};

struct loom_ipam_conf {
	char name[256];             /* network name: the store's directory */
	char data_dir[PATH_MAX];    /* absolute */
	char resolv_conf[PATH_MAX]; /* "" when not set; read on ADD */
	size_t n_sets;              /* >= 1; one address per set on ADD */
	struct loom_ipam_rangeset sets[LOOM_IPAM_MAX_SETS];
	size_t n_routes;
	struct loom_route routes[LOOM_IPAM_MAX_ROUTES];
	size_t n_requested; /* deduplicated, in order of appearance */
	struct loom_ip requested[LOOM_IPAM_MAX_REQUESTED];
};

/* Build the IPAM config from a parsed network config (its "name", "ipam",
 * "args.cni.ips", "runtimeConfig.ips" and "runtimeConfig.ipRanges") and the
 * CNI_ARGS key IP= (one address or a comma-separated list; `args` may be
 * NULL).  Range sets are, in this order: runtimeConfig.ipRanges, the legacy
 * single range written directly in ipam (subnet/rangeStart/rangeEnd/gateway),
 * then ipam.ranges, as host-local does.  A plugin that calls this in-process
 * must list "IP" among its known CNI_ARGS keys.
 *
 * Errors name the path ("ipam.ranges[0][1].rangeStart: ..."): code 7 for an
 * invalid value, code 2 for an unknown key in a range or route object.  No
 * store access and no file reads happen here. */
int loom_ipam_conf_parse(const struct loom_netconf *nc, const struct loom_cni_args *args,
			 struct loom_ipam_conf *out, struct loom_err *err);

/* A config a plugin makes itself rather than reads from an "ipam" section
 * (loom-vxlan and loom-bgp, from the node's lease): one range set per
 * range, no resolvConf. */
struct loom_ipam_spec_range {
	struct loom_prefix subnet; /* host bits clear */
	bool has_start;
	struct loom_ip start; /* first candidate, inside subnet */
	bool has_gateway;     /* false: network+1 (never handed out) */
	struct loom_ip gateway;
};
struct loom_ipam_spec {
	const char *data_dir; /* NULL: LOOM_IPAM_DEFAULT_DATA_DIR */
	size_t n_ranges;
	struct loom_ipam_spec_range ranges[2];
	size_t n_routes;
	struct loom_route routes[2];
};

/* The config loom_ipam_conf_parse would make of the same "ipam" section
 * written as JSON ({"dataDir", "ranges": [[{subnet, rangeStart, gateway}],
 * ...], "routes"}), with the runtime's parts read from nc and args as it
 * reads them (runtimeConfig.ipRanges first, requested addresses).  Same
 * checks, same messages (ranges named "ipam.ranges[i][0]"). */
int loom_ipam_conf_build(const struct loom_netconf *nc, const struct loom_cni_args *args,
			 const struct loom_ipam_spec *spec, struct loom_ipam_conf *out,
			 struct loom_err *err);

/* Parse a resolv.conf into `dns` the way host-local does (nameserver,
 * domain, search, options; later "domain" wins; entries beyond the result's
 * bounds are ignored, as the resolver ignores them).  LOOM_ERR_IO naming the
 * path when it cannot be read. */
int loom_ipam_dns_load(const char *path, struct loom_dns *dns, struct loom_err *err);

/* Reserve one address from each range set for (container_id, ifname) and
 * fill `res` (initialised here): ips (address with its subnet's length,
 * gateway, iface -1), routes, dns from resolvConf.  Requested addresses are
 * honoured, each in the set that contains it.  Nothing stays reserved on
 * failure.  Codes: LOOM_ERR_DUPLICATE (this attachment already holds an
 * address of this config), LOOM_ERR_IP_UNAVAILABLE (requested address taken
 * or outside every range), LOOM_ERR_IPAM_EXHAUSTED, LOOM_ERR_STORE. */
int loom_ipam_add(const struct loom_ipam_conf *conf, const char *container_id, const char *ifname,
		  struct loom_result *res, struct loom_err *err);

/* Release every address held by (container_id, ifname), including ones
 * written by host-local.  Succeeds when there is nothing to release. */
int loom_ipam_del(const struct loom_ipam_conf *conf, const char *container_id, const char *ifname,
		  struct loom_err *err);

/* LOOM_ERR_NOT_FOUND when the attachment holds no address, or when `prev`
 * (may be NULL) lists an address of this config's ranges that it does not
 * hold. */
int loom_ipam_check(const struct loom_ipam_conf *conf, const char *container_id, const char *ifname,
		    const struct loom_result *prev, struct loom_err *err);

/* Release every allocation of this network whose owner is not among the
 * `n` valid attachments (files written by old host-local versions hold only
 * a container ID: those match by ID).  Garbage files named like an address
 * (empty, oversized, unreadable content) are released too. */
int loom_ipam_gc(const struct loom_ipam_conf *conf, const struct loom_attachment *valid, size_t n,
		 struct loom_err *err);

/* LOOM_ERR_UNAVAILABLE when the store cannot be created or written, or a
 * range set is full (ADD needs one address from each set, so one full set
 * is enough to make it fail).  Cost: O(1) while the address after each set's last
 * reservation is free; otherwise a bounded probe, then one directory scan. */
int loom_ipam_status(const struct loom_ipam_conf *conf, struct loom_err *err);

#endif
