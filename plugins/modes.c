/* The mode table (model/mode.h): one line per mode.  The entries live in
 * the modes' folders; the first is the default spec.backend.type. */
#include <stdio.h>
#include <string.h>

#include "model/mode.h"

extern const struct loom_mode loom_mode_vxlan;  /* plugins/vxlan/mode.c */
extern const struct loom_mode loom_mode_bgp;    /* plugins/bgp/mode.c */
extern const struct loom_mode loom_mode_bridge; /* plugins/bridge/mode/mode.c */

const struct loom_sysctl loom_sysctls_routed[] = {
	{ "net/ipv4/ip_forward", "1", NULL },
	{ NULL, NULL, NULL },
};

const struct loom_sysctl loom_sysctls_bridged[] = {
	{ "net/ipv4/ip_forward", "1", NULL },
	{ "net/bridge/bridge-nf-call-iptables", "1", LOOM_SYSCTL_HINT_BR_NETFILTER },
	{ "net/bridge/bridge-nf-call-ip6tables", "1", LOOM_SYSCTL_HINT_BR_NETFILTER },
	{ NULL, NULL, NULL },
};

const struct loom_mode *const loom_modes[] = {
	&loom_mode_vxlan,
	&loom_mode_bgp,
	&loom_mode_bridge,
	NULL,
};

/* The mode whose name (or backend) is s. */
static const struct loom_mode *find(const char *s, bool backend)
{
	size_t i;

	for (i = 0; s && loom_modes[i]; i++)
		if (strcmp(backend ? loom_modes[i]->backend : loom_modes[i]->name, s) == 0)
			return loom_modes[i];
	return NULL;
}

const struct loom_mode *loom_mode_by_name(const char *name)
{
	return find(name, false);
}

const struct loom_mode *loom_mode_by_backend(const char *backend)
{
	return find(backend, true);
}

const struct loom_mode *loom_mode_default(void)
{
	return loom_modes[0];
}

void loom_mode_list(bool backends, bool quoted, const char *sep, const char *last_sep, char *buf,
		    size_t len)
{
	size_t i, n = 0, used = 0;
	int w;

	while (loom_modes[n])
		n++;
	if (len)
		buf[0] = '\0';
	for (i = 0; i < n && used < len; i++) {
		w = snprintf(buf + used, len - used, "%s%s%s%s",
			     i == 0       ? ""
			     : i + 1 == n ? last_sep
					  : sep,
			     quoted ? "\"" : "",
			     backends ? loom_modes[i]->backend : loom_modes[i]->name,
			     quoted ? "\"" : "");
		if (w < 0)
			return;
		used += (size_t)w;
	}
}
