/* pol_explain: the verdict for one connection, from the model alone (no
 * kernel), with the policies and the rule that decide it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ip.h"
#include "pol_priv.h"

static bool in_block(const struct pol_peer *pe, const struct pol_pod *p)
{
	struct loom_prefix c, x;
	struct loom_ip ip;

	if (loom_prefix_parse(pe->cidr, &c) < 0)
		return false;
	for (size_t k = 0; k < p->neps; k++)
		for (size_t a = 0; a < p->eps[k]->naddrs; a++) {
			bool ex = false;

			if (loom_ip_parse(p->eps[k]->addrs[a], &ip) < 0 ||
			    !loom_prefix_contains(&c, &ip))
				continue;
			for (size_t i = 0; i < pe->nexcept; i++)
				if (loom_prefix_parse(pe->except[i], &x) == 0 &&
				    loom_prefix_contains(&x, &ip))
					ex = true;
			if (!ex)
				return true;
		}
	return false;
}

static bool peer_ok(const struct pol_engine *e, const struct pol_rule *ru,
		    const struct pol_pod *peer)
{
	if (!ru->npeers)
		return true;
	for (size_t i = 0; i < ru->npeers; i++) {
		const struct pol_peer *pe = &ru->peers[i];

		if (pe->kind == PEER_ANY ||
		    (pe->kind == PEER_GROUP && pol_group_match(e, pe->g, peer)) ||
		    (pe->kind == PEER_BLOCK && in_block(pe, peer)))
			return true;
	}
	return false;
}

static bool port_ok(const struct pol_rule *ru, const struct pol_pod *dst, int port, int proto)
{
	if (!ru->nports)
		return true;
	for (size_t i = 0; i < ru->nports; i++) {
		const struct pol_port *po = &ru->ports[i];

		if (po->proto != proto)
			continue;
		if (po->name) {
			/* resolved against the destination pod's own container ports */
			for (size_t k = 0; k < dst->nports; k++)
				if (!strcmp(dst->ports[k].name, po->name) &&
				    dst->ports[k].proto == proto && dst->ports[k].port == port)
					return true;
		} else if (!po->port || port == po->port ||
			   (po->end && port >= po->port && port <= po->end)) {
			return true;
		}
	}
	return false;
}

/* One direction: 0 allowed (why appended), 1 denied. */
static int side(const struct pol_engine *e, struct sbuf *b, int d, const struct pol_pod *self,
		const struct pol_pod *peer, const struct pol_pod *dst, int port, int proto)
{
	static const char *const dn[2] = { "ingress", "egress" };
	struct pol_ns *n = pm_get(&e->nss, self->ns);
	const char **keys = NULL;
	size_t nk = 0;
	struct sbuf sel = { 0 };
	int rc = 1;

	if (n)
		keys = pm_keys(&n->policies, &nk);
	for (size_t i = 0; keys && i < nk; i++) {
		const struct pol_policy *p = pm_get(&n->policies, keys[i]);

		if (!p->dir[d] || !pol_group_match(e, p->target, self))
			continue;
		sb_printf(&sel, "%s%s/%s", sel.len ? ", " : "", p->ns, p->name);
		for (size_t r = 0; rc && r < p->nrules[d]; r++)
			if (peer_ok(e, &p->rules[d][r], peer) &&
			    port_ok(&p->rules[d][r], dst, port, proto)) {
				sb_printf(b, "%s: allowed by %s/%s %s[%zu]\n", dn[d], p->ns,
					  p->name, dn[d], r);
				rc = 0;
			}
	}
	if (!sel.len) {
		sb_printf(b, "%s: pod %s is not isolated for %s: allowed\n", dn[d], self->key,
			  dn[d]);
		rc = 0;
	} else if (rc) {
		sb_printf(
			b,
			"denied: pod %s is isolated for %s by policies [%s] and no rule allows %s %s\n",
			self->key, dn[d], sel.s, d ? "to" : "from", peer->key);
	} else {
		sb_printf(b, "%s: pod %s selected by [%s]\n", dn[d], self->key, sel.s);
	}
	sb_free(&sel);
	free(keys);
	return rc;
}

int pol_explain(const struct pol_engine *e, const char *src, const char *dst, const char *portproto,
		char **out, struct loom_err *err)
{
	const struct pol_pod *s = pm_get(&e->pods, src), *d = pm_get(&e->pods, dst);
	struct sbuf b = { 0 };
	char *end;
	long port = strtol(portproto, &end, 10);
	int proto = pol_proto_parse(*end == '/' ? end + 1 : NULL), rc;

	*out = NULL;
	if (!s || !s->labels)
		return loom_err_set(err, LOOM_ERR_NOT_FOUND, "pod %s not found", src);
	if (!d || !d->labels)
		return loom_err_set(err, LOOM_ERR_NOT_FOUND, "pod %s not found", dst);
	if (port < 1 || port > 65535 || (*end && *end != '/') || proto < 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s: want PORT/PROTO (80/TCP, 53/UDP, 9/SCTP)", portproto);
	rc = side(e, &b, 1, s, d, d, (int)port, proto);
	rc |= side(e, &b, 0, d, s, d, (int)port, proto);
	sb_printf(&b, "%s\n", rc ? "verdict: denied" : "verdict: allowed");
	if (b.oom) {
		sb_free(&b);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	}
	*out = b.s;
	return rc;
}
