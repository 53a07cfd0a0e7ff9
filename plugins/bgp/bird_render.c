/* The BIRD 2 configuration of one node.  Ownership of kernel routes is
 * the point of most of it: BIRD writes only routes of proto bird (its
 * own) and imports none, so the pod /32 routes the loom-bgp plugin adds
 * (proto 76) are never seen, re-announced or removed by BIRD. */
#include "bird.h"

#include <stdio.h>
#include <stdlib.h>

/* Timers scale from the hold time; keepalive must stay below it. */
static void render_timers(FILE *f, unsigned hold)
{
	fprintf(f,
		"\thold time %u;\n"
		"\tkeepalive time %u;\n"
		/* BIRD waits 120 s / 60 s by default before redialling a peer
		 * that went away: far longer than a node's restart. */
		"\tconnect retry time 2;\n"
		"\terror wait time 1, 10;\n"
		/* A restarting peer's routes must go at once, not linger as
		 * stale for the restart time. */
		"\tgraceful restart off;\n"
		"\tipv4 {\n"
		"\t\timport filter loom_import;\n"
		"\t\texport filter loom_export;\n"
		"\t};\n",
		hold, hold / 3 ? hold / 3 : 1);
}

static void render_neighbor(FILE *f, const struct loom_bird_conf *c,
			    const struct loom_bird_neighbor *nb)
{
	char ip[LOOM_IP_STRLEN];

	loom_ip_fmt(&nb->address, ip);
	if (nb->node[0]) {
		fprintf(f, "protocol bgp %s from loom_node {\n", nb->proto);
		fprintf(f, "\tdescription \"node %s\";\n", nb->node);
		fprintf(f, "\tneighbor %s as %u;\n", ip, nb->as);
		if (nb->rr_client)
			fprintf(f, "\trr client;\n");
		fprintf(f, "}\n\n");
		return;
	}
	fprintf(f, "protocol bgp %s {\n", nb->proto);
	fprintf(f, "\tdescription \"external peer\";\n");
	fprintf(f, "\tlocal as %u;\n", c->as);
	fprintf(f, "\tneighbor %s as %u;\n", ip, nb->as);
	render_timers(f, c->hold_time);
	fprintf(f, "}\n\n");
}

char *loom_bird_render(const struct loom_bird_conf *c, struct loom_err *err)
{
	char rid[LOOM_IP_STRLEN], pool[LOOM_PREFIX_STRLEN], block[LOOM_PREFIX_STRLEN];
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	if (c->router_id.family != AF_INET || c->pool.ip.family != AF_INET ||
	    c->block.ip.family != AF_INET)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "bgp mode needs an IPv4 underlay address and IPv4 blocks"),
		       NULL;
	loom_ip_fmt(&c->router_id, rid);
	loom_prefix_fmt(&c->pool, pool);
	loom_prefix_fmt(&c->block, block);
	f = open_memstream(&buf, &len);
	if (!f)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory"), NULL;
	fprintf(f,
		"# BIRD 2 configuration of loom node \"%s\", rendered by loomd from the\n"
		"# datastore: edits here are overwritten.\n",
		c->node);
	if (c->log_path)
		fprintf(f, "log \"%s\" { info, remote, warning, error, auth, fatal, bug };\n",
			c->log_path);
	fprintf(f,
		"router id %s;\n"
		"\n"
		"define LOOM_POOL = [ %s+ ];\n"
		"define LOOM_BLOCK = [ %s+ ];\n"
		"\n"
		"protocol device {\n"
		"\tscan time 10;\n"
		"}\n"
		"\n"
		"# The node's block, announced whole; in the kernel the blackhole drops\n"
		"# what no pod holds (pods' /32 routes are more specific).\n"
		"protocol static loom_block {\n"
		"\tipv4;\n"
		"\troute %s blackhole;\n"
		"}\n"
		"\n"
		"# Only pool routes are taken from peers, never one inside our own block.\n"
		"filter loom_import {\n"
		"\tif net ~ LOOM_BLOCK then reject;\n"
		"\tif net ~ LOOM_POOL then accept;\n"
		"\treject;\n"
		"}\n"
		"\n"
		"filter loom_export {\n"
		"\tif net ~ LOOM_POOL then accept;\n"
		"\treject;\n"
		"}\n"
		"\n"
		"# Into the kernel as proto bird: learnt blocks and our blackhole.\n"
		"# import none: the plugin's pod routes (proto 76) stay invisible to BIRD.\n"
		"protocol kernel loom_kernel {\n"
		"\tscan time 10;\n"
		"\tipv4 {\n"
		"\t\timport none;\n"
		"\t\texport filter {\n"
		"\t\t\tif net ~ LOOM_POOL && (source = RTS_BGP || source = RTS_STATIC) then accept;\n"
		"\t\t\treject;\n"
		"\t\t};\n"
		"\t};\n"
		"}\n"
		"\n"
		"# Nodes share the underlay segment: next hops are the nodes themselves.\n"
		"template bgp loom_node {\n"
		"\tlocal as %u;\n"
		"\tdirect;\n",
		rid, pool, block, block, c->as);
	render_timers(f, c->hold_time);
	fprintf(f, "}\n\n");
	for (i = 0; i < c->n_nbrs; i++)
		render_neighbor(f, c, &c->nbrs[i]);
	if (fclose(f) != 0 || !buf) {
		free(buf);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory"), NULL;
	}
	return buf;
}
