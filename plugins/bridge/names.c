/* Host-side veth names.  The reference picks random ones; loom derives the
 * name from the attachment so that an ADD retried after a crash finds the
 * pair its predecessor left (and DEL can name it without a record). */
#include "bridge.h"

#include <stdint.h>
#include <stdio.h>

/* FNV-1a: stable across versions and machines, which is all that matters
 * here; collisions are handled by the salts, not prevented by the hash. */
static uint32_t fnv1a(uint32_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

void loom_br_host_veth_name(const char *container_id, const char *ifname, unsigned salt,
			    char out[IFNAMSIZ])
{
	loom_br_host_veth_name_pfx(NULL, container_id, ifname, salt, out);
}

void loom_br_host_veth_name_pfx(const char *prefix, const char *container_id, const char *ifname,
				unsigned salt, char out[IFNAMSIZ])
{
	uint32_t h = 2166136261u;
	char tail[16];

	h = fnv1a(h, container_id ? container_id : "");
	h = fnv1a(h, "/");
	h = fnv1a(h, ifname ? ifname : "");
	if (salt) {
		snprintf(tail, sizeof(tail), "#%u", salt);
		h = fnv1a(h, tail);
	}
	snprintf(out, IFNAMSIZ, "%.6s%08x", prefix ? prefix : "veth", h);
}
