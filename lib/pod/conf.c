/* The parts of a network config every plugin reads the same way: the pod
 * interface's MAC (CNI_ARGS, args, runtimeConfig) and the "dns" section. */
#include "pod/pod.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "base/json_util.h"

int loom_pod_json_str(const json_t *o, const char *key, const char *path, char *buf, size_t len,
		      struct loom_err *err)
{
	json_t *j = loom_json_member(o, key);

	if (!j)
		return 0;
	if (!json_is_string(j))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s: must be a string, not %s",
				    path, loom_json_kind(j));
	if (json_string_length(j) >= len)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s: longer than %zu bytes", path,
				    len - 1);
	memcpy(buf, json_string_value(j), json_string_length(j) + 1);
	if (strlen(buf) != json_string_length(j))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s: contains a NUL byte", path);
	return 1;
}

/* The reference's order: CNI_ARGS MAC, then args.cni.mac, then
 * runtimeConfig.mac, each later one winning when not empty. */
int loom_pod_conf_mac(const struct loom_netconf *nc, const struct loom_cni_args *args,
		      bool *has_mac, uint8_t mac[LOOM_MAC_LEN],
		      char mac_from[LOOM_POD_MAC_FROM_MAX], struct loom_err *err)
{
	char buf[2][64];
	const json_t *cni;
	const char *val = NULL;
	int code = LOOM_ERR_INVALID_CONFIG, r;
	size_t i;

	if (args && (val = loom_cni_args_get(args, "MAC")) && val[0]) {
		snprintf(mac_from, LOOM_POD_MAC_FROM_MAX, "CNI_ARGS MAC");
		code = LOOM_ERR_INVALID_ENV;
	} else {
		val = NULL;
	}
	cni = loom_json_member(nc->args, "cni");
	if (cni && !json_is_object(cni))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "args.cni: must be an object, not %s", loom_json_kind(cni));
	const struct {
		const json_t *obj;
		const char *path;
	} from_json[2] = { { cni, "args.cni.mac" }, { nc->runtime_config, "runtimeConfig.mac" } };

	for (i = 0; i < 2; i++) {
		r = loom_pod_json_str(from_json[i].obj, "mac", from_json[i].path, buf[i],
				      sizeof(buf[i]), err);
		if (r < 0)
			return -1;
		if (r == 1 && buf[i][0]) {
			snprintf(mac_from, LOOM_POD_MAC_FROM_MAX, "%s", from_json[i].path);
			code = LOOM_ERR_INVALID_CONFIG;
			val = buf[i];
		}
	}
	if (!val)
		return 0;
	if (loom_mac_parse(val, mac) < 0)
		return loom_err_set(
			err, code,
			"%s: \"%.64s\" is not a MAC address (expected six hex pairs such "
			"as 0a:58:0a:16:00:05)",
			mac_from, val);
	*has_mac = true;
	return 0;
}

static int dns_list(const json_t *dns, const char *key, char (*out)[LOOM_DNS_STRLEN], size_t *n,
		    struct loom_err *err)
{
	json_t *list = loom_json_member(dns, key), *item;
	size_t i;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "dns.%s: must be an array, not %s", key, loom_json_kind(list));
	if (json_array_size(list) > LOOM_DNS_MAX)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "dns.%s: more than %d entries",
				    key, LOOM_DNS_MAX);
	json_array_foreach(list, i, item) {
		char path[48];

		snprintf(path, sizeof(path), "dns.%s[%zu]", key, i);
		if (!json_is_string(item))
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "%s: must be a string, not %s", path,
					    loom_json_kind(item));
		if (json_string_length(item) >= LOOM_DNS_STRLEN)
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "%s: longer than %d bytes", path, LOOM_DNS_STRLEN - 1);
		snprintf(out[i], LOOM_DNS_STRLEN, "%s", json_string_value(item));
	}
	*n = json_array_size(list);
	return 1;
}

/* The reference replaces IPAM's DNS with the config's when the config sets
 * any field, an empty list included. */
int loom_pod_conf_dns(const struct loom_netconf *nc, bool *has_dns, struct loom_dns *dns,
		      struct loom_err *err)
{
	const json_t *d = nc->dns && !json_is_null(nc->dns) ? nc->dns : NULL;
	int a, b, o, dom;

	if (!d)
		return 0;
	if (!json_is_object(d))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "dns: must be an object, not %s",
				    loom_json_kind(d));
	if ((a = dns_list(d, "nameservers", dns->nameservers, &dns->n_nameservers, err)) < 0 ||
	    (b = dns_list(d, "search", dns->search, &dns->n_search, err)) < 0 ||
	    (o = dns_list(d, "options", dns->options, &dns->n_options, err)) < 0 ||
	    (dom = loom_pod_json_str(d, "domain", "dns.domain", dns->domain, sizeof(dns->domain),
				     err)) < 0)
		return -1;
	*has_dns = a || b || o || (dom && dns->domain[0]);
	return 0;
}

int loom_pod_mac_verify(const uint8_t mac[LOOM_MAC_LEN], const char *mac_from, struct loom_err *err)
{
	char buf[LOOM_MAC_STRLEN];

	if (mac[0] & 1)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s: %s is a multicast address, which an interface cannot have",
				    mac_from[0] ? mac_from : "mac", loom_mac_fmt(mac, buf));
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s: 00:00:00:00:00:00 is not a usable address",
				    mac_from[0] ? mac_from : "mac");
	return 0;
}

int loom_pod_conf_dirs(const json_t *root, char *state_dir, char *bpf_pin_dir, struct loom_err *err)
{
	int r;

	r = loom_pod_json_str(root, "stateDir", "stateDir", state_dir, PATH_MAX - 320, err);
	if (r < 0)
		return -1;
	if (r == 0)
		snprintf(state_dir, PATH_MAX, "%s", LOOM_POD_DEFAULT_STATE_DIR);
	if (state_dir[0] != '/')
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "stateDir: \"%.64s\" must be an absolute path", state_dir);

	r = loom_pod_json_str(root, "bpfPinDir", "bpfPinDir", bpf_pin_dir, PATH_MAX - 64, err);
	if (r < 0)
		return -1;
	if (r == 0)
		snprintf(bpf_pin_dir, PATH_MAX - 64, "%s", LOOM_POD_DEFAULT_BPF_PIN_DIR);
	if (bpf_pin_dir[0] != '/')
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "bpfPinDir: \"%.64s\" must be an absolute path", bpf_pin_dir);
	return 0;
}
