/* The BIRD controller (controller.h).  Every call ends in apply(): the
 * configuration rendered from the Network's bgp spec and the node list,
 * written only when its text changed, and BIRD told to reload only then;
 * BIRD is started when none answers on the node's socket.  A changed
 * spec.backend.bgp arrives through network_changed() (loomd watches the
 * Network).  tick() does the slow work at its own pace: restart a BIRD
 * that died, publish the sessions' state. */
#include "controller.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

#define TICK_MS 1000
#define CMD_TIMEOUT_MS 2000

struct bgp {
	char node[LOOMD_NAME_MAX];
	char network[LOOMD_NAME_MAX];
	struct loom_ip address;
	struct loom_prefix pool, block;
	struct loom_store *store; /* loomd's */
	const int64_t *lease;     /* loomd's node lease: the status dies with it */
	bool external;            /* a BIRD we did not start */
	char conf[PATH_MAX], sock[PATH_MAX], pidfile[PATH_MAX], log[PATH_MAX];
	struct loom_bgp_spec spec;
	struct loomd_node *nodes; /* the remote nodes, as last told */
	size_t n_nodes;
	struct loom_bird_neighbor *nbrs; /* the sessions rendered last */
	size_t n_nbrs;
	bool reload_pending; /* the file changed, BIRD not told yet */
	long long next_tick;
	char *published;         /* the status text last put */
	int64_t published_lease; /* ... under this lease */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int spawn(struct bgp *b, struct loom_err *err)
{
	int r;

	r = loom_bird_spawn(b->conf, b->sock, b->pidfile, err);
	if (r < 0)
		return -1;
	loomd_log("started BIRD for node %s (%s)", b->node, b->conf);
	b->reload_pending = false; /* it read the current file */
	return 0;
}

static int reload(struct bgp *b, struct loom_err *err)
{
	char cmd[PATH_MAX + 16], *reply = NULL;
	int r;

	/* An existing BIRD has its own config path: name ours. */
	if (b->external)
		snprintf(cmd, sizeof(cmd), "configure \"%s\"", b->conf);
	else
		snprintf(cmd, sizeof(cmd), "configure");
	r = loom_bird_cmd(b->sock, cmd, CMD_TIMEOUT_MS, &reply);
	if (r < 0) {
		loom_err_set(err, LOOM_ERR_INTERNAL, "BIRD on %s: %s: %s", b->sock, cmd,
			     r == -EPROTO && reply ? reply : strerror(-r));
		free(reply);
		return -1;
	}
	free(reply);
	b->reload_pending = false;
	loomd_log("BIRD reconfigured (%zu BGP session%s)", b->n_nbrs, b->n_nbrs == 1 ? "" : "s");
	return 0;
}

/* Start or reload BIRD as loom_bird_next() says.  died: say why one is
 * started (it was running). */
static int act(struct bgp *b, bool died, struct loom_err *err)
{
	switch (loom_bird_next(b->external, b->external || loom_bird_pid(b->pidfile) > 0,
			       b->reload_pending)) {
	case LOOM_BIRD_START:
		if (died)
			loomd_log("no BIRD running for node %s: starting one", b->node);
		return spawn(b, err);
	case LOOM_BIRD_RELOAD:
		return reload(b, err);
	case LOOM_BIRD_NOTHING:
		break;
	}
	return 0;
}

/* The desired configuration (bird_spec.c, pure), written when its text
 * changed, then BIRD started or told. */
static int apply(struct bgp *b, struct loom_err *err)
{
	struct loom_bird_node *nodes = calloc(b->n_nodes + 1, sizeof(*nodes));
	struct loom_bird_self self = {
		.node = b->node,
		.router_id = b->address,
		.pool = b->pool,
		.block = b->block,
		.log_path = b->external ? NULL : b->log,
	};
	struct loom_bird_neighbor *nbrs = NULL;
	size_t n_nbrs = 0, i;
	char *text = NULL;
	int r;

	if (!nodes)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	for (i = 0; i < b->n_nodes; i++)
		nodes[i] = (struct loom_bird_node){ .name = b->nodes[i].name,
						    .address = b->nodes[i].address };
	r = loom_bird_desired(&b->spec, &self, nodes, b->n_nodes, &nbrs, &n_nbrs, &text, err);
	free(nodes);
	if (r < 0)
		return -1;
	free(b->nbrs);
	b->nbrs = nbrs;
	b->n_nbrs = n_nbrs;
	r = loom_bird_write_file(b->conf, text);
	free(text);
	if (r < 0)
		return loom_err_set(err, LOOM_ERR_IO, "cannot write %s: %s", b->conf, strerror(-r));
	if (r == 1)
		b->reload_pending = true;
	return act(b, false, err);
}

static int set_nodes(struct bgp *b, const struct loomd_node *nodes, size_t n, struct loom_err *err)
{
	struct loomd_node *v = calloc(n + 1, sizeof(*v));

	if (!v)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (n)
		memcpy(v, nodes, n * sizeof(*v));
	free(b->nodes);
	b->nodes = v;
	b->n_nodes = n;
	return 0;
}

static int bgp_start(void **state, const struct loomd_controller_ctx *ctx, struct loom_err *err)
{
	struct bgp *b = calloc(1, sizeof(*b));
	const char *dir = ctx->run_dir && ctx->run_dir[0] ? ctx->run_dir : LOOMD_DEFAULT_RUN_DIR;

	if (!b)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	snprintf(b->node, sizeof(b->node), "%s", ctx->node);
	snprintf(b->network, sizeof(b->network), "%s", ctx->network);
	b->address = ctx->address;
	b->pool = ctx->net->cidr;
	b->block = ctx->subnet;
	b->store = ctx->store;
	b->lease = ctx->lease;
	b->external = ctx->bird_socket && ctx->bird_socket[0];
	snprintf(b->conf, sizeof(b->conf), "%s/bird-%s.conf", dir, b->network);
	snprintf(b->log, sizeof(b->log), "%s/bird-%s.log", dir, b->network);
	snprintf(b->pidfile, sizeof(b->pidfile), "%s/bird-%s.pid", dir, b->network);
	if (b->external)
		snprintf(b->sock, sizeof(b->sock), "%s", ctx->bird_socket);
	else
		snprintf(b->sock, sizeof(b->sock), "%s/bird-%s.ctl", dir, b->network);
	if (b->address.family != AF_INET) {
		free(b);
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "bgp mode needs an IPv4 underlay address (BIRD's router id)");
	}
	if (!b->store) {
		free(b);
		return loom_err_set(err, LOOM_ERR_INTERNAL,
				    "bgp controller started without a store");
	}
	b->spec = *loom_bgp_section(ctx->net);
	*state = b;
	return 0;
}

static int bgp_network_changed(void *state, const struct loom_network *net, struct loom_err *err)
{
	struct bgp *b = state;

	b->spec = *loom_bgp_section(net);
	return apply(b, err);
}

static int bgp_reconcile(void *state, const struct loomd_node *nodes, size_t n,
			 struct loom_err *err)
{
	struct bgp *b = state;

	if (set_nodes(b, nodes, n, err) < 0)
		return -1;
	return apply(b, err);
}

static int bgp_node_added(void *state, const struct loomd_node *n, struct loom_err *err)
{
	struct bgp *b = state;
	struct loomd_node *v;
	size_t i;

	for (i = 0; i < b->n_nodes; i++)
		if (strcmp(b->nodes[i].name, n->name) == 0) {
			b->nodes[i] = *n;
			return apply(b, err);
		}
	v = realloc(b->nodes, (b->n_nodes + 1) * sizeof(*v));
	if (!v)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	b->nodes = v;
	b->nodes[b->n_nodes++] = *n;
	return apply(b, err);
}

static int bgp_node_changed(void *state, const struct loomd_node *old, const struct loomd_node *n,
			    struct loom_err *err)
{
	(void)old;
	return bgp_node_added(state, n, err);
}

static int bgp_node_removed(void *state, const struct loomd_node *n, struct loom_err *err)
{
	struct bgp *b = state;
	size_t i;

	for (i = 0; i < b->n_nodes; i++)
		if (strcmp(b->nodes[i].name, n->name) == 0) {
			b->nodes[i] = b->nodes[--b->n_nodes];
			break;
		}
	return apply(b, err);
}

json_t *loom_bgp_status_json(const char *node, const struct loom_bird_proto *p, size_t n,
			     const struct loom_bird_neighbor *nbrs, size_t n_nbrs)
{
	json_t *peers = json_array(), *o;
	char ip[LOOM_IP_STRLEN];
	size_t i, k;

	if (!peers)
		return NULL;
	for (i = 0; i < n; i++) {
		json_t *e;
		const char *who = NULL;

		if (strcmp(p[i].proto, "BGP") != 0)
			continue;
		for (k = 0; k < n_nbrs; k++)
			if (strcmp(nbrs[k].proto, p[i].name) == 0 && nbrs[k].node[0])
				who = nbrs[k].node;
		e = json_pack("{s:s, s:s, s:I, s:I}", "name", p[i].name, "state",
			      p[i].bgp_state[0] ? p[i].bgp_state : p[i].state, "imported",
			      (json_int_t)p[i].imported, "exported", (json_int_t)p[i].exported);
		if (e && who)
			json_object_set_new(e, "node", json_string(who));
		if (e && p[i].has_neighbor) {
			json_object_set_new(e, "address",
					    json_string(loom_ip_fmt(&p[i].neighbor, ip)));
			json_object_set_new(e, "asNumber", json_integer(p[i].neighbor_as));
		}
		if (!e || json_array_append_new(peers, e) < 0) {
			json_decref(peers);
			return NULL;
		}
	}
	o = json_pack("{s:s, s:o}", "node", node, "peers", peers);
	return o;
}

static int publish(struct bgp *b, struct loom_err *err)
{
	struct loom_bird_proto *p = NULL;
	char key[LOOMD_NAME_MAX + 32], *reply = NULL, *text;
	size_t n = 0;
	int64_t lease;
	json_t *o;
	int r;

	r = loom_bird_cmd(b->sock, "show protocols all", CMD_TIMEOUT_MS, &reply);
	if (r == 0)
		r = loom_bird_status_parse(reply, &p, &n);
	free(reply);
	if (r < 0)
		return 0; /* BIRD away: tick()'s business (it starts one), the old status stands */
	o = loom_bgp_status_json(b->node, p, n, b->nbrs, b->n_nbrs);
	free(p);
	text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (!text)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	lease = b->lease ? *b->lease : 0;
	/* A new lease (the old one expired) took the old status with it. */
	if (b->published && strcmp(b->published, text) == 0 && b->published_lease == lease) {
		free(text);
		return 0;
	}
	snprintf(key, sizeof(key), LOOM_BGPSTATUS_PREFIX "%s", b->node);
	if (loom_store_put(b->store, key, text, strlen(text), lease, NULL, err) < 0) {
		free(text);
		return -1;
	}
	free(b->published);
	b->published = text;
	b->published_lease = lease;
	return 0;
}

static int bgp_tick(void *state, struct loom_err *err)
{
	struct bgp *b = state;
	long long now = now_ms();

	if (now < b->next_tick)
		return 0;
	b->next_tick = now + TICK_MS;
	if (act(b, true, err) < 0)
		return -1;
	return publish(b, err);
}

static void bgp_stop(void *state)
{
	struct bgp *b = state;

	if (!b)
		return;
	free(b->nodes);
	free(b->nbrs);
	free(b->published);
	free(b);
}

/* No vtep_mac: routes need no VTEP. */
const struct loomd_controller_ops loom_bgp_controller = {
	.name = "bgp",
	LOOMD_CONTROLLER_OPS(bgp),
	.network_changed = bgp_network_changed,
	.tick = bgp_tick,
};
