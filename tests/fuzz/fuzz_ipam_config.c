/* Fuzz loom-ipam's config parser: a network config, optionally followed by
 * a NUL byte and a CNI_ARGS string.  Whatever parses must hold the
 * invariants the allocator relies on; whatever fails must say why with a
 * config/env code. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_conf_input.h"
#include "ipam.h"
#include "ipam_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_conf(const struct loom_ipam_conf *c)
{
	size_t i, k;

	if (c->n_sets == 0 || c->n_sets > LOOM_IPAM_MAX_SETS || c->data_dir[0] != '/' ||
	    c->n_routes > LOOM_IPAM_MAX_ROUTES || c->n_requested > LOOM_IPAM_MAX_REQUESTED)
		abort();
	for (i = 0; i < c->n_sets; i++) {
		const struct loom_ipam_rangeset *s = &c->sets[i];

		if (s->n == 0 || s->n > LOOM_IPAM_MAX_RANGES)
			abort();
		for (k = 0; k < s->n; k++) {
			const struct loom_ipam_range *r = &s->r[k];

			if (r->start.family != s->r[0].start.family ||
			    !loom_prefix_is_network(&r->subnet) ||
			    !loom_prefix_contains(&r->subnet, &r->start) ||
			    !loom_prefix_contains(&r->subnet, &r->end) ||
			    loom_ip_cmp(&r->start, &r->end) > 0 || r->usable == 0 ||
			    (r->has_gateway && !loom_prefix_contains(&r->subnet, &r->gateway)) ||
			    (r->has_gateway && loom_range_usable(r, &r->gateway)))
				abort();
			if (loom_rangeset_find(s, &r->start) != (int)k ||
			    loom_rangeset_find(s, &r->end) != (int)k)
				abort(); /* overlap slipped through */
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const known[] = { "IP", NULL };
	static struct loom_ipam_conf conf;
	struct fuzz_conf_input in;

	if (fuzz_conf_open(data, size, known, &in) < 0)
		return 0;
	if (loom_ipam_conf_parse(&in.nc, &in.args, &conf, &in.err) == 0)
		check_conf(&conf);
	else if ((in.err.code != LOOM_ERR_INVALID_CONFIG &&
		  in.err.code != LOOM_ERR_UNSUPPORTED_FIELD &&
		  in.err.code != LOOM_ERR_INVALID_ENV) ||
		 !in.err.msg[0])
		abort();
	fuzz_conf_close(&in);
	return 0;
}
