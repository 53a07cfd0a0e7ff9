/* One policy direction -> the rules of its chain.
 *
 * Each (peer, port) pair of a rule is one nft rule ending in accept; a
 * rule without peers or ports stands for "every".  Peers match the remote
 * side (saddr for ingress, daddr for egress); ports always match the
 * destination.  Family-specific matches (sets, ipBlock, named ports) make
 * one rule per family they apply to.  Allocation failures return -ENOMEM
 * (nothing is dropped quietly). */
#include <errno.h>
#include <string.h>

#include "pol_priv.h"

static const char *proto_name(int p)
{
	return p == 17 ? "udp" : p == 132 ? "sctp" : "tcp";
}

/* peer part for family f (0 = family-free); false when the peer cannot
 * match that family */
static bool peer_part(struct sbuf *b, const struct pol_peer *pe, int d, int f)
{
	const char *dir = d == 0 ? "saddr" : "daddr";
	const char *ipk = f == 6 ? "ip6" : "ip";

	if (!pe || pe->kind == PEER_ANY)
		return true;
	if (!f)
		return false;
	if (pe->kind == PEER_GROUP) {
		sb_printf(b, " %s %s @%s_%d", ipk, dir, pe->g->name, f);
		return true;
	}
	if (pe->family != f)
		return false;
	sb_printf(b, " %s %s %s", ipk, dir, pe->cidr);
	if (pe->nexcept) {
		sb_printf(b, " %s %s != {", ipk, dir);
		for (size_t i = 0; i < pe->nexcept; i++)
			sb_printf(b, "%s %s", i ? "," : "", pe->except[i]);
		sb_printf(b, " }");
	}
	return true;
}

static void port_part(struct sbuf *b, const struct pol_port *po, int f)
{
	if (!po)
		return;
	sb_printf(b, " meta l4proto %s", proto_name(po->proto));
	if (po->name)
		sb_printf(b, " %s daddr . meta l4proto . th dport @np_%s_%d", f == 6 ? "ip6" : "ip",
			  po->name, f);
	else if (po->port && po->end)
		sb_printf(b, " th dport %d-%d", po->port, po->end);
	else if (po->port)
		sb_printf(b, " th dport %d", po->port);
}

static bool family_bound(const struct pol_peer *pe, const struct pol_port *po)
{
	return (pe && pe->kind != PEER_ANY) || (po && po->name);
}

int pol_rules_compile(struct pir_chain *c, const struct pol_policy *p, int d)
{
	for (size_t r = 0; r < p->nrules[d]; r++) {
		const struct pol_rule *ru = &p->rules[d][r];
		size_t npe = ru->npeers ? ru->npeers : 1, npo = ru->nports ? ru->nports : 1;

		for (size_t i = 0; i < npe; i++) {
			const struct pol_peer *pe = ru->npeers ? &ru->peers[i] : NULL;

			for (size_t k = 0; k < npo; k++) {
				const struct pol_port *po = ru->nports ? &ru->ports[k] : NULL;
				static const int fams[] = { 4, 6 };
				bool bound = family_bound(pe, po);

				for (size_t fi = 0; fi < (bound ? 2u : 1u); fi++) {
					int f = bound ? fams[fi] : 0;
					struct sbuf b = { 0 };

					if (!peer_part(&b, pe, d, f)) {
						sb_free(&b);
						continue;
					}
					port_part(&b, po, f);
					sb_printf(&b, " accept");
					if (b.oom) {
						sb_free(&b);
						return -ENOMEM;
					}
					/* every part starts with a blank: drop the first */
					memmove(b.s, b.s + 1, b.len);
					if (pir_chain_add_rule(c, b.s) < 0)
						return -ENOMEM;
				}
			}
		}
	}
	return 0;
}
