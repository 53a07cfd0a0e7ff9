/* What loomctl learns about the node it runs on, for `status` and
 * `diags`: which loomd and loom-policyd run here, where their folders
 * are, the conflist, and a small HTTP GET for their endpoints.
 *
 * Discovery, most explicit first:
 *   1. loomctl's own flags (--node, --network, --run-dir, --state-dir,
 *      --data-dir, --cni-conf-dir, --bird-socket, --bpf-pin-dir,
 *      --metrics-address, --policyd-metrics-address);
 *   2. the command lines of the loomd and loom-policyd processes in this
 *      network namespace (/proc/PID/cmdline, the same netns as ours: one
 *      node per netns, so `ip netns exec NODE loomctl status` finds that
 *      node's daemons), which give --node, --network, --run-dir,
 *      --state-dir, --store, --bird-socket, --write-conflist and
 *      --metrics-address (loom-policyd's: --node, --store while loomd is
 *      down, its --metrics-address);
 *   3. the conflist (dataDir, bpfPinDir of loom's plugin) and the defaults
 *      (/run/loom, /run/loom/endpoints, /var/lib/cni/networks,
 *      /etc/cni/net.d, /sys/fs/bpf/loom).
 * A --metrics-address of 0.0.0.0 or [::] is reached on loopback.  With no
 * metrics address a daemon's health comes from its process and the
 * store (lease, policy status). */
#ifndef LOOM_CTL_NODE_H
#define LOOM_CTL_NODE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "ctl.h"

#define CTL_NAME_MAX 254
#define CTL_ADDR_MAX 128

struct ctl_node {
	char node[CTL_NAME_MAX], network[CTL_NAME_MAX];
	char run_dir[PATH_MAX], state_dir[PATH_MAX], data_dir[PATH_MAX];
	char cni_dir[PATH_MAX], conflist[PATH_MAX]; /* conflist: "" = none found */
	char bird_socket[PATH_MAX];                 /* "" = <run dir>/bird-<network>.ctl */
	char pin_dir[PATH_MAX];
	char loomd_metrics[CTL_ADDR_MAX], policyd_metrics[CTL_ADDR_MAX]; /* "" = unknown */
	char store_url[PATH_MAX];     /* loomd's --store, "" = none seen */
	pid_t loomd_pid, policyd_pid; /* 0 = not running in this netns */
	json_t *conf;                 /* the conflist, parsed (may be NULL) */
	json_t *plugin;               /* loom's plugin in it (borrowed) */
	bool anti_spoof;              /* the plugin's antiSpoof (default true) */
};

/* Parse the discovery flags out of argv[first..argc): the others are
 * left in rest[] (n_rest).  0, or -1 after printing the error. */
int ctl_node_flags(struct ctl_node *n, int argc, char **argv, int first, char **rest, int *n_rest);
/* Fill what the flags left open (steps 2 and 3 above); when loomctl was
 * given no store, loomd's is used.  0, or -1 after printing why (no node
 * name could be found). */
int ctl_node_discover(struct ctl *c, struct ctl_node *n);
void ctl_node_free(struct ctl_node *n);

/* GET http://ADDR/PATH (ADDR as --metrics-address takes it), within
 * timeout_ms.  The status code (200, 503 ...) with *body malloc()ed, or
 * -errno (-ECONNREFUSED, -ETIMEDOUT, -EINVAL for an address that does not
 * parse). */
int ctl_http_get(const char *addr, const char *path, int timeout_ms, char **body);

#endif
