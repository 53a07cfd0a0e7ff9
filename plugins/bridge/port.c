/* The host end of the pod's veth as a bridge port: hairpin, isolation,
 * VLANs. */
#include "bridge.h"

int loom_br_port_setup(struct loom_nl *host, const struct loom_br_conf *c,
		       const struct loom_link *port, struct loom_err *err)
{
	unsigned mask = 0, values = 0;
	int r;

	if (c->hairpin) {
		mask |= LOOM_BRPORT_HAIRPIN;
		values |= LOOM_BRPORT_HAIRPIN;
	}
	if (c->port_isolation) {
		mask |= LOOM_BRPORT_ISOLATED;
		values |= LOOM_BRPORT_ISOLATED;
	}
	if (loom_br_vlan_setup(c, port, err) < 0)
		return -1;
	/* A new port starts with both off: nothing to send otherwise. */
	if (!mask)
		return 0;
	r = loom_bridge_port_set(host, port->ifindex, mask, values);
	if (r < 0)
		return loom_pod_nl_err(err, host, r, "cannot %s %s",
				       c->hairpin && c->port_isolation
					       ? "set hairpinMode and portIsolation on"
				       : c->hairpin ? "set hairpinMode on"
						    : "set portIsolation on",
				       port->name);
	return 0;
}
