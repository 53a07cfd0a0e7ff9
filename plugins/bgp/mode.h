/* bgp mode's section of a Network (spec.backend.bgp, docs/datastore.md),
 * typed: what plugins/bgp/mode.c parses and the BIRD controller renders. */
#ifndef LOOM_BGP_MODE_H
#define LOOM_BGP_MODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ip.h"
#include "model/network.h"

#define LOOM_BGP_DEFAULT_AS 64512 /* the first private 16-bit AS */
#define LOOM_BGP_DEFAULT_HOLD 90  /* seconds; BIRD's own default is 240 */
#define LOOM_BGP_RR_MAX 16
#define LOOM_BGP_PEERS_MAX 32
#define LOOM_BGP_NAME_MAX 254 /* a node name, with NUL (LOOMD_NAME_MAX) */

struct loom_bgp_spec {
	uint32_t as; /* asNumber, default 64512 */
	bool mesh;   /* nodeToNodeMesh, default true */
	size_t n_rr;
	char rr[LOOM_BGP_RR_MAX][LOOM_BGP_NAME_MAX]; /* routeReflectors: node names */
	size_t n_peers;
	struct loom_bgp_ext {
		struct loom_ip address;
		uint32_t as;
	} peers[LOOM_BGP_PEERS_MAX]; /* peers: external speakers */
	unsigned hold_time;          /* holdTime, seconds 3..65535, default 90 */
};

static inline const struct loom_bgp_spec *loom_bgp_section(const struct loom_network *n)
{
	return (const struct loom_bgp_spec *)(const void *)n->section.bytes;
}

#endif
