/* The Network object (loom.dev/v1, docs/datastore.md), parsed, defaulted
 * and verified once for every reader: loomctl apply (through
 * loom_k8s_validate) and get, loomd, its controllers and loom-sim.
 *
 * The common fields are typed here; spec.backend.<mode> is the mode's own
 * section, parsed by its entry of the mode table (mode.h) into
 * `section`, which the mode's controller reads through its accessor
 * (loom_vxlan_section(), loom_bgp_section()).  The struct is plain data:
 * copy it by value, compare it with loom_network_same*(). */
#ifndef LOOM_MODEL_NETWORK_H
#define LOOM_MODEL_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "base/ip.h"
#include "model/mode.h"

#define LOOM_NETWORK_SUBNET_LEN 24  /* spec.subnetLength's default */
#define LOOM_NETWORK_SUBNET_LEN6 64 /* spec.subnetLength6's default */

struct loom_network {
	bool has_cidr;
	struct loom_prefix cidr; /* spec.cidr, IPv4, host bits clear */
	int subnet_len;          /* spec.subnetLength: the node block, cidr.len..30 */
	bool has_cidr6;
	struct loom_prefix cidr6;     /* spec.cidr6, IPv6 */
	int subnet_len6;              /* spec.subnetLength6, cidr6.len..126 */
	uint32_t mtu;                 /* spec.mtu, 0 = derive from the underlay */
	const struct loom_mode *mode; /* spec.backend.type */
	union {
		max_align_t align;
		unsigned char bytes[LOOM_MODE_SECTION_MAX];
	} section; /* spec.backend.<type>, the mode's typed section */
};

/* Parse and verify a Network's spec (not changed) into *out.  At least
 * one of cidr and cidr6; unknown fields are refused.  -1 with err
 * (LOOM_ERR_INVALID_CONFIG, "spec.FIELD: rule"). */
int loom_network_spec_parse(const json_t *spec, struct loom_network *out, struct loom_err *err);

/* Write into spec the defaults loom_network_spec_parse applied (the block
 * lengths, spec.backend.type and the mode's section defaults), so that
 * what is stored is what `get` shows.  0, or -1 with err on ENOMEM. */
int loom_network_spec_default(json_t *spec, const struct loom_network *n, struct loom_err *err);

/* The value of /loom/config/<network> (a Network object; "kind" may be
 * left out): the store is a trust boundary, so every field is verified
 * again.  -1 with err: LOOM_ERR_DECODE (not JSON) or LOOM_ERR_INVALID_CONFIG. */
int loom_network_parse(const char *text, size_t len, struct loom_network *out,
		       struct loom_err *err);

/* The pod MTU: spec.mtu, else the underlay's (1500 when 0 = unknown)
 * minus the mode's encapsulation overhead. */
uint32_t loom_network_pod_mtu(const struct loom_network *n, uint32_t underlay_mtu,
			      bool underlay_v6);

/* Equal in everything but the mode's section / in everything. */
bool loom_network_same_common(const struct loom_network *a, const struct loom_network *b);
bool loom_network_same(const struct loom_network *a, const struct loom_network *b);

#endif
