/* Other nodes, followed in the store and handed to the backend's
 * controller (controller.h).
 *
 * The cache `known` holds the remote nodes of our network as last handed
 * to the controller: a DELETE event carries only the key, and the
 * controller needs the record to know which entries to remove.  A record
 * that stops parsing, moves to another network or names this node counts
 * as removed. */
#include "daemon.h"

#include <stdlib.h>
#include <string.h>

#define NODES_PREFIX "/loom/nodes/"

static void forget_all(struct loomd_nodes *s)
{
	free(s->known);
	s->known = NULL;
	s->n_known = 0;
}

void loomd_nodes_stop(struct loomd_nodes *s)
{
	loom_watch_close(s->watch);
	s->watch = NULL;
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
	if (memcmp(&s->net, &d->net, sizeof(s->net)) == 0 &&
	    loom_ip_eq(&s->subnet.ip, &d->subnet.ip) && s->subnet.len == d->subnet.len)
		return;
	loomd_log("the Network or this node's block changed: restarting the %s controller",
		  s->ops ? s->ops->name : "none");
	loomd_nodes_stop(s);
}

static int start(struct loomd *d, struct loomd_nodes *s, struct loom_err *err)
{
	const struct loomd_controller_ops *ops = d->lookup ? d->lookup(d->net.backend) : NULL;
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
	loom_watch_close(s->watch);
	s->watch = NULL;
	s->synced = false;
	if (!s->started && start(d, s, err) < 0)
		return -1;
	if (!s->ops) {
		s->synced = true;  /* nothing to follow */
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
			return 0;  /* a renewal: nothing the dataplane sees */
		loomd_log("node %s changed", n.name);
		if (s->ops->node_changed(s->state, k, &n, err) < 0)
			return -1;
		*k = n;
		return 0;
	}
	if (!k)
		return 0;
	loomd_log("node %s left%s", k->name, ev->type == LOOM_EV_DELETE ? " (its key is gone)" : "");
	if (s->ops->node_removed(s->state, k, err) < 0)
		return -1;
	forget(s, k);
	return 0;
}

int loomd_nodes_poll(struct loomd *d, struct loomd_nodes *s, struct loom_err *err)
{
	struct loom_event ev;
	int r;

	loom_err_clear(err);
	if (!s->synced || !s->watch)
		return 0;
	if (s->ops && s->ops->tick && s->ops->tick(s->state, err) < 0)
		return -1;
	for (;;) {
		memset(&ev, 0, sizeof(ev));
		r = loom_watch_next(s->watch, &ev, 0, err);
		if (r == 0)
			return 0;
		if (r == 1) {
			r = on_event(d, s, &ev, err);
			loom_kv_clear(&ev.kv);
		}
		if (r < 0) {
			/* Lost the thread: the next sync lists and reconciles. */
			loom_watch_close(s->watch);
			s->watch = NULL;
			s->synced = false;
			return -1;
		}
	}
}
