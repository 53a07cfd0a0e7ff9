/* The node's registration: its lease, its pod blocks and its lease file.
 *
 * Ownership of a block is the key /loom/subnets/<network>/<block>, created
 * with put-if-absent and attached to the node's lease.  A dead node's keys
 * go only when its lease expires, so its block is never handed out while it
 * might still route it.  A restarted node finds its block again twice over:
 * in the store (a subnet key naming it) and in its own lease file. */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"

/* Keep the lease we have, else adopt the one our node key still holds
 * (a restart within the TTL), else grant a new one. */
static int ensure_lease(struct loomd *d, struct loom_err *err)
{
	char key[LOOM_STORE_KEY_MAX];
	struct loom_kv kv = { 0 };
	int r;

	if (d->lease) {
		if (loom_store_lease_keepalive(d->store, d->lease, err) == 0)
			return 0;
		if (err->code != LOOM_ERR_NOT_FOUND)
			return -1;
		loomd_log("lease %llx expired", (unsigned long long)d->lease);
		d->lease = 0;
	}
	snprintf(key, sizeof(key), "/loom/nodes/%s", d->cfg.node);
	r = loom_store_get(d->store, key, &kv, err);
	if (r < 0)
		return -1;
	if (r == 1 && kv.lease) {
		int64_t old = kv.lease;

		loom_kv_clear(&kv);
		if (loom_store_lease_keepalive(d->store, old, err) == 0) {
			d->lease = old;
			loomd_log("kept lease %llx of the previous run", (unsigned long long)old);
			return 0;
		}
		if (err->code != LOOM_ERR_NOT_FOUND)
			return -1;
	}
	loom_kv_clear(&kv);
	if (loom_store_lease_grant(d->store, d->cfg.ttl, &d->lease, err) < 0)
		return -1;
	loomd_log("granted lease %llx (ttl %ds)", (unsigned long long)d->lease, d->cfg.ttl);
	return 0;
}

static int cmp_prefix(const void *a, const void *b)
{
	return loom_ip_cmp(&((const struct loom_prefix *)a)->ip,
			   &((const struct loom_prefix *)b)->ip);
}

/* One family's claim.  `want` (may be NULL) is the block we remember. */
struct claim {
	const struct loom_prefix *cidr;
	int sublen;
	const struct loom_prefix *want;
	struct loom_prefix got;
};

static const char *key_component(const char *key)
{
	const char *s = strrchr(key, '/');

	return s ? s + 1 : key;
}

static int put_subnet(struct loomd *d, const struct loom_prefix *s, int mode, int64_t expected,
		      struct loom_err *err)
{
	char key[LOOM_STORE_KEY_MAX];
	_cleanup_free_ char *val = loomd_subnet_value(d->cfg.node, d->cfg.network, s);

	if (!val)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (loomd_subnet_key(d->cfg.network, s, key, sizeof(key)) < 0)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "subnet key too long");
	if (mode == 0)
		return loom_store_create(d->store, key, val, strlen(val), d->lease, NULL, err);
	return loom_store_cas(d->store, key, expected, val, strlen(val), d->lease, NULL, err);
}

/* Walk the cidr for the first block nobody holds.  1 claimed, 0 none free. */
static int claim_free(struct loomd *d, struct claim *c, struct loom_prefix *taken, size_t n_taken,
		      struct loom_err *err)
{
	uint64_t i, count = loomd_subnet_count(c->cidr, c->sublen);
	struct loom_prefix p;
	int r;

	qsort(taken, n_taken, sizeof(*taken), cmp_prefix);
	for (i = 0; i < count && i < LOOMD_WALK_MAX; i++) {
		if (loomd_subnet_nth(c->cidr, c->sublen, i, &p) < 0)
			break;
		if (bsearch(&p, taken, n_taken, sizeof(*taken), cmp_prefix))
			continue;
		/* Another node may win this block between our list and our
		 * create: put-if-absent decides, the loser walks on. */
		r = put_subnet(d, &p, 0, 0, err);
		if (r < 0)
			return -1;
		if (r == 1) {
			c->got = p;
			return 1;
		}
	}
	return 0;
}

/* 1 and c->got: ours again (re-attached to our lease when it was on an
 * older one); 0 none of ours; -1. */
static int claim_mine(struct loomd *d, struct claim *c, struct loom_kv *kvs, size_t n,
		      struct loom_err *err)
{
	char owner[LOOMD_NAME_MAX];
	struct loom_prefix p;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (loomd_subnet_key_parse(key_component(kvs[i].key), &p) < 0 ||
		    !loomd_subnet_fits(c->cidr, c->sublen, &p) ||
		    loomd_subnet_value_owner(kvs[i].value, kvs[i].value_len, owner, sizeof(owner)) <
			    0 ||
		    strcmp(owner, d->cfg.node) != 0)
			continue;
		if (kvs[i].lease == d->lease) {
			c->got = p;
			return 1;
		}
		/* Held under our previous lease: move it to this one, unless
		 * it changed under us (then the next round looks again). */
		r = put_subnet(d, &p, 1, kvs[i].mod_revision, err);
		if (r != 0) {
			if (r == 1)
				c->got = p;
			return r;
		}
	}
	return 0;
}

static int claim_subnet(struct loomd *d, struct claim *c, struct loom_err *err)
{
	char prefix[LOOM_STORE_KEY_MAX];
	struct loom_kv *kvs = NULL;
	struct loom_prefix *taken = NULL;
	size_t n = 0, n_taken = 0, i;
	int r, round;

	if (loomd_subnet_prefix_key(d->cfg.network, prefix, sizeof(prefix)) < 0)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "subnet key too long");
	for (round = 0; round < 3; round++) {
		if (loom_store_list(d->store, prefix, &kvs, &n, NULL, err) < 0)
			return -1;
		r = claim_mine(d, c, kvs, n, err);
		if (r != 0)
			goto out;
		taken = calloc(n ? n : 1, sizeof(*taken));
		if (!taken) {
			r = loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
			goto out;
		}
		for (i = 0; i < n; i++)
			if (loomd_subnet_key_parse(key_component(kvs[i].key), &taken[n_taken]) == 0)
				n_taken++;
		/* The block we remember, when nobody took it while we were away. */
		if (c->want && loomd_subnet_fits(c->cidr, c->sublen, c->want)) {
			r = put_subnet(d, c->want, 0, 0, err);
			if (r != 0) {
				if (r == 1)
					c->got = *c->want;
				goto out;
			}
		}
		r = claim_free(d, c, taken, n_taken, err);
		if (r != 0)
			goto out;
		loom_kvs_free(kvs, n);
		free(taken);
		kvs = NULL;
		taken = NULL;
		n = n_taken = 0;
	}
	{
		char cidr[LOOM_PREFIX_STRLEN];

		return loom_err_set(
			err, LOOM_ERR_IPAM_EXHAUSTED,
			"no free /%d left in %s: every one of its %llu blocks is leased "
			"by a live node (grow spec.cidr or lengthen spec.subnetLength)",
			c->sublen, loom_prefix_fmt(c->cidr, cidr),
			(unsigned long long)loomd_subnet_count(c->cidr, c->sublen));
	}
out:
	loom_kvs_free(kvs, n);
	free(taken);
	return r < 0 ? -1 : 0;
}

static int read_network(struct loomd *d, struct loom_err *err)
{
	char key[LOOM_STORE_KEY_MAX];
	struct loom_kv kv = { 0 };
	int r;

	snprintf(key, sizeof(key), "/loom/config/%s", d->cfg.network);
	r = loom_store_get(d->store, key, &kv, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return loom_err_set(
			err, LOOM_ERR_NOT_FOUND,
			"waiting for the Network: %s does not exist yet (loomctl apply a "
			"Network named \"%s\")",
			key, d->cfg.network);
	r = loomd_network_parse(kv.value, kv.value_len, &d->net, err);
	loom_kv_clear(&kv);
	if (r < 0) {
		loom_err_prefix(err, key);
		return -1;
	}
	return 0;
}

static int put_node(struct loomd *d, struct loom_err *err)
{
	char key[LOOM_STORE_KEY_MAX], addr[LOOM_IP_STRLEN], sub[LOOM_PREFIX_STRLEN], ts[32];
	_cleanup_free_ char *val = NULL;
	time_t now = time(NULL);
	struct tm tm;
	json_t *o;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", d->cfg.node, "address",
		      loom_ip_fmt(&d->cfg.address, addr), "network", d->cfg.network, "subnet",
		      loom_prefix_fmt(&d->subnet, sub), "renewedAt", ts);
	if (o && d->have_subnet6)
		json_object_set_new(o, "subnet6", json_string(loom_prefix_fmt(&d->subnet6, sub)));
	if (o && d->has_vtep_mac) {
		char mac[18];

		loomd_mac_fmt(d->vtep_mac, mac);
		json_object_set_new(o, "vtepMAC", json_string(mac));
	}
	val = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (!val)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	snprintf(key, sizeof(key), "/loom/nodes/%s", d->cfg.node);
	return loom_store_put(d->store, key, val, strlen(val), d->lease, NULL, err);
}

static int write_leasefile(struct loomd *d, struct loom_err *err)
{
	struct loomd_lease_info li = {
		.net = &d->net,
		.subnet = d->subnet,
		.has_subnet6 = d->have_subnet6,
		.subnet6 = d->subnet6,
		.mtu = loom_network_pod_mtu(&d->net, d->underlay_mtu,
					    d->cfg.address.family == AF_INET6),
		.ipmasq = true,
	};
	char text[1024], path[PATH_MAX];
	int r;

	if (loomd_leasefile_format(&li, text, sizeof(text)) < 0)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "lease file text too long");
	r = loomd_leasefile_write(d->cfg.run_dir, d->cfg.network, text, err);
	if (r == 1) {
		loomd_leasefile_path(d->cfg.run_dir, d->cfg.network, path, sizeof(path));
		loomd_log("wrote %s (mtu %u)", path, li.mtu);
	}
	return r < 0 ? -1 : 0;
}

/* What the last lease file says we held, when we do not know yet. */
static void remember_from_file(struct loomd *d)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;

	if (d->have_subnet && (d->have_subnet6 || !d->net.has_cidr6))
		return;
	if (loomd_leasefile_path(d->cfg.run_dir, d->cfg.network, path, sizeof(path)) < 0 ||
	    loomd_leasefile_read(path, &text) < 0)
		return;
	if (!d->have_subnet && loomd_leasefile_get_prefix(text, "LOOM_SUBNET", &d->subnet) == 0)
		d->have_subnet = true;
	if (!d->have_subnet6 &&
	    loomd_leasefile_get_prefix(text, "LOOM_IPV6_SUBNET", &d->subnet6) == 0)
		d->have_subnet6 = true;
}

static int claim_family(struct loomd *d, const struct loom_prefix *cidr, int sublen, bool *have,
			struct loom_prefix *held, struct loom_err *err)
{
	struct claim c = { .cidr = cidr, .sublen = sublen, .want = *have ? held : NULL };
	char buf[LOOM_PREFIX_STRLEN];
	bool changed;

	if (claim_subnet(d, &c, err) < 0)
		return -1;
	changed = !*have || !loom_ip_eq(&held->ip, &c.got.ip) || held->len != c.got.len;
	if (changed)
		loomd_log("leased subnet %s%s", loom_prefix_fmt(&c.got, buf),
			  *have ? " (the block held before was taken)" : "");
	*held = c.got;
	*have = true;
	return 0;
}

/* The mode's VTEP MAC, for the node key: other nodes program it. */
static void vtep_mac(struct loomd *d)
{
	const struct loomd_controller_ops *ops = d->net.mode->controller;

	d->has_vtep_mac = ops && ops->vtep_mac && ops->vtep_mac(d->cfg.node, d->vtep_mac) == 0;
}

int loomd_register(struct loomd *d, struct loom_err *err)
{
	loom_err_clear(err);
	if (read_network(d, err) < 0 || ensure_lease(d, err) < 0)
		return -1;
	vtep_mac(d);
	remember_from_file(d);
	if (claim_family(d, &d->net.cidr, d->net.subnet_len, &d->have_subnet, &d->subnet, err) < 0)
		return -1;
	if (d->net.has_cidr6 && claim_family(d, &d->net.cidr6, d->net.subnet_len6, &d->have_subnet6,
					     &d->subnet6, err) < 0)
		return -1;
	if (!d->net.has_cidr6)
		d->have_subnet6 = false;
	if (put_node(d, err) < 0)
		return -1;
	return write_leasefile(d, err);
}

int loomd_keepalive(struct loomd *d, struct loom_err *err)
{
	loom_err_clear(err);
	if (loom_store_lease_keepalive(d->store, d->lease, err) == 0)
		return 0;
	if (err->code == LOOM_ERR_NOT_FOUND)
		d->lease = 0;
	return -1;
}
