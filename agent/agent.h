/* loomd, the node agent: node registration, the pod subnet lease, the
 * lease file the plugins read, and endpoint publishing.
 *
 * Pure parts (no store, no kernel; unit-tested): config.c (command line),
 * network.c (the Network, over the model's), subnet.c (carving the cluster
 * CIDR into node blocks and naming their keys), leasefile.c (the
 * <network>.env text), endpoint.c (record file name and record -> endpoint
 * value).  Parts with side effects: log.c, mtu.c (netlink), sysctl.c (the
 * mode's sysctls), lease.c (node key, subnet claim), publish.c (endpoint
 * sync), nodes.c (other nodes and the Network -> the mode's controller),
 * main.c (the event loop).  What differs between modes comes from the mode
 * table (model/mode.h), never from a mode's name.
 *
 * Every function returns 0 / a documented positive value, or -1 with a
 * filled loom_err (or -errno where it says so).  The pure parts never log;
 * the store steps (daemon.h) log the events they decide on, main.c the
 * failures. */
#ifndef LOOMD_AGENT_H
#define LOOMD_AGENT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "base/ip.h"
#include "model/network.h"

#define LOOMD_NAME_MAX 254 /* node and network names, with NUL */
#define LOOMD_URL_MAX 2048
#define LOOMD_DEFAULT_STORE "file:/var/lib/loom/store"
#define LOOMD_DEFAULT_RUN_DIR "/run/loom"
#define LOOMD_DEFAULT_STATE_DIR "/run/loom/endpoints"
#define LOOMD_DEFAULT_NETWORK "default"
#define LOOMD_DEFAULT_TTL 20
#define LOOMD_TTL_MAX 3600
/* Subnets tried per claim: a /8 cut into /24s is 65536, and an IPv6 /48
 * into /64s would be 2^16 too; bigger spaces are walked only this far. */
#define LOOMD_WALK_MAX (1u << 20)

/* ---- config.c ---- */

struct loomd_config {
	char node[LOOMD_NAME_MAX];
	struct loom_ip address;        /* --address: the underlay IP */
	char network[LOOMD_NAME_MAX];  /* --network */
	char store_url[LOOMD_URL_MAX]; /* --store, else LOOM_STORE, else the default */
	char run_dir[PATH_MAX];        /* --run-dir: <network>.env goes here */
	char state_dir[PATH_MAX];      /* --state-dir: the plugins' endpoint records */
	char bird_socket[PATH_MAX];    /* --bird-socket: use this BIRD, "" = run our own */
	char conflist_dir
		[PATH_MAX]; /* --write-conflist: 10-loom.conflist goes here, "" = not written */
	char ipam_data_dir
		[PATH_MAX]; /* --ipam-data-dir: the plugins' IPAM dataDir to sweep at start, "" = none */
	int ttl;            /* --ttl, seconds, 1..LOOMD_TTL_MAX */
	bool once;          /* --once: one sync, then exit */
	bool release_on_exit;      /* --release-on-exit: revoke the lease on SIGTERM */
	int log_level;             /* --log-level: enum loom_log_level, default info */
	char metrics_address[128]; /* --metrics-address HOST:PORT, "" = no HTTP endpoints */
};

/* Parse argv (argv[0] is the program).  env_store is $LOOM_STORE (may be
 * NULL).  Returns 0, 1 when --help was asked (nothing else checked), or -1
 * with LOOM_ERR_INVALID_CONFIG naming the option. */
int loomd_config_parse(int argc, char *const argv[], const char *env_store,
		       struct loomd_config *out, struct loom_err *err);
extern const char loomd_usage[];

/* A name usable as one key component and one file-name component: 1..253
 * bytes of [A-Za-z0-9._-], not "." or "..". */
bool loomd_name_valid(const char *s);

/* ---- network.c ---- */

/* The value of /loom/config/<network>, through the Network model
 * (model/network.h), and what loomd adds: it leases IPv4 blocks, so
 * spec.cidr is required.  Errors (LOOM_ERR_INVALID_CONFIG) name the field. */
int loomd_network_parse(const char *text, size_t len, struct loom_network *out,
			struct loom_err *err);

/* ---- subnet.c ---- */

/* How many blocks of sublen the cidr holds, saturating at UINT64_MAX;
 * 0 when sublen is shorter than the cidr or longer than the family. */
uint64_t loomd_subnet_count(const struct loom_prefix *cidr, int sublen);
/* The i-th block (0-based).  0, or -ERANGE past the last block. */
int loomd_subnet_nth(const struct loom_prefix *cidr, int sublen, uint64_t i,
		     struct loom_prefix *out);
/* True when s is exactly one block of the cidr (length sublen, no host bits,
 * inside). */
bool loomd_subnet_fits(const struct loom_prefix *cidr, int sublen, const struct loom_prefix *s);
/* "/loom/subnets/<network>/" and "/loom/subnets/<network>/10.244.3.0_24".
 * 0 or -ENAMETOOLONG. */
int loomd_subnet_prefix_key(const char *network, char *buf, size_t len);
int loomd_subnet_key(const char *network, const struct loom_prefix *s, char *buf, size_t len);
/* Parse the last component of a subnet key back ("10.244.3.0_24").
 * 0 or -EINVAL. */
int loomd_subnet_key_parse(const char *component, struct loom_prefix *out);
/* The value of a subnet key: {"node","subnet","network"}; NULL on ENOMEM. */
char *loomd_subnet_value(const char *node, const char *network, const struct loom_prefix *s);
/* The owner ("node") of a subnet key's value, into buf.  0 or -EINVAL. */
int loomd_subnet_value_owner(const char *text, size_t len, char *buf, size_t buflen);

/* ---- leasefile.c ---- */

struct loomd_lease_info {
	const struct loom_network *net;
	struct loom_prefix subnet;
	bool has_subnet6;
	struct loom_prefix subnet6;
	uint32_t mtu;
	bool ipmasq;
};

/* The file's text (flannel's subnet.env shape), into buf.  0 or -ENOSPC. */
int loomd_leasefile_format(const struct loomd_lease_info *li, char *buf, size_t len);
/* Find `VAR=prefix` in the text.  0, -ENOENT (no such line), -EINVAL. */
int loomd_leasefile_get_prefix(const char *text, const char *var, struct loom_prefix *out);
/* "<run_dir>/<network>.env".  0 or -ENAMETOOLONG. */
int loomd_leasefile_path(const char *run_dir, const char *network, char *buf, size_t len);
/* Read the whole file (NUL-terminated, malloc()ed) or -errno. */
int loomd_leasefile_read(const char *path, char **out);
/* Replace the file atomically (temp, fsync, rename, fsync dir), creating
 * run_dir; nothing is written when the content is already `text`.
 * 1 written, 0 unchanged, -1 with err. */
int loomd_leasefile_write(const char *run_dir, const char *network, const char *text,
			  struct loom_err *err);

/* ---- endpoint.c ---- */

#define LOOMD_CID_MAX 256
#define LOOMD_IFNAME_MAX 64

struct loomd_record_id {
	char network[LOOMD_NAME_MAX];
	char container_id[LOOMD_CID_MAX];
	char ifname[LOOMD_IFNAME_MAX];
};

/* Split a record file name "<network>:<containerID>:<ifname>.json".
 * -EINVAL for temp files (leading '.'), other names, and components that
 * cannot be key components. */
int loomd_record_name_parse(const char *fname, struct loomd_record_id *out);
/* "/loom/endpoints/<node>/" and ".../<containerID>/<ifname>".
 * 0 or -ENAMETOOLONG. */
int loomd_endpoint_prefix_key(const char *node, char *buf, size_t len);
int loomd_endpoint_key(const char *node, const struct loomd_record_id *id, char *buf, size_t len);
/* The endpoint value for a record's text: docs/datastore.md's fields taken
 * from the record, "node" added.  The record must name the same network,
 * container and ifname as its file.  A new reference, or NULL with err
 * (LOOM_ERR_DECODE). */
json_t *loomd_endpoint_from_record(const char *node, const struct loomd_record_id *id,
				   const char *text, size_t len, struct loom_err *err);

/* ---- log.c ---- */

/* One line to stderr: "2024-05-01T12:00:00.123Z loomd[node]: message". */
void loomd_log_init(const char *node);
void loomd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- mtu.c ---- */

/* The MTU of the interface holding `addr` in this netns, or 0 when no
 * interface holds it (or netlink fails). */
uint32_t loomd_underlay_mtu(const struct loom_ip *addr, char ifname[16]);

/* sweep.c: at start, release the network's IPAM reservations whose
 * attachment has no endpoint record (what a machine crash leaves: no
 * reservation is synced, docs/durability.md).  No-op without
 * --ipam-data-dir.  Logs one line per release; never fails the start. */
void loomd_ipam_sweep(const struct loomd_config *cfg);

#endif
