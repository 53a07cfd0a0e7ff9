/* Fuzz loom-bridge's config parser: a network config, optionally followed
 * by a NUL byte and a CNI_ARGS string.  Whatever parses must hold the
 * invariants ADD relies on; whatever fails must say why with a config or
 * environment code. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_conf_input.h"
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_conf(const struct loom_br_conf *c)
{
	size_t i;

	if (!c->bridge[0] || strlen(c->bridge) >= IFNAMSIZ || strchr(c->bridge, '/') ||
	    c->state_dir[0] != '/' || (c->hairpin && c->promisc) ||
	    (c->is_default_gw && !c->is_gw) || (c->mtu && (c->mtu < 68 || c->mtu > 65535)) ||
	    c->vlan < 0 || c->vlan > LOOM_BR_VLAN_MAX || (c->vlan && c->n_trunk) ||
	    c->n_trunk > LOOM_BR_VLAN_MAX || (c->disable_container_iface && c->layer3) ||
	    (c->has_mac && (c->mac[0] & 1)) || (c->ipam_in_process && !c->layer3) ||
	    c->dns.n_nameservers > LOOM_DNS_MAX || c->dns.n_search > LOOM_DNS_MAX ||
	    c->dns.n_options > LOOM_DNS_MAX)
		abort();
	for (i = 0; i < c->n_trunk; i++)
		if (c->trunk[i] < 1 || c->trunk[i] > LOOM_BR_VLAN_MAX ||
		    (i > 0 && c->trunk[i] <= c->trunk[i - 1]))
			abort();
	if (loom_br_conf_verify(c, NULL) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const known[] = { "MAC", "IP", NULL };
	static struct loom_br_conf conf;
	struct fuzz_conf_input in;

	if (fuzz_conf_open(data, size, known, &in) < 0)
		return 0;
	if (loom_br_conf_parse(&in.nc, &in.args, &conf, &in.err) == 0)
		check_conf(&conf);
	else if ((in.err.code != LOOM_ERR_INVALID_CONFIG && in.err.code != LOOM_ERR_INVALID_ENV) ||
		 !in.err.msg[0])
		abort();
	fuzz_conf_close(&in);
	return 0;
}
