/* Parse and verify loom-bridge's config.  Keys and defaults follow the
 * reference bridge plugin; loom adds "stateDir", "antiSpoof" and "bpfPinDir".  Unknown keys are ignored,
 * as the reference ignores them (a conflist carries other plugins' keys). */
#include "base/json_util.h"
#include "bridge.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *key;
	size_t off;
} bool_keys[] = {
	{ "isGateway", offsetof(struct loom_br_conf, is_gw) },
	{ "isDefaultGateway", offsetof(struct loom_br_conf, is_default_gw) },
	{ "forceAddress", offsetof(struct loom_br_conf, force_address) },
	{ "ipMasq", offsetof(struct loom_br_conf, ip_masq) },
	{ "hairpinMode", offsetof(struct loom_br_conf, hairpin) },
	{ "promiscMode", offsetof(struct loom_br_conf, promisc) },
	{ "macspoofchk", offsetof(struct loom_br_conf, spoofchk) },
	{ "enabledad", offsetof(struct loom_br_conf, enable_dad) },
	{ "disableContainerInterface", offsetof(struct loom_br_conf, disable_container_iface) },
	{ "portIsolation", offsetof(struct loom_br_conf, port_isolation) },
	{ "preserveDefaultVlan", offsetof(struct loom_br_conf, preserve_default_vlan) },
	{ "antiSpoof", offsetof(struct loom_br_conf, anti_spoof) },
};

static int parse_bools(const json_t *root, struct loom_br_conf *c, struct loom_err *err)
{
	size_t i;

	for (i = 0; i < sizeof(bool_keys) / sizeof(bool_keys[0]); i++) {
		json_t *j = loom_json_member(root, bool_keys[i].key);

		if (!j)
			continue;
		if (!json_is_boolean(j))
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "%s: must be a boolean, not %s", bool_keys[i].key,
					    loom_json_kind(j));
		*(bool *)((char *)c + bool_keys[i].off) = json_is_true(j);
	}
	return 0;
}

/* An optional integer member within [lo, hi]; 1 when given. */
static int get_int(const json_t *o, const char *key, const char *path, long long lo, long long hi,
		   long long *out, struct loom_err *err)
{
	json_t *j = loom_json_member(o, key);

	if (!j)
		return 0;
	if (!json_is_integer(j))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s: must be an integer, not %s",
				    path, loom_json_kind(j));
	*out = json_integer_value(j);
	if (*out < lo || *out > hi)
		return -2;
	return 1;
}

int loom_br_conf_bridge(const json_t *root, const char *dflt, struct loom_br_conf *c,
			struct loom_err *err)
{
	const unsigned char *p;
	int r = loom_pod_json_str(root, "bridge", "bridge", c->bridge, sizeof(c->bridge), err);

	if (r < 0)
		return -1;
	if (r == 0)
		snprintf(c->bridge, sizeof(c->bridge), "%s", dflt);
	if (!c->bridge[0])
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "bridge: is empty");
	if (strcmp(c->bridge, ".") == 0 || strcmp(c->bridge, "..") == 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "bridge: \"%s\" is not a valid interface name", c->bridge);
	for (p = (const unsigned char *)c->bridge; *p; p++)
		if (*p == '/' || *p == ':' || isspace(*p))
			return loom_err_set(
				err, LOOM_ERR_INVALID_CONFIG,
				"bridge: \"%s\" contains '/', ':' or whitespace, which an "
				"interface name cannot",
				c->bridge);
	return 0;
}

static int parse_mtu(const json_t *root, struct loom_br_conf *c, struct loom_err *err)
{
	long long v = 0;
	int r = get_int(root, "mtu", "mtu", 0, 65535, &v, err);

	if (r == -2 || (r == 1 && v != 0 && v < 68))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "mtu: %lld is out of range (68 to 65535, or 0 for the kernel's "
				    "default)",
				    v);
	if (r < 0)
		return -1;
	c->mtu = (uint32_t)v;
	return 0;
}

static int trunk_id(const json_t *item, const char *key, const char *path, long long *out,
		    struct loom_err *err)
{
	char where[64];
	int r;

	snprintf(where, sizeof(where), "%s.%s", path, key);
	r = get_int(item, key, where, 1, LOOM_BR_VLAN_MAX, out, err);
	if (r == -2)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s: %lld is not a VLAN ID (must be between 1 and %d)", where,
				    *out, LOOM_BR_VLAN_MAX);
	return r;
}

static int parse_vlans(const json_t *root, struct loom_br_conf *c, struct loom_err *err)
{
	uint8_t seen[LOOM_BR_VLAN_MAX + 1];
	long long v = 0;
	json_t *trunk, *item;
	size_t i;
	int r;

	r = get_int(root, "vlan", "vlan", 0, LOOM_BR_VLAN_MAX, &v, err);
	if (r == -2)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "vlan: invalid VLAN ID %lld (must be between 0 and %d)", v,
				    LOOM_BR_VLAN_MAX);
	if (r < 0)
		return -1;
	c->vlan = (int)v;

	trunk = loom_json_member(root, "vlanTrunk");
	if (!trunk)
		return 0;
	if (!json_is_array(trunk))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "vlanTrunk: must be an array, not %s", loom_json_kind(trunk));
	memset(seen, 0, sizeof(seen));
	json_array_foreach(trunk, i, item) {
		long long lo = 0, hi = 0, id = 0;
		char path[32];
		int has_lo, has_hi, has_id;

		snprintf(path, sizeof(path), "vlanTrunk[%zu]", i);
		if (!json_is_object(item))
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "%s: must be an object, not %s", path,
					    loom_json_kind(item));
		if ((has_lo = trunk_id(item, "minID", path, &lo, err)) < 0 ||
		    (has_hi = trunk_id(item, "maxID", path, &hi, err)) < 0 ||
		    (has_id = trunk_id(item, "id", path, &id, err)) < 0)
			return -1;
		if (has_lo != has_hi)
			return loom_err_set(
				err, LOOM_ERR_INVALID_CONFIG,
				"%s: minID and maxID must be given together, %s is missing", path,
				has_lo ? "maxID" : "minID");
		if (has_lo && hi < lo)
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "%s: minID %lld is greater than maxID %lld", path, lo,
					    hi);
		for (v = lo; has_lo && v <= hi; v++)
			seen[v] = 1;
		if (has_id)
			seen[id] = 1;
	}
	for (v = 1; v <= LOOM_BR_VLAN_MAX; v++)
		if (seen[v])
			c->trunk[c->n_trunk++] = (uint16_t)v;
	return 0;
}

static int parse_ipam(const struct loom_netconf *nc, struct loom_br_conf *c, struct loom_err *err)
{
	int r;

	if (nc->ipam && !json_is_null(nc->ipam) && !json_is_object(nc->ipam))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "ipam: must be an object, not %s",
				    loom_json_kind(nc->ipam));
	r = loom_pod_json_str(nc->ipam, "type", "ipam.type", c->ipam_type, sizeof(c->ipam_type),
			      err);
	if (r < 0)
		return -1;
	c->layer3 = c->ipam_type[0] != '\0';
	c->ipam_in_process = strcmp(c->ipam_type, "loom-ipam") == 0;
	if (c->layer3 && (strchr(c->ipam_type, '/') || c->ipam_type[0] == '.'))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "ipam.type: \"%s\" must be a plugin name, not a path",
				    c->ipam_type);
	return 0;
}

static int parse_misc(const json_t *root, struct loom_br_conf *c, struct loom_err *err)
{
	char backend[16];
	int r;

	r = loom_pod_json_str(root, "ipMasqBackend", "ipMasqBackend", backend, sizeof(backend),
			      err);
	if (r < 0)
		return -1;
	/* loom masquerades with nftables whatever is asked; the reference's two
	 * values are accepted so its configs work unchanged. */
	if (r == 1 && strcmp(backend, "iptables") != 0 && strcmp(backend, "nftables") != 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "ipMasqBackend: must be \"iptables\", \"nftables\" or omitted");

	return loom_pod_conf_dirs(root, c->state_dir, c->bpf_pin_dir, err);
}

int loom_br_conf_verify(const struct loom_br_conf *c, struct loom_err *err)
{
	if (c->hairpin && c->promisc)
		return loom_err_set(
			err, LOOM_ERR_INVALID_CONFIG,
			"hairpinMode, promiscMode: cannot set hairpin mode and promiscuous "
			"mode at the same time");
	if (c->vlan > 0 && c->n_trunk > 0)
		return loom_err_set(
			err, LOOM_ERR_INVALID_CONFIG,
			"vlan, vlanTrunk: cannot set both (a port is either an untagged "
			"access port or a tagged trunk)");
	if (c->vlan < 0 || c->vlan > LOOM_BR_VLAN_MAX)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "vlan: invalid VLAN ID %d (must be between 0 and %d)", c->vlan,
				    LOOM_BR_VLAN_MAX);
	if (c->disable_container_iface && c->layer3)
		return loom_err_set(
			err, LOOM_ERR_INVALID_CONFIG,
			"disableContainerInterface: cannot be used with IPAM (ipam.type "
			"\"%s\"): addresses and routes need the interface up",
			c->ipam_type);
	if (c->is_default_gw && !c->is_gw)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "isDefaultGateway: implies isGateway, which is false");
	if (c->mtu != 0 && (c->mtu < 68 || c->mtu > 65535))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "mtu: %u is out of range",
				    c->mtu);
	if (c->has_mac && loom_pod_mac_verify(c->mac, c->mac_from, err) < 0)
		return -1;
	if (c->state_dir[0] != '/')
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "stateDir: must be an absolute path");
	return 0;
}

int loom_br_conf_init(const char *network, struct loom_br_conf *out, struct loom_err *err)
{
	memset(out, 0, sizeof(*out));
	out->preserve_default_vlan = true;
	out->anti_spoof = true;
	if (!network)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "name: is missing");
	if (loom_cni_validate_network_name(network, err) < 0)
		return -1;
	snprintf(out->network, sizeof(out->network), "%s", network);
	return 0;
}

int loom_br_conf_parse(const struct loom_netconf *nc, const struct loom_cni_args *args,
		       struct loom_br_conf *out, struct loom_err *err)
{
	if (loom_br_conf_init(nc && nc->root ? nc->name : NULL, out, err) < 0)
		return -1;
	if (parse_bools(nc->root, out, err) < 0 ||
	    loom_br_conf_bridge(nc->root, LOOM_BR_DEFAULT_BRIDGE, out, err) < 0 ||
	    parse_mtu(nc->root, out, err) < 0 || parse_vlans(nc->root, out, err) < 0 ||
	    loom_pod_conf_mac(nc, args, &out->has_mac, out->mac, out->mac_from, err) < 0 ||
	    parse_ipam(nc, out, err) < 0 ||
	    loom_pod_conf_dns(nc, &out->has_dns, &out->dns, err) < 0 ||
	    parse_misc(nc->root, out, err) < 0)
		return -1;
	if (out->is_default_gw)
		out->is_gw = true;
	return loom_br_conf_verify(out, err);
}

void loom_br_view_init(struct loom_br_view *v, const struct loom_cni_ctx *ctx,
		       const struct loom_br_conf *c, const struct loom_ipam_conf *ic)
{
	v->topo = (struct loom_pod_topology){ .bridge = c->bridge, .promisc = c->promisc };
	v->ipam = (struct loom_ipam_client){
		.ctx = ctx,
		.layer3 = c->layer3,
		.in_process = c->ipam_in_process,
		.type = c->ipam_type,
		.conf = ic,
	};
	v->pod = (struct loom_pod_conf){
		.network = c->network,
		.state_dir = c->state_dir,
		.mtu = c->mtu,
		.mac = c->has_mac ? c->mac : NULL,
		.enable_dad = c->enable_dad,
		.disable_container_iface = c->disable_container_iface,
		.layer3 = c->layer3,
		.ip_masq = c->ip_masq,
		.spoofchk = c->spoofchk,
		.n_masq_exempt = c->n_masq_exempt,
		.masq_exempt = c->masq_exempt,
		.anti_spoof = c->anti_spoof,
		.bpf_pin_dir = c->bpf_pin_dir,
		.topo = &v->topo,
		.ipam = &v->ipam,
	};
}
