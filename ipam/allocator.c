/* Choosing an address from a range set, the way host-local does.
 *
 * Round robin: start after last_reserved_ip.<set> when it lies in the set
 * (else at the first range's start), walk the ranges in order, wrap, stop
 * when back at the first candidate.  A candidate is probed with one fstatat
 * before the reservation proper (which writes and links a file), so a walk
 * over taken addresses costs a stat each; the create-or-fail link under the
 * store's lock stays the only authority. */
#include "ipam_store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Probes STATUS makes before it falls back to counting the set's files. */
#define FULL_PROBES 64

static bool small_subnet(const struct loom_prefix *p)
{
	return loom_ip_bits(&p->ip) - p->len <= 1;
}

bool loom_range_usable(const struct loom_ipam_range *r, const struct loom_ip *ip)
{
	struct loom_ip edge;

	if (ip->family != r->start.family || loom_ip_cmp(ip, &r->start) < 0 ||
	    loom_ip_cmp(ip, &r->end) > 0)
		return false;
	if (r->has_gateway && loom_ip_eq(ip, &r->gateway))
		return false;
	if (small_subnet(&r->subnet))
		return true;
	edge = loom_prefix_first(&r->subnet);
	if (loom_ip_eq(ip, &edge))
		return false;
	edge = loom_prefix_last(&r->subnet);
	return !(ip->family == AF_INET && loom_ip_eq(ip, &edge));
}

int loom_rangeset_find(const struct loom_ipam_rangeset *set, const struct loom_ip *ip)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		const struct loom_ipam_range *r = &set->r[i];

		if (ip->family == r->start.family && loom_ip_cmp(ip, &r->start) >= 0 &&
		    loom_ip_cmp(ip, &r->end) <= 0)
			return (int)i;
	}
	return -1;
}

const char *loom_rangeset_fmt(const struct loom_ipam_rangeset *set, char *buf, size_t len)
{
	char a[LOOM_IP_STRLEN], b[LOOM_IP_STRLEN];
	size_t used = 0, i;

	buf[0] = '\0';
	for (i = 0; i < set->n && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s-%s", i ? "," : "",
				 loom_ip_fmt(&set->r[i].start, a), loom_ip_fmt(&set->r[i].end, b));

		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* host-local's iterator.  `cur` is the previous candidate (or none); next()
 * advances it, and reports false once the walk is back where it began. */
struct iter {
	const struct loom_ipam_rangeset *set;
	size_t ri;
	bool have_cur, have_first;
	struct loom_ip cur, first;
};

static void iter_init(struct iter *it, struct loom_ipam_store *s,
		      const struct loom_ipam_rangeset *set, size_t idx)
{
	struct loom_ip last;
	int ri;

	memset(it, 0, sizeof(*it));
	it->set = set;
	/* A corrupt or foreign hint (a changed config) only costs the round
	 * robin one step, as in host-local. */
	if (loom_ipam_store_last_get(s, idx, &last) == 0 &&
	    (ri = loom_rangeset_find(set, &last)) >= 0) {
		it->ri = (size_t)ri;
		it->cur = last;
		it->have_cur = true;
	}
}

static bool iter_next(struct iter *it)
{
	const struct loom_ipam_range *r = &it->set->r[it->ri];

	if (!it->have_cur) {
		it->cur = it->set->r[0].start;
		it->ri = 0;
		it->have_cur = true;
	} else if (loom_ip_eq(&it->cur, &r->end)) {
		it->ri = (it->ri + 1) % it->set->n;
		it->cur = it->set->r[it->ri].start;
	} else {
		loom_ip_next(&it->cur);
	}
	if (!it->have_first) {
		it->first = it->cur;
		it->have_first = true;
		return true;
	}
	return !loom_ip_eq(&it->cur, &it->first);
}

static int reserve_requested(struct loom_ipam_store *s, const struct loom_ipam_conf *conf,
			     size_t idx, const struct loom_ip *ip, const char *id,
			     const char *ifname, size_t *ri, struct loom_err *err)
{
	const struct loom_ipam_rangeset *set = &conf->sets[idx];
	const struct loom_ipam_range *r;
	char a[LOOM_IP_STRLEN], p[LOOM_PREFIX_STRLEN], list[256];
	struct loom_holder h;
	int found = loom_rangeset_find(set, ip), rc;

	loom_ip_fmt(ip, a);
	if (found < 0)
		return loom_err_set(err, LOOM_ERR_IP_UNAVAILABLE,
				    "requested address %s is outside range set %zu (%s)", a, idx,
				    loom_rangeset_fmt(set, list, sizeof(list)));
	r = &set->r[found];
	if (!loom_range_usable(r, ip))
		return loom_err_set(err, LOOM_ERR_IP_UNAVAILABLE,
				    "requested address %s is the %s of subnet %s (%s)", a,
				    r->has_gateway && loom_ip_eq(ip, &r->gateway)
					    ? "gateway"
					    : "network or broadcast address",
				    loom_prefix_fmt(&r->subnet, p), r->where);
	rc = loom_ipam_store_reserve(s, ip, id, ifname, err);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (loom_ipam_store_holder(s, ip, &h) == 0 && h.valid)
			return loom_err_set(
				err, LOOM_ERR_IP_UNAVAILABLE,
				"requested address %s is already held by container %s%s%s", a, h.id,
				h.legacy ? "" : " interface ", h.ifname);
		return loom_err_set(err, LOOM_ERR_IP_UNAVAILABLE,
				    "requested address %s is already reserved (%s/%s)", a, s->path,
				    a);
	}
	*ri = (size_t)found;
	return 0;
}

int loom_alloc_get(struct loom_ipam_store *s, const struct loom_ipam_conf *conf, size_t idx,
		   const struct loom_ip *requested, const char *id, const char *ifname,
		   struct loom_prefix *out, const struct loom_ipam_range **range,
		   struct loom_err *err)
{
	const struct loom_ipam_rangeset *set = &conf->sets[idx];
	char list[256];
	struct iter it;
	size_t ri = 0;
	int rc;

	if (requested) {
		if (reserve_requested(s, conf, idx, requested, id, ifname, &ri, err) < 0)
			return -1;
		out->ip = *requested;
	} else {
		iter_init(&it, s, set, idx);
		for (;;) {
			if (!iter_next(&it))
				return loom_err_set(err, LOOM_ERR_IPAM_EXHAUSTED,
						    "no free address in range set %zu (%s)", idx,
						    loom_rangeset_fmt(set, list, sizeof(list)));
			if (!loom_range_usable(&set->r[it.ri], &it.cur) ||
			    loom_ipam_store_exists(s, &it.cur))
				continue;
			rc = loom_ipam_store_reserve(s, &it.cur, id, ifname, err);
			if (rc < 0)
				return -1;
			if (rc == 1)
				break;
		}
		ri = it.ri;
		out->ip = it.cur;
	}
	out->len = set->r[ri].subnet.len;
	*range = &set->r[ri];
	/* A hint for the next walk; failing to write it is not worth failing
	 * an ADD whose reservation is already made. */
	(void)loom_ipam_store_last_set(s, idx, &out->ip);
	return 0;
}

struct count_ctx {
	const struct loom_ipam_rangeset *set;
	uint64_t n;
};

static int count_one(struct loom_ipam_store *s, const char *name, const struct loom_ip *ip,
		     const struct loom_holder *h, void *user)
{
	struct count_ctx *c = user;
	char canon[LOOM_IP_STRLEN];
	int ri = loom_rangeset_find(c->set, ip);

	(void)s;
	(void)h;
	/* Only the canonical name blocks a reservation of that address. */
	if (ri >= 0 && loom_range_usable(&c->set->r[ri], ip) &&
	    strcmp(loom_ip_fmt(ip, canon), name) == 0)
		c->n++;
	return 0;
}

int loom_alloc_set_full(struct loom_ipam_store *s, const struct loom_ipam_conf *conf, size_t idx,
			struct loom_err *err)
{
	const struct loom_ipam_rangeset *set = &conf->sets[idx];
	struct count_ctx c = { .set = set };
	uint64_t capacity = 0;
	struct iter it;
	size_t i;
	int probes, rc;

	iter_init(&it, s, set, idx);
	for (probes = 0; probes < FULL_PROBES; probes++) {
		if (!iter_next(&it))
			return 1;
		if (loom_range_usable(&set->r[it.ri], &it.cur) &&
		    !loom_ipam_store_exists(s, &it.cur))
			return 0;
	}
	for (i = 0; i < set->n; i++)
		capacity = capacity + set->r[i].usable < capacity ? UINT64_MAX
								  : capacity + set->r[i].usable;
	rc = loom_ipam_store_walk(s, false, count_one, &c);
	if (rc < 0)
		return loom_err_errno(err, LOOM_ERR_STORE, -rc, "cannot list %s: %s", s->path,
				      strerror(-rc));
	return c.n >= capacity;
}
