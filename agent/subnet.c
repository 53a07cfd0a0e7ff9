/* Carving the cluster CIDR into node blocks, and the keys that claim them.
 *
 * Every block is a candidate, the first one included: with a /24 cut into
 * /25s two nodes fit, as a user counting blocks expects (flannel's
 * SubnetMin skipping the first is a choice we do not copy). */
#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

uint64_t loomd_subnet_count(const struct loom_prefix *cidr, int sublen)
{
	int bits = sublen - cidr->len;

	if (sublen < cidr->len || sublen > loom_ip_bits(&cidr->ip))
		return 0;
	return bits >= 64 ? UINT64_MAX : (uint64_t)1 << bits;
}

int loomd_subnet_nth(const struct loom_prefix *cidr, int sublen, uint64_t i,
		     struct loom_prefix *out)
{
	struct loom_prefix p;
	int bytes, shift, k;
	uint64_t count = loomd_subnet_count(cidr, sublen);

	if (count == 0 || (count != UINT64_MAX && i >= count))
		return -ERANGE;
	memset(&p, 0, sizeof(p));
	p.ip = loom_prefix_first(cidr);
	p.len = (uint8_t)sublen;
	bytes = loom_ip_bytes(&p.ip);
	shift = loom_ip_bits(&p.ip) - sublen;
	/* Add i << shift to the big-endian address, carrying from the low
	 * byte up; i < count keeps the sum inside the cidr. */
	{
		unsigned carry = 0;
		for (k = bytes - 1; k >= 0; k--) {
			int lo = (bytes - 1 - k) * 8; /* bit position of this byte's LSB */
			unsigned add = 0, sum;

			if (lo + 8 > shift && lo - shift < 64) {
				int rel = lo - shift;

				add = rel >= 0 ? (unsigned)((i >> rel) & 0xff)
					       : (unsigned)((i << -rel) & 0xff);
			}
			sum = p.ip.addr[k] + add + carry;
			p.ip.addr[k] = (uint8_t)sum;
			carry = sum >> 8;
		}
	}
	*out = p;
	return 0;
}

bool loomd_subnet_fits(const struct loom_prefix *cidr, int sublen, const struct loom_prefix *s)
{
	return s->ip.family == cidr->ip.family && s->len == sublen && sublen >= cidr->len &&
	       loom_prefix_is_network(s) && loom_prefix_contains(cidr, &s->ip);
}

int loomd_subnet_prefix_key(const char *network, char *buf, size_t len)
{
	int n = snprintf(buf, len, "/loom/subnets/%s/", network);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int loomd_subnet_key(const char *network, const struct loom_prefix *s, char *buf, size_t len)
{
	char ip[LOOM_IP_STRLEN];
	int n = snprintf(buf, len, "/loom/subnets/%s/%s_%u", network, loom_ip_fmt(&s->ip, ip),
			 (unsigned)s->len);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int loomd_subnet_key_parse(const char *component, struct loom_prefix *out)
{
	char buf[LOOM_PREFIX_STRLEN];
	char *us;

	if (strlen(component) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", component);
	us = strrchr(buf, '_');
	if (!us)
		return -EINVAL;
	*us = '/';
	if (loom_prefix_parse(buf, out) < 0 || !loom_prefix_is_network(out))
		return -EINVAL;
	return 0;
}

char *loomd_subnet_value(const char *node, const char *network, const struct loom_prefix *s)
{
	char buf[LOOM_PREFIX_STRLEN];
	json_t *o = json_pack("{s:s, s:s, s:s}", "node", node, "subnet", loom_prefix_fmt(s, buf),
			      "network", network);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(o);
	return text;
}

int loomd_subnet_value_owner(const char *text, size_t len, char *buf, size_t buflen)
{
	json_t *j = json_loadb(text, len, 0, NULL);
	const json_t *node = json_object_get(j, "node");
	int r = -EINVAL;

	if (json_is_string(node) && json_string_length(node) < buflen) {
		snprintf(buf, buflen, "%s", json_string_value(node));
		r = 0;
	}
	json_decref(j);
	return r;
}
