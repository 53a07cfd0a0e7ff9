/* Other nodes and the Network, followed in the store and handed to the
 * mode's controller (controller.h).
 *
 * The cache `known` holds the remote nodes of our network as last handed
 * to the controller: a DELETE event carries only the key, and the
 * controller needs the record to know which entries to remove.  A record
 * that stops parsing, moves to another network or names this node counts
 * as removed. */
#include "daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODES_PREFIX "/loom/nodes/"
#define CONFIG_PREFIX "/loom/config/"

static void forget_all(struct loomd_nodes *s)
{
	free(s->known);
	s->known = NULL;
	s->n_known = 0;
}

static void close_watches(struct loomd_nodes *s)
{
	loom_watch_close(s->watch);
	s->watch = NULL;
	loom_watch_close(s->config_watch);
	s->config_watch = NULL;
}

void loomd_nodes_stop(struct loomd_nodes *s)
{
	close_watches(s);
	if (s->ops && s->ops->stop)
		s->ops->stop(s->state);
	s->ops = NULL;
	s->state = NULL;
	s->started = false;
	s->synced = false;
	forget_all(s);
}

void loomd_nodes_check(struct loomd *d, struct loomd_nodes *s)
{
	if (!s->started)
		return;
	if (loom_network_same(&s->net, &d->net) && loom_ip_eq(&s->subnet.ip, &d->subnet.ip) &&
	    s->subnet.len == d->subnet.len)
		return;
	loomd_log("the Network or this node's block changed: restarting the %s controller",
		  s->ops ? s->ops->name : d->net.mode->name);
	loomd_nodes_stop(s);
}

static int start(struct loomd *d, struct loomd_nodes *s, struct loom_err *err)
{
	const struct loomd_controller_ops *ops = d->net.mode->controller;
	struct loomd_controller_ctx ctx;

	s->net = d->net;
	s->subnet = d->subnet;
	if (ops) {
		ctx = (struct loomd_controller_ctx){
			.node = d->cfg.node,
			.network = d->cfg.network,
			.address = d->cfg.address,
			.net = &s->net,
			.subnet = d->subnet,
			.underlay_mtu = d->underlay_mtu,
			.state_dir = d->cfg.state_dir,
			.run_dir = d->cfg.run_dir,
			.bird_socket = d->cfg.bird_socket,
			.store = d->store,
			.lease = &d->lease,
		};
		if (ops->start(&s->state, &ctx, err) < 0)
			return -1;
	}
	s->ops = ops;
	s->started = true;
	return 0;
}

/* The record of a key, when it is a remote node of our network. */
static bool relevant(const struct loomd *d, const struct loom_kv *kv, struct loomd_node *n)
{
	struct loom_err err = { 0 };

	if (loomd_node_parse(kv->value, kv->value_len, n, &err) < 0) {
		loomd_log("%s: %s, ignoring", kv->key, err.msg);
		return false;
	}
	if (strcmp(kv->key + strlen(NODES_PREFIX), n->name) != 0) {
		loomd_log("%s: names node \"%s\", ignoring", kv->key, n->name);
		return false;
	}
	return strcmp(n->name, d->cfg.node) != 0 && strcmp(n->network, d->cfg.network) == 0;
}

static void config_key(const struct loomd *d, char *buf, size_t len)
{
	snprintf(buf, len, CONFIG_PREFIX "%s", d->cfg.network);
}

/* The Network's value as stored now (kv): the mode's section alone changed
 * -> network_changed(); anything else -> register again. */
static int on_config(struct loomd *d, struct loomd_nodes *s, const struct loom_kv *kv,
		     struct loom_err *err)
{
	struct loom_err perr = { 0 };
	struct loom_network n;

	if (loomd_network_parse(kv->value, kv->value_len, &n, &perr) < 0) {
		loomd_log("%s: %s, keeping the Network as it was", kv->key, perr.msg);
		return 0;
	}
	if (loom_network_same(&n, &s->net))
		return 0;
	if (loom_network_same_common(&n, &s->net) && s->ops && s->ops->network_changed) {
		loomd_log("the Network's %s settings changed", n.mode->name);
		s->net = n;
		d->net = n;
		return s->ops->network_changed(s->state, &s->net, err);
	}
	loomd_log("the Network changed: registering again");
	s->network_stale = true;
	return 0;
}

/* List the Network's key (it may have changed since the registration
 * read it) and watch it from there. */
static int follow_config(struct loomd *d, struct loomd_nodes *s, struct loom_err *err)
{
	char key[LOOM_STORE_KEY_MAX];
	struct loom_kv *kvs = NULL;
	size_t n = 0, i;
	int64_t rev = 0;
	int r = 0;

	config_key(d, key, sizeof(key));
	if (loom_store_list(d->store, key, &kvs, &n, &rev, err) < 0)
		return -1;
	for (i = 0; i < n && r == 0; i++)
		if (strcmp(kvs[i].key, key) == 0)
			r = on_config(d, s, &kvs[i], err);
	loom_kvs_free(kvs, n);
	if (r < 0)
		return -1;
	return loom_store_watch(d->store, key, rev + 1, &s->config_watch, err);
}

static struct loomd_node *find(struct loomd_nodes *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n_known; i++)
		if (strcmp(s->known[i].name, name) == 0)
			return &s->known[i];
	return NULL;
}

int loomd_nodes_sync(struct loomd *d, struct loomd_nodes *s, struct loom_err *err)
{
	struct loom_kv *kvs = NULL;
	struct loomd_node *nodes = NULL;
	size_t n = 0, m = 0, i;
	int64_t rev = 0;
	int r = -1;

	loom_err_clear(err);
	close_watches(s);
	s->synced = false;
	if (!s->started && start(d, s, err) < 0)
		return -1;
	if (follow_config(d, s, err) < 0)
		return -1;
	if (!s->ops) {
		s->synced = true; /* no nodes to follow */
		return 0;
	}
	if (loom_store_list(d->store, NODES_PREFIX, &kvs, &n, &rev, err) < 0)
		return -1;
	nodes = calloc(n ? n : 1, sizeof(*nodes));
	if (!nodes) {
		loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (relevant(d, &kvs[i], &nodes[m]))
			m++;
	if (s->ops->reconcile(s->state, nodes, m, err) < 0)
		goto out;
	forget_all(s);
	s->known = nodes;
	s->n_known = m;
	nodes = NULL;
	if (loom_store_watch(d->store, NODES_PREFIX, rev + 1, &s->watch, err) < 0)
		goto out;
	s->synced = true;
	r = 0;
out:
	free(nodes);
	loom_kvs_free(kvs, n);
	return r;
}

static int remember(struct loomd_nodes *s, const struct loomd_node *n)
{
	struct loomd_node *k = realloc(s->known, (s->n_known + 1) * sizeof(*k));

	if (!k)
		return -1;
	s->known = k;
	s->known[s->n_known++] = *n;
	return 0;
}

static void forget(struct loomd_nodes *s, struct loomd_node *k)
{
	size_t i = (size_t)(k - s->known);

	memmove(&s->known[i], &s->known[i + 1], (s->n_known - i - 1) * sizeof(*k));
	s->n_known--;
}

static int on_event(struct loomd *d, struct loomd_nodes *s, const struct loom_event *ev,
		    struct loom_err *err)
{
	const char *name = ev->kv.key + strlen(NODES_PREFIX);
	struct loomd_node n, *k;

	if (strncmp(ev->kv.key, NODES_PREFIX, strlen(NODES_PREFIX)) != 0)
		return 0;
	k = find(s, name);
	if (ev->type == LOOM_EV_PUT && relevant(d, &ev->kv, &n)) {
		if (!k) {
			loomd_log("node %s joined (%s)", n.name, ev->kv.key);
			if (s->ops->node_added(s->state, &n, err) < 0)
				return -1;
			if (remember(s, &n) < 0)
				return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
			return 0;
		}
		if (loomd_node_same(k, &n))
			return 0; /* a renewal: nothing the dataplane sees */
		loomd_log("node %s changed", n.name);
		if (s->ops->node_changed(s->state, k, &n, err) < 0)
			return -1;
		*k = n;
		return 0;
	}
	if (!k)
		return 0;
	loomd_log("node %s left%s", k->name,
		  ev->type == LOOM_EV_DELETE ? " (its key is gone)" : "");
	if (s->ops->node_removed(s->state, k, err) < 0)
		return -1;
	forget(s, k);
	return 0;
}

static int on_config_event(struct loomd *d, struct loomd_nodes *s, const struct loom_event *ev,
			   struct loom_err *err)
{
	char key[LOOM_STORE_KEY_MAX];

	config_key(d, key, sizeof(key));
	if (strcmp(ev->kv.key, key) != 0)
		return 0; /* another network whose name starts with ours */
	if (ev->type == LOOM_EV_DELETE) {
		loomd_log("%s was deleted: keeping the Network as it was", key);
		return 0;
	}
	return on_config(d, s, &ev->kv, err);
}

typedef int (*event_fn)(struct loomd *d, struct loomd_nodes *s, const struct loom_event *ev,
			struct loom_err *err);

/* Every pending event of w, to fn.  0 when drained, -1 on the first failure. */
static int drain(struct loomd *d, struct loomd_nodes *s, struct loom_watch *w, event_fn fn,
		 struct loom_err *err)
{
	struct loom_event ev;
	int r;

	for (;;) {
		memset(&ev, 0, sizeof(ev));
		r = loom_watch_next(w, &ev, 0, err);
		if (r == 0)
			return 0;
		if (r == 1) {
			r = fn(d, s, &ev, err);
			loom_kv_clear(&ev.kv);
		}
		if (r < 0)
			return -1;
	}
}

int loomd_nodes_poll(struct loomd *d, struct loomd_nodes *s, struct loom_err *err)
{
	loom_err_clear(err);
	if (!s->synced)
		return 0;
	if (s->ops && s->ops->tick && s->ops->tick(s->state, err) < 0)
		return -1;
	if ((s->config_watch && drain(d, s, s->config_watch, on_config_event, err) < 0) ||
	    (s->watch && drain(d, s, s->watch, on_event, err) < 0)) {
		/* Lost the thread: the next sync lists and reconciles. */
		close_watches(s);
		s->synced = false;
		return -1;
	}
	return 0;
}
