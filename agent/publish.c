/* Endpoint publishing: the plugins' local records (one file each in the
 * state dir) mirrored to /loom/endpoints/<node>/<containerID>/<ifname>.
 *
 * The plugins never talk to the store (pod start must not depend on it);
 * this file is the only writer of the node's endpoint keys.  They are
 * attached to the node's lease, so the endpoints of a node that is gone for
 * good leave with its node key.  Only records and keys of our own network
 * are touched: loomds of other networks share the state dir and the
 * node's key prefix. */
#include "daemon.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"

#define RECORD_MAX (64 * 1024)

static int read_record(const char *dir, const char *fname, char **text, size_t *len)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t got = 0;
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/%s", dir, fname) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	buf = malloc(RECORD_MAX + 1);
	if (!buf)
		return -ENOMEM;
	while ((n = read(fd, buf + got, RECORD_MAX + 1 - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
		if (got > RECORD_MAX)
			return -EFBIG;
	}
	buf[got] = '\0';
	*text = LOOM_TAKE_PTR(buf);
	*len = got;
	return 0;
}

/* The endpoint a record file asks for.  1 and *key / *val (new reference);
 * 0 when the file is not one of our network's records or is gone; a bad
 * record is logged and skipped (0). */
static int desired_one(struct loomd *d, const char *fname, char key[LOOM_STORE_KEY_MAX],
		       json_t **val)
{
	struct loomd_record_id id;
	struct loom_err err = { 0 };
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r;

	if (loomd_record_name_parse(fname, &id) < 0 || strcmp(id.network, d->cfg.network) != 0 ||
	    loomd_endpoint_key(d->cfg.node, &id, key, LOOM_STORE_KEY_MAX) < 0)
		return 0;
	r = read_record(d->cfg.state_dir, fname, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		loomd_log("cannot read endpoint record %s/%s: %s, ignoring", d->cfg.state_dir,
			  fname, strerror(-r));
		return 0;
	}
	*val = loomd_endpoint_from_record(d->cfg.node, &id, text, len, &err);
	if (!*val) {
		loomd_log("endpoint record %s/%s: %s, ignoring", d->cfg.state_dir, fname, err.msg);
		return 0;
	}
	return 1;
}

/* Put key = val unless the store already holds exactly that under our
 * lease.  `cur` (may be NULL) is the key's current entry. */
static int sync_one(struct loomd *d, const char *key, json_t *val, const struct loom_kv *cur,
		    struct loom_err *err)
{
	_cleanup_free_ char *text = NULL;
	json_t *have = NULL;
	bool same = false;

	if (cur) {
		have = json_loadb(cur->value, cur->value_len, 0, NULL);
		same = cur->lease == d->lease && have && json_equal(have, val);
		json_decref(have);
	}
	if (same)
		return 0;
	text = json_dumps(val, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (loom_store_put(d->store, key, text, strlen(text), d->lease, NULL, err) < 0)
		return -1;
	loomd_log("published endpoint %s", key);
	return 0;
}

struct want {
	char key[LOOM_STORE_KEY_MAX];
	json_t *val;
};

static int cmp_want(const void *a, const void *b)
{
	return strcmp(((const struct want *)a)->key, ((const struct want *)b)->key);
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct loom_kv *)a)->key, ((const struct loom_kv *)b)->key);
}

static void wants_free(struct want *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		json_decref(w[i].val);
	free(w);
}

/* Every record of our network in the state dir, sorted by key. */
static int scan_records(struct loomd *d, struct want **out, size_t *n_out, struct loom_err *err)
{
	struct want *w = NULL, *grown;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dir = opendir(d->cfg.state_dir);

	if (!dir)
		return loom_err_errno(err, LOOM_ERR_IO, errno, "cannot read the state dir %s",
				      d->cfg.state_dir);
	while ((de = readdir(dir)) != NULL) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(w, cap * sizeof(*w));
			if (!grown) {
				closedir(dir);
				wants_free(w, n);
				return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
			}
			w = grown;
		}
		if (desired_one(d, de->d_name, w[n].key, &w[n].val) == 1)
			n++;
	}
	closedir(dir);
	if (n)
		qsort(w, n, sizeof(*w), cmp_want);
	*out = w;
	*n_out = n;
	return 0;
}

/* A key under our prefix that belongs to another network's loomd. */
static bool foreign(struct loomd *d, const struct loom_kv *kv)
{
	json_t *j = json_loadb(kv->value, kv->value_len, 0, NULL);
	const char *net = json_string_value(json_object_get(j, "network"));
	bool r = net && strcmp(net, d->cfg.network) != 0;

	json_decref(j);
	return r;
}

int loomd_endpoints_reconcile(struct loomd *d, struct loom_err *err)
{
	char prefix[LOOM_STORE_KEY_MAX];
	struct loom_kv *kvs = NULL, *cur;
	struct want *w = NULL, probe;
	size_t n_kv = 0, n_w = 0, i;
	int r = 0;

	loom_err_clear(err);
	if (loomd_endpoint_prefix_key(d->cfg.node, prefix, sizeof(prefix)) < 0)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "endpoint key too long");
	if (scan_records(d, &w, &n_w, err) < 0)
		return -1;
	if (loom_store_list(d->store, prefix, &kvs, &n_kv, NULL, err) < 0) {
		wants_free(w, n_w);
		return -1;
	}
	/* The contract sorts the list; sorting again costs little and keeps
	 * bsearch right whatever a backend does. */
	if (n_kv)
		qsort(kvs, n_kv, sizeof(*kvs), cmp_kv);
	for (i = 0; i < n_w && r == 0; i++) {
		struct loom_kv k = { .key = w[i].key };

		cur = n_kv ? bsearch(&k, kvs, n_kv, sizeof(*kvs), cmp_kv) : NULL;
		r = sync_one(d, w[i].key, w[i].val, cur, err);
	}
	for (i = 0; i < n_kv && r == 0; i++) {
		snprintf(probe.key, sizeof(probe.key), "%s", kvs[i].key);
		if ((n_w && bsearch(&probe, w, n_w, sizeof(*w), cmp_want)) || foreign(d, &kvs[i]))
			continue;
		if (loom_store_delete(d->store, kvs[i].key, NULL, err) < 0)
			r = -1;
		else
			loomd_log("removed stale endpoint %s", kvs[i].key);
	}
	loom_kvs_free(kvs, n_kv);
	wants_free(w, n_w);
	return r;
}

int loomd_endpoint_changed(struct loomd *d, const char *fname, struct loom_err *err)
{
	struct loomd_record_id id;
	char key[LOOM_STORE_KEY_MAX];
	struct loom_kv cur = { 0 };
	json_t *val = NULL;
	int r;

	loom_err_clear(err);
	if (loomd_record_name_parse(fname, &id) < 0 || strcmp(id.network, d->cfg.network) != 0 ||
	    loomd_endpoint_key(d->cfg.node, &id, key, sizeof(key)) < 0)
		return 0;
	if (desired_one(d, fname, key, &val) == 1) {
		r = loom_store_get(d->store, key, &cur, err);
		if (r >= 0)
			r = sync_one(d, key, val, r == 1 ? &cur : NULL, err);
		loom_kv_clear(&cur);
		json_decref(val);
		return r;
	}
	/* Gone (or no longer a valid record): the pod's endpoint goes too. */
	r = loom_store_delete(d->store, key, NULL, err);
	if (r == 1)
		loomd_log("removed endpoint %s", key);
	return r < 0 ? -1 : 0;
}
