/* From the plugins' local endpoint records to the datastore's endpoint
 * values.  A record file is "<network>:<containerID>:<ifname>.json" (see
 * plugins/bridge/record.c); its name and its content must agree, and every
 * field that reaches the store is type-checked here: the state dir is
 * written by root, but a stray file must not become a bogus endpoint. */
#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"

/* Container IDs and ifnames become key components: no '/', no ':'. */
static bool component_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || (unsigned char)s[i] < 0x20)
			return false;
	return true;
}

static int copy_part(char *dst, size_t dlen, const char *s, size_t n)
{
	if (n >= dlen || !component_valid(s, n))
		return -EINVAL;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int loomd_record_name_parse(const char *fname, struct loomd_record_id *out)
{
	static const char ext[] = ".json";
	size_t len = strlen(fname), el = sizeof(ext) - 1;
	const char *c1, *c2;
	size_t stem;

	memset(out, 0, sizeof(*out));
	if (fname[0] == '.' || len <= el || strcmp(fname + len - el, ext) != 0)
		return -EINVAL;
	stem = len - el;
	c1 = memchr(fname, ':', stem);
	c2 = c1 ? memchr(c1 + 1, ':', stem - (size_t)(c1 + 1 - fname)) : NULL;
	if (!c1 || !c2)
		return -EINVAL;
	if (copy_part(out->network, sizeof(out->network), fname, (size_t)(c1 - fname)) < 0 ||
	    copy_part(out->container_id, sizeof(out->container_id), c1 + 1, (size_t)(c2 - c1 - 1)) <
		    0 ||
	    copy_part(out->ifname, sizeof(out->ifname), c2 + 1, stem - (size_t)(c2 + 1 - fname)) <
		    0)
		return -EINVAL;
	return 0;
}

int loomd_endpoint_prefix_key(const char *node, char *buf, size_t len)
{
	int n = snprintf(buf, len, "/loom/endpoints/%s/", node);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int loomd_endpoint_key(const char *node, const struct loomd_record_id *id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "/loom/endpoints/%s/%s/%s", node, id->container_id, id->ifname);

	return n < 0 || (size_t)n >= len || (size_t)n >= LOOM_STORE_KEY_MAX ? -ENAMETOOLONG : 0;
}

/* The record's field `key` must be a string (or absent when optional). */
static int take_string(json_t *rec, json_t *ep, const char *key, bool required,
		       struct loom_err *err)
{
	json_t *v = json_object_get(rec, key);

	if (!v)
		return required ? loom_err_set(err, LOOM_ERR_DECODE, "%s: required", key) : 0;
	if (!json_is_string(v))
		return loom_err_set(err, LOOM_ERR_DECODE, "%s: must be a string", key);
	if (json_object_set(ep, key, v) < 0)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	return 0;
}

static int take_ips(json_t *rec, json_t *ep, struct loom_err *err)
{
	json_t *ips = json_object_get(rec, "ips"), *ip;
	struct loom_prefix p;
	size_t i;

	if (!ips)
		return json_object_set_new(ep, "ips", json_array()) < 0
			       ? loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory")
			       : 0;
	if (!json_is_array(ips) || json_array_size(ips) > 16)
		return loom_err_set(err, LOOM_ERR_DECODE,
				    "ips: must be an array of at most 16 CIDRs");
	json_array_foreach(ips, i, ip) {
		if (!json_is_string(ip) || loom_prefix_parse(json_string_value(ip), &p) < 0)
			return loom_err_set(err, LOOM_ERR_DECODE, "ips[%zu]: must be a CIDR", i);
	}
	if (json_object_set(ep, "ips", ips) < 0)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	return 0;
}

static bool same_string(json_t *rec, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(rec, key));

	return v && strcmp(v, want) == 0;
}

json_t *loomd_endpoint_from_record(const char *node, const struct loomd_record_id *id,
				   const char *text, size_t len, struct loom_err *err)
{
	json_error_t jerr;
	json_t *rec, *ep;
	int r = 0;

	rec = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!rec) {
		loom_err_set(err, LOOM_ERR_DECODE, "not JSON: %s", jerr.text);
		return NULL;
	}
	ep = json_object();
	if (!json_is_object(rec) || !ep) {
		json_decref(rec);
		json_decref(ep);
		loom_err_set(err, LOOM_ERR_DECODE, "must be a JSON object");
		return NULL;
	}
	if (json_object_set_new(ep, "node", json_string(node)) < 0)
		r = loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (r == 0)
		r = take_string(rec, ep, "network", true, err);
	if (r == 0)
		r = take_string(rec, ep, "containerID", true, err);
	if (r == 0)
		r = take_string(rec, ep, "ifname", true, err);
	if (r == 0 && (!same_string(rec, "network", id->network) ||
		       !same_string(rec, "containerID", id->container_id) ||
		       !same_string(rec, "ifname", id->ifname)))
		r = loom_err_set(err, LOOM_ERR_DECODE,
				 "network, containerID and ifname do not match the file name");
	if (r == 0)
		r = take_ips(rec, ep, err);
	if (r == 0)
		r = take_string(rec, ep, "mac", false, err);
	if (r == 0)
		r = take_string(rec, ep, "hostVeth", false, err);
	if (r == 0)
		r = take_string(rec, ep, "podNamespace", false, err);
	if (r == 0)
		r = take_string(rec, ep, "podName", false, err);
	json_decref(rec);
	if (r < 0) {
		json_decref(ep);
		return NULL;
	}
	return ep;
}
