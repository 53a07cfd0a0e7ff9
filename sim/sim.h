/* loom-sim: a loom cluster made of network namespaces on one machine.
 *
 * Layout of one simulated cluster called NAME (the --name prefix):
 *
 *   netns NAME-ul            the underlay: bridge br0 with 192.0.2.1/24,
 *                            and etcd on 192.0.2.1 when --store etcd
 *   netns NAME-nI            node I: eth0 192.0.2.(10+I)/24, loomd
 *   netns NAME-p-NS-POD      a pod, wired by its node's CNI plugin
 *   /run/loom-sim/NAME/      state.json, store/, etcd/, bpf/ (a bpffs),
 *                            nodes/nI/{run,endpoints,ipam,cni}, pods/,
 *                            pids/, logs/, manifests/
 *
 * The loom-sim process itself works from inside the underlay netns once it
 * exists (so the etcd address is reachable from it and its children); the
 * root netns is only used to create and delete namespaces, which `ip netns`
 * does the same from anywhere.  Every process started is recorded in pids/
 * and lives in one of the cluster's namespaces, so `down` finds them both
 * ways, even without state.json. */
#ifndef LOOM_SIM_H
#define LOOM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "model/mode.h"

#define SIM_ROOT "/run/loom-sim"
#define SIM_NAME_MAX 16 /* keeps every netns and path name short */
#define SIM_NODES_MAX 100
#define SIM_NETWORK "default"
#define SIM_CIDR "10.244.0.0/16"
#define SIM_UL_ADDR "192.0.2.1"
#define SIM_PODS_PER_NODE_PLAN 2 /* pods a node is planned for by the host check */
#define SIM_TTL 10               /* loomd's lease, seconds, unless up --ttl */

struct sim {
	char name[SIM_NAME_MAX + 1];
	char dir[256];      /* SIM_ROOT/name */
	char bin[256];      /* where the loom binaries are */
	char mode[16];      /* a mode's name (model/mode.h) */
	char store_kind[8]; /* file | etcd */
	char store_url[320];
	int nodes;
	int ttl;       /* loomd --ttl */
	json_t *state; /* state.json, owned; NULL when missing */
};

/* host.c: does the machine's one kernel hold the cluster?  0 when it does
 * (or was tuned to, with `tune`); else prints the settings to apply and
 * returns -ENOSPC. */
int sim_host_gate(int nodes, const char *mode, const char *store_kind, int pods, bool tune);
/* loom-sim check --nodes N ...: the needs against the limits, as a table. */
int sim_check(int argc, char **argv);

/* proc.c: starting, waiting for and stopping processes. */

/* Run argv (inside netns `ns` via `ip netns exec` when ns is not NULL) with
 * extra environment `env` (NULL-terminated "K=V" list, may be NULL),
 * stdin from `in` (may be NULL: /dev/null), capturing stdout into *out
 * (NUL-terminated, caller frees; out may be NULL: discarded) and stderr into
 * *errout likewise.  Returns the exit status, 128+signal, or -errno. */
int sim_run(const char *ns, char *const argv[], char *const env[], const char *in, size_t in_len,
	    char **out, char **errout);

/* Start argv detached (own session, stdin /dev/null, stdout and stderr
 * appended to `log`) inside netns `ns` (may be NULL).  Records the pid in
 * DIR/pids/TAG.pid.  Returns the pid or -errno. */
pid_t sim_spawn(const struct sim *s, const char *ns, const char *tag, const char *log,
		char *const argv[]);

/* TERM, wait up to 3 s, then KILL.  0 when gone. */
int sim_stop_pid(pid_t pid);
/* Stop the pid recorded in DIR/pids/TAG.pid, remove the file. */
void sim_stop_tag(const struct sim *s, const char *tag);
bool sim_pid_alive(pid_t pid);
pid_t sim_read_pid(const struct sim *s, const char *tag);

/* Enter netns NAME for the rest of the process's life. */
int sim_enter_netns(const char *ns);
bool sim_netns_exists(const char *ns);

int sim_mkdirs(const char *path);
int sim_write_file(const char *path, const char *data, size_t len);
char *sim_read_file(const char *path, size_t *len); /* caller frees, NULL on error */
void sim_rm_rf(const char *path);
__attribute__((format(printf, 1, 2))) void sim_log(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void sim_err(const char *fmt, ...);

/* cluster.c */
int sim_up(struct sim *s, int argc, char **argv);
int sim_down(struct sim *s);
int sim_status(struct sim *s);
int sim_load(struct sim *s); /* reads state.json, fills the fields */
void sim_node_ns(const struct sim *s, int node, char *buf, size_t len);
void sim_ul_ns(const struct sim *s, char *buf, size_t len);
int sim_node_index(const struct sim *s, const char *arg); /* "n2" or "2" -> 2, -1 */
int sim_loomctl(const struct sim *s, char *const args[], const char *in, char **out);

/* Pieces of `up` that `node add` / `node start` reuse. */
int sim_write_state(const struct sim *s);
void sim_node_dirs(const struct sim *s, int node);
void sim_state_add_node(struct sim *s, int node);
int sim_make_node(const struct sim *s, int node);
/* The cluster's mode (its entry of the mode table). */
const struct loom_mode *sim_mode(const struct sim *s);
int sim_write_conflist(const struct sim *s, int node);
/* Starts the node's loomd (and loom-policyd) unless already running. */
int sim_start_node_daemons(const struct sim *s, int node);

/* node.c: node add | stop | kill | start */
int sim_node(struct sim *s, int argc, char **argv);

/* pod.c */
int sim_pod(struct sim *s, int argc, char **argv);
int sim_exec(struct sim *s, int argc, char **argv);
/* All pod records (pods/NS_NAME.json), sorted by "NS/NAME"; caller json_decref. */
json_t *sim_pods(const struct sim *s);

/* matrix.c */
int sim_matrix(struct sim *s, int argc, char **argv);

#endif
