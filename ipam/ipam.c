/* The IPAM operations: ADD, DEL, CHECK, GC, STATUS over the store.
 *
 * Each opens the store (taking its lock), works and closes; nothing is
 * synced (docs/durability.md).  Before each address file can appear, ADD
 * writes the attachment's index entry naming it (its intent), and the
 * final entry last: a kill anywhere leaves an entry that names every
 * reservation the ADD made (DEL releases them; one whose file never
 * appeared marks the entry stale, and DEL scans), or no entry and no
 * reservation. */
#include "ipam.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam_store.h"

static int check_attachment(const char *id, const char *ifname, struct loom_err *err)
{
	if (loom_cni_validate_container_id(id, err) < 0 ||
	    loom_cni_validate_ifname(ifname, err) < 0)
		return -1;
	return 0;
}

static bool in_config(const struct loom_ipam_conf *conf, const struct loom_ip *ip)
{
	size_t i;

	for (i = 0; i < conf->n_sets; i++) {
		if (loom_rangeset_find(&conf->sets[i], ip) >= 0)
			return true;
	}
	return false;
}

/* Which requested address goes to which set: each must fall in one set, and
 * each set takes at most one. */
static int map_requested(const struct loom_ipam_conf *conf,
			 const struct loom_ip *req[LOOM_IPAM_MAX_SETS], struct loom_err *err)
{
	char a[LOOM_IP_STRLEN], b[LOOM_IP_STRLEN];
	size_t i, k;

	memset(req, 0, sizeof(*req) * LOOM_IPAM_MAX_SETS);
	for (i = 0; i < conf->n_requested; i++) {
		const struct loom_ip *ip = &conf->requested[i];

		for (k = 0; k < conf->n_sets; k++) {
			if (loom_rangeset_find(&conf->sets[k], ip) >= 0)
				break;
		}
		if (k == conf->n_sets)
			return loom_err_set(
				err, LOOM_ERR_IP_UNAVAILABLE,
				"requested address %s is outside every configured range",
				loom_ip_fmt(ip, a));
		if (req[k])
			return loom_err_set(
				err, LOOM_ERR_IP_UNAVAILABLE,
				"requested addresses %s and %s both fall in range set %zu; "
				"one address per range set",
				loom_ip_fmt(req[k], a), loom_ip_fmt(ip, b), k);
		req[k] = ip;
	}
	return 0;
}

/* Addresses the index says this attachment holds, verified against their
 * files.  Returns how many verified, and sets *stale when the index is
 * missing or names an address this attachment does not hold. */
static size_t indexed(struct loom_ipam_store *s, const char *id, const char *ifname,
		      struct loom_ip *out, bool *stale)
{
	struct loom_ip ips[LOOM_IPAM_STORE_INDEX_MAX];
	struct loom_holder h;
	size_t i, n = 0;
	int got = loom_ipam_store_index_get(s, id, ifname, ips, LOOM_IPAM_STORE_INDEX_MAX);

	*stale = got <= 0;
	for (i = 0; got > 0 && i < (size_t)got; i++) {
		if (loom_ipam_store_holder(s, &ips[i], &h) == 0 &&
		    loom_holder_is(&h, id, ifname, false))
			out[n++] = ips[i];
		else
			*stale = true;
	}
	return n;
}

static void rollback(struct loom_ipam_store *s, const struct loom_ip *ips, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		(void)loom_ipam_store_release(s, &ips[i]);
}

/* ADD's intent: the attachment's entry as it will be if the next
 * reservation succeeds. */
struct intent {
	const char *id, *ifname;
	struct loom_ip *all; /* room for LOOM_IPAM_STORE_INDEX_MAX */
	size_t *n_all;
	size_t written; /* addresses in the entry the last intent wrote */
};

static int write_intent(struct loom_ipam_store *s, const struct loom_ip *ip, void *arg)
{
	struct intent *in = arg;
	int rc;

	if (*in->n_all >= LOOM_IPAM_STORE_INDEX_MAX)
		return -E2BIG;
	in->all[*in->n_all] = *ip;
	in->written = 0;
	rc = loom_ipam_store_index_put(s, in->id, in->ifname, in->all, *in->n_all + 1);
	if (rc == -EINVAL)
		return 0; /* (id, ifname) cannot be a key: no entry, DEL scans */
	if (rc < 0)
		return rc;
	in->written = *in->n_all + 1;
	return 0;
}

int loom_ipam_add(const struct loom_ipam_conf *conf, const char *container_id, const char *ifname,
		  struct loom_result *res, struct loom_err *err)
{
	const struct loom_ip *req[LOOM_IPAM_MAX_SETS];
	struct loom_ip held[LOOM_IPAM_STORE_INDEX_MAX], all[LOOM_IPAM_STORE_INDEX_MAX];
	struct loom_ip got[LOOM_IPAM_MAX_SETS];
	struct loom_ipam_store s;
	size_t i, n_held, n_all = 0, n_got = 0, n_before;
	bool stale, overflow = false;
	struct intent intent;
	int rc;

	loom_result_init(res);
	if (check_attachment(container_id, ifname, err) < 0 || map_requested(conf, req, err) < 0)
		return -1;
	/* Before any reservation: nothing to undo when it fails. */
	if (conf->resolv_conf[0] && loom_ipam_dns_load(conf->resolv_conf, &res->dns, err) < 0)
		return -1;
	if (loom_ipam_store_open(&s, conf->data_dir, conf->name, err) < 0)
		return -1;

	n_held = indexed(&s, container_id, ifname, held, &stale);
	for (i = 0; i < n_held; i++) {
		char a[LOOM_IP_STRLEN];

		if (in_config(conf, &held[i])) {
			loom_ipam_store_close(&s);
			return loom_err_set(err, LOOM_ERR_DUPLICATE,
					    "%s has been allocated to container %s interface %s, "
					    "duplicate allocation is not allowed",
					    loom_ip_fmt(&held[i], a), container_id, ifname);
		}
		/* Held from ranges this config no longer has: keep them in the
		 * index so DEL still releases them. */
		if (n_all < LOOM_IPAM_STORE_INDEX_MAX)
			all[n_all++] = held[i];
		else
			overflow = true;
	}
	if (n_held + conf->n_sets > LOOM_IPAM_STORE_INDEX_MAX)
		overflow = true; /* no entry at all rather than a partial one */
	/* The entry lists addresses this attachment holds; until it is
	 * rewritten below it would miss the new ones, and a DEL trusting it
	 * after a kill would leak them.  Removed first, so a kill leaves no
	 * entry and DEL scans.  Rare: only an attachment holding addresses of
	 * ranges its config no longer has gets here. */
	if (n_held > 0 && loom_ipam_store_index_put(&s, container_id, ifname, NULL, 0) < 0) {
		loom_ipam_store_close(&s);
		return loom_err_set(err, LOOM_ERR_STORE, "cannot update the index in %s", s.path);
	}

	n_before = n_all;
	intent = (struct intent){ container_id, ifname, all, &n_all, 0 };
	if (!overflow) {
		s.before_reserve = write_intent;
		s.before_reserve_arg = &intent;
	}
	for (i = 0; i < conf->n_sets; i++) {
		const struct loom_ipam_range *r;
		struct loom_result_ip *rip = &res->ips[res->n_ips];

		if (loom_alloc_get(&s, conf, i, req[i], container_id, ifname, &rip->address, &r,
				   err) < 0) {
			rollback(&s, got, n_got);
			/* back to what the attachment held before; best effort:
			 * a stale entry only makes its DEL scan */
			if (!overflow)
				(void)loom_ipam_store_index_put(&s, container_id, ifname, all,
								n_before);
			loom_ipam_store_close(&s);
			if (n_got > 0)
				loom_err_prefix(err, "allocation rolled back");
			return -1;
		}
		rip->has_gateway = r->has_gateway;
		rip->gateway = r->gateway;
		rip->iface = -1;
		res->n_ips++;
		got[n_got++] = rip->address.ip;
		if (n_all < LOOM_IPAM_STORE_INDEX_MAX)
			all[n_all++] = rip->address.ip;
	}

	/* The last intent, written before the last reservation succeeded,
	 * already is the final entry: write it again only when it is not (no
	 * set allocated, or held addresses of old ranges only). */
	if (overflow)
		rc = -E2BIG;
	else if (n_got > 0 && intent.written == n_all)
		rc = 0;
	else
		rc = loom_ipam_store_index_put(&s, container_id, ifname, all, n_all);
	/* Without a current index entry, a stale one could send DEL past
	 * these reservations: drop it, or give up the ADD. */
	if (rc < 0 && rc != -EINVAL &&
	    loom_ipam_store_index_put(&s, container_id, ifname, NULL, 0) < 0) {
		rollback(&s, got, n_got);
		loom_ipam_store_close(&s);
		return loom_err_errno(err, LOOM_ERR_STORE, -rc, "cannot write the index in %s: %s",
				      s.path, strerror(-rc));
	}
	loom_ipam_store_close(&s);

	for (i = 0; i < conf->n_routes && res->n_routes < LOOM_RESULT_MAX_ROUTES; i++)
		res->routes[res->n_routes++] = conf->routes[i];
	return 0;
}

/* ---- the fallback scan: files written by host-local, or a lost index ---- */

struct scan {
	const char *id, *ifname;
	size_t n_exact, n_legacy;
	char (*exact)[LOOM_IP_STRLEN]; /* file names */
	char (*legacy)[LOOM_IP_STRLEN];
	size_t cap;
	bool overflow;
};

static int scan_one(struct loom_ipam_store *s, const char *name, const struct loom_ip *ip,
		    const struct loom_holder *h, void *user)
{
	struct scan *c = user;

	(void)s;
	(void)ip;
	if (strlen(name) >= LOOM_IP_STRLEN)
		return 0;
	if (loom_holder_is(h, c->id, c->ifname, false)) {
		if (c->n_exact < c->cap)
			snprintf(c->exact[c->n_exact++], LOOM_IP_STRLEN, "%s", name);
		else
			c->overflow = true;
	} else if (loom_holder_is(h, c->id, c->ifname, true)) {
		if (c->n_legacy < c->cap)
			snprintf(c->legacy[c->n_legacy++], LOOM_IP_STRLEN, "%s", name);
		else
			c->overflow = true;
	}
	return 0;
}

#define SCAN_CAP 64

/* Names of the files held by (id, ifname); like host-local, bare-ID files
 * count only when no file names the interface.  Returns the list and its
 * length in *n, or -errno. */
static int scan_held(struct loom_ipam_store *s, const char *id, const char *ifname,
		     char (*names)[LOOM_IP_STRLEN], size_t *n)
{
	char legacy[SCAN_CAP][LOOM_IP_STRLEN];
	struct scan c = {
		.id = id, .ifname = ifname, .exact = names, .legacy = legacy, .cap = SCAN_CAP
	};
	int rc = loom_ipam_store_walk(s, true, scan_one, &c);

	if (rc < 0)
		return rc;
	if (c.n_exact == 0) {
		memcpy(names, legacy, sizeof(legacy[0]) * c.n_legacy);
		c.n_exact = c.n_legacy;
	}
	*n = c.n_exact;
	return c.overflow ? -E2BIG : 0;
}

int loom_ipam_del(const struct loom_ipam_conf *conf, const char *container_id, const char *ifname,
		  struct loom_err *err)
{
	struct loom_ip held[LOOM_IPAM_STORE_INDEX_MAX];
	char names[SCAN_CAP][LOOM_IP_STRLEN];
	struct loom_ipam_store s;
	size_t i, n = 0;
	bool stale;
	int rc = 0;

	if (check_attachment(container_id, ifname, err) < 0)
		return -1;
	if (loom_ipam_store_open(&s, conf->data_dir, conf->name, err) < 0)
		return -1;

	n = indexed(&s, container_id, ifname, held, &stale);
	for (i = 0; i < n && rc == 0; i++)
		rc = loom_ipam_store_release(&s, &held[i]);
	/* No index (host-local made these), or one that does not match the
	 * files: the store itself is the truth, so read all of it. */
	while (rc == 0 && stale) {
		rc = scan_held(&s, container_id, ifname, names, &n);
		if (rc < 0 && rc != -E2BIG)
			break;
		stale = rc == -E2BIG; /* more than fit: release these, scan again */
		rc = 0;
		for (i = 0; i < n && rc == 0; i++)
			rc = loom_ipam_store_release_name(&s, names[i]);
	}
	if (rc == 0)
		rc = loom_ipam_store_index_put(&s, container_id, ifname, NULL, 0);
	if (rc == -EINVAL)
		rc = 0; /* no key, no entry */
	if (rc < 0) {
		loom_ipam_store_close(&s);
		return loom_err_errno(err, LOOM_ERR_STORE, -rc,
				      "cannot release the addresses of container %s in %s: %s",
				      container_id, s.path, strerror(-rc));
	}
	loom_ipam_store_close(&s);
	return 0;
}

int loom_ipam_check(const struct loom_ipam_conf *conf, const char *container_id, const char *ifname,
		    const struct loom_result *prev, struct loom_err *err)
{
	struct loom_ip held[LOOM_IPAM_STORE_INDEX_MAX];
	char names[SCAN_CAP][LOOM_IP_STRLEN];
	struct loom_holder h;
	struct loom_ipam_store s;
	size_t i, n;
	bool stale;
	int rc;

	if (check_attachment(container_id, ifname, err) < 0)
		return -1;
	if (loom_ipam_store_open(&s, conf->data_dir, conf->name, err) < 0)
		return -1;
	n = indexed(&s, container_id, ifname, held, &stale);
	if (n == 0) {
		rc = scan_held(&s, container_id, ifname, names, &n);
		if (rc < 0 && rc != -E2BIG) {
			loom_ipam_store_close(&s);
			return loom_err_errno(err, LOOM_ERR_STORE, -rc, "cannot list %s: %s",
					      s.path, strerror(-rc));
		}
	}
	if (n == 0) {
		loom_ipam_store_close(&s);
		return loom_err_set(
			err, LOOM_ERR_NOT_FOUND,
			"no address is allocated to container %s interface %s in network "
			"%s (%s)",
			container_id, ifname, conf->name, s.path);
	}
	for (i = 0; prev && i < prev->n_ips; i++) {
		const struct loom_ip *ip = &prev->ips[i].address.ip;
		char a[LOOM_IP_STRLEN];

		if (!in_config(conf, ip))
			continue; /* another IPAM's address, or another network's */
		if (loom_ipam_store_holder(&s, ip, &h) == 0 &&
		    loom_holder_is(&h, container_id, ifname, true))
			continue;
		loom_ipam_store_close(&s);
		return loom_err_set(
			err, LOOM_ERR_NOT_FOUND,
			"prevResult address %s is not allocated to container %s interface "
			"%s in network %s",
			loom_ip_fmt(ip, a), container_id, ifname, conf->name);
	}
	loom_ipam_store_close(&s);
	return 0;
}

/* ---- GC ---- */

static int attachment_cmp(const void *a, const void *b)
{
	const struct loom_attachment *x = a, *y = b;
	int c = strcmp(x->container_id, y->container_id);

	return c ? c : strcmp(x->ifname, y->ifname);
}

static int attachment_id_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct loom_attachment *)elem)->container_id);
}

struct gc {
	struct loom_attachment *valid; /* sorted */
	size_t n;
	int rc;
};

static bool gc_keep(const struct gc *g, const char *id, const char *ifname, bool legacy)
{
	struct loom_attachment key;

	if (legacy)
		return bsearch(id, g->valid, g->n, sizeof(*g->valid), attachment_id_cmp) != NULL;
	if (strlen(id) >= sizeof(key.container_id) || strlen(ifname) >= sizeof(key.ifname))
		return false;
	snprintf(key.container_id, sizeof(key.container_id), "%s", id);
	snprintf(key.ifname, sizeof(key.ifname), "%s", ifname);
	return bsearch(&key, g->valid, g->n, sizeof(*g->valid), attachment_cmp) != NULL;
}

static int gc_file(struct loom_ipam_store *s, const char *name, const struct loom_ip *ip,
		   const struct loom_holder *h, void *user)
{
	struct gc *g = user;
	int rc;

	(void)ip;
	/* A file no valid attachment names is released, garbage included: we
	 * hold the lock, so no writer is between create and write. */
	if (h->valid && gc_keep(g, h->id, h->ifname, h->legacy))
		return 0;
	rc = loom_ipam_store_release_name(s, name);
	if (rc < 0 && g->rc == 0)
		g->rc = rc;
	return 0;
}

static int gc_index(struct loom_ipam_store *s, const char *id, const char *ifname, void *user)
{
	struct gc *g = user;

	if (!gc_keep(g, id, ifname, false))
		(void)loom_ipam_store_index_put(s, id, ifname, NULL, 0);
	return 0;
}

int loom_ipam_gc(const struct loom_ipam_conf *conf, const struct loom_attachment *valid, size_t n,
		 struct loom_err *err)
{
	struct gc g = { .n = n };
	struct loom_ipam_store s;
	int rc;

	g.valid = malloc((n ? n : 1) * sizeof(*valid));
	if (!g.valid)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (n)
		memcpy(g.valid, valid, n * sizeof(*valid));
	qsort(g.valid, n, sizeof(*g.valid), attachment_cmp);

	if (loom_ipam_store_open(&s, conf->data_dir, conf->name, err) < 0) {
		free(g.valid);
		return -1;
	}
	/* Nothing else is writing (we hold the lock): a temp file is a killed
	 * writer's. */
	rc = loom_ipam_store_remove_temps(&s);
	if (rc >= 0)
		rc = loom_ipam_store_walk(&s, true, gc_file, &g);
	if (rc == 0)
		rc = g.rc;
	if (rc == 0)
		rc = loom_ipam_store_index_walk(&s, gc_index, &g);
	free(g.valid);
	if (rc < 0) {
		loom_ipam_store_close(&s);
		return loom_err_errno(err, LOOM_ERR_STORE, -rc,
				      "garbage collection in %s failed: %s", s.path, strerror(-rc));
	}
	loom_ipam_store_close(&s);
	return 0;
}

/* ---- STATUS ---- */

int loom_ipam_status(const struct loom_ipam_conf *conf, struct loom_err *err)
{
	char list[256];
	struct loom_ipam_store s;
	size_t i;
	int full;

	if (loom_ipam_store_open(&s, conf->data_dir, conf->name, err) < 0 ||
	    loom_ipam_store_probe_writable(&s, err) < 0) {
		loom_ipam_store_close(&s);
		if (err)
			err->code = LOOM_ERR_UNAVAILABLE;
		return -1;
	}
	/* ADD needs one address from every set, so one full set is enough to
	 * make it fail. */
	for (i = 0; i < conf->n_sets; i++) {
		full = loom_alloc_set_full(&s, conf, i, err);
		if (full != 0) {
			loom_ipam_store_close(&s);
			if (full > 0)
				loom_err_set(err, LOOM_ERR_UNAVAILABLE,
					     "range set %zu (%s) of network %s has no free address",
					     i,
					     loom_rangeset_fmt(&conf->sets[i], list, sizeof(list)),
					     conf->name);
			else if (err)
				err->code = LOOM_ERR_UNAVAILABLE;
			return -1;
		}
	}
	loom_ipam_store_close(&s);
	return 0;
}
