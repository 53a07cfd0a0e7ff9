/* A node's record as the controllers see it.  Other nodes wrote it, so
 * every field is checked before it can reach netlink. */
#include "controller.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/json_util.h"

int loomd_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;
	int i;

	if (!s || strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (s[i * 3] == ' ' || s[i * 3] == '+' || s[i * 3] == '-')
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

void loomd_mac_fmt(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

static const char *get_str(const json_t *o, const char *key, bool required, struct loom_err *err)
{
	const json_t *j = json_object_get(o, key);

	if (!j) {
		if (required)
			loom_err_set(err, LOOM_ERR_DECODE, "%s: required", key);
		return NULL;
	}
	if (!json_is_string(j)) {
		loom_err_set(err, LOOM_ERR_DECODE, "%s: must be a string, not %s", key,
			     loom_json_kind(j));
		return NULL;
	}
	return json_string_value(j);
}

static int parse_obj(const json_t *o, struct loomd_node *n, struct loom_err *err)
{
	const char *s;

	if (!json_is_object(o))
		return loom_err_set(err, LOOM_ERR_DECODE, "must be an object, not %s",
				    loom_json_kind(o));
	if (!(s = get_str(o, "name", true, err)))
		return -1;
	if (!loomd_name_valid(s))
		return loom_err_set(err, LOOM_ERR_DECODE, "name: \"%s\" is not a node name", s);
	snprintf(n->name, sizeof(n->name), "%s", s);
	if (!(s = get_str(o, "network", true, err)))
		return -1;
	if (!loomd_name_valid(s))
		return loom_err_set(err, LOOM_ERR_DECODE, "network: \"%s\" is not a network name",
				    s);
	snprintf(n->network, sizeof(n->network), "%s", s);
	if (!(s = get_str(o, "address", true, err)))
		return -1;
	if (loom_ip_parse(s, &n->address) < 0)
		return loom_err_set(err, LOOM_ERR_DECODE, "address: \"%s\" is not an IP address",
				    s);
	if (!(s = get_str(o, "subnet", true, err)))
		return -1;
	if (loom_prefix_parse(s, &n->subnet) < 0 || n->subnet.ip.family != AF_INET ||
	    !loom_prefix_is_network(&n->subnet))
		return loom_err_set(err, LOOM_ERR_DECODE, "subnet: \"%s\" is not an IPv4 block", s);
	if ((s = get_str(o, "subnet6", false, err))) {
		if (loom_prefix_parse(s, &n->subnet6) < 0 || n->subnet6.ip.family != AF_INET6 ||
		    !loom_prefix_is_network(&n->subnet6))
			return loom_err_set(err, LOOM_ERR_DECODE,
					    "subnet6: \"%s\" is not an IPv6 block", s);
		n->has_subnet6 = true;
	} else if (err->code) {
		return -1;
	}
	if ((s = get_str(o, "vtepMAC", false, err))) {
		if (loomd_mac_parse(s, n->vtep_mac) < 0 || (n->vtep_mac[0] & 1))
			return loom_err_set(err, LOOM_ERR_DECODE,
					    "vtepMAC: \"%s\" is not a unicast MAC", s);
		n->has_vtep_mac = true;
	} else if (err->code) {
		return -1;
	}
	return 0;
}

int loomd_node_parse(const char *text, size_t len, struct loomd_node *out, struct loom_err *err)
{
	struct loomd_node n;
	json_error_t jerr;
	json_t *j;
	int r;

	loom_err_clear(err);
	memset(&n, 0, sizeof(n));
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return loom_err_set(err, LOOM_ERR_DECODE, "not JSON: %s (line %d)", jerr.text,
				    jerr.line);
	r = parse_obj(j, &n, err);
	json_decref(j);
	if (r < 0)
		return -1;
	*out = n;
	return 0;
}

bool loomd_node_same(const struct loomd_node *a, const struct loomd_node *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->network, b->network) == 0 &&
	       loom_ip_eq(&a->address, &b->address) && loom_ip_eq(&a->subnet.ip, &b->subnet.ip) &&
	       a->subnet.len == b->subnet.len && a->has_subnet6 == b->has_subnet6 &&
	       (!a->has_subnet6 ||
		(loom_ip_eq(&a->subnet6.ip, &b->subnet6.ip) && a->subnet6.len == b->subnet6.len)) &&
	       a->has_vtep_mac == b->has_vtep_mac &&
	       (!a->has_vtep_mac || memcmp(a->vtep_mac, b->vtep_mac, 6) == 0);
}
