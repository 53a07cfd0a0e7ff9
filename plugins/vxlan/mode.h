/* vxlan mode's section of a Network (spec.backend.vxlan), typed: what
 * plugins/vxlan/mode.c parses and the controller reads. */
#ifndef LOOM_VXLAN_MODE_H
#define LOOM_VXLAN_MODE_H

#include <stdint.h>

#include "model/network.h"

#define LOOM_VXLAN_DEFAULT_VNI 1
#define LOOM_VXLAN_DEFAULT_PORT 8472 /* Linux's and flannel's, not IANA's 4789 */

struct loom_vxlan_section {
	uint32_t vni;  /* 1..2^24-1 */
	uint16_t port; /* UDP destination port */
};

static inline const struct loom_vxlan_section *loom_vxlan_section(const struct loom_network *n)
{
	return (const struct loom_vxlan_section *)(const void *)n->section.bytes;
}

#endif
