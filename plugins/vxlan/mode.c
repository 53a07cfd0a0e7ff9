/* vxlan mode's entry of the mode table (model/mode.h): pods on a bridge,
 * nodes joined by the VXLAN device loom.<VNI> that loomd's controller
 * (controller.c) programs. */
#include <stdio.h>

#include "model/fields.h"
#include "mode.h"

_Static_assert(sizeof(struct loom_vxlan_section) <= LOOM_MODE_SECTION_MAX, "section too big");

static int section_parse(const json_t *sec, void *out, const char *path, struct loom_err *err)
{
	static const char *const fields[] = { "vni", "port", NULL };
	struct loom_vxlan_section *v = out;
	json_int_t vni = LOOM_VXLAN_DEFAULT_VNI, port = LOOM_VXLAN_DEFAULT_PORT;

	if (sec && (loom_field_type(sec, JSON_OBJECT, path, err) < 0 ||
		    loom_field_known(sec, fields, path, err) < 0 ||
		    loom_field_int(sec, "vni", 1, 16777215, path, &vni, err) < 0 ||
		    loom_field_int(sec, "port", 1, 65535, path, &port, err) < 0))
		return -1;
	v->vni = (uint32_t)vni;
	v->port = (uint16_t)port;
	return 0;
}

static int section_default(json_t *sec, const void *section)
{
	const struct loom_vxlan_section *v = section;

	return loom_field_default(sec, "vni", json_integer(v->vni)) < 0 ||
			       loom_field_default(sec, "port", json_integer(v->port)) < 0
		       ? -1
		       : 0;
}

static void summary(const void *section, char *buf, size_t len)
{
	const struct loom_vxlan_section *v = section;

	snprintf(buf, len, "vxlan(vni=%u,port=%u)", v->vni, v->port);
}

/* loomd links it; elsewhere NULL (model/mode.h). */
extern const struct loomd_controller_ops loom_vxlan_controller __attribute__((weak));

const struct loom_mode loom_mode_vxlan = {
	.name = "vxlan",
	.backend = "vxlan",
	.cni = "loom-vxlan",
	.node_cni = "loom-vxlan",
	.lease_file = true,
	.section_size = sizeof(struct loom_vxlan_section),
	.section_parse = section_parse,
	.section_default = section_default,
	.summary = summary,
	/* outer Ethernet 14 + IP 20 (40) + UDP 8 + VXLAN 8 */
	.mtu_overhead4 = 50,
	.mtu_overhead6 = 70,
	.bridged = true,
	.joins_nodes = true,
	.sysctls = loom_sysctls_bridged,
	.controller = &loom_vxlan_controller,
};
