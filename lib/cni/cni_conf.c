/* The network config a runtime writes on a plugin's stdin.
 *
 * Parse once into struct loom_netconf, checking every field loom reads:
 * decode errors (LOOM_ERR_DECODE) say where jansson stopped; field errors
 * (LOOM_ERR_INVALID_CONFIG) name the field's path; a version loom does not
 * speak is LOOM_ERR_INCOMPATIBLE_VERSION and lists the ones it does.
 * Plugin-specific keys stay in `root` for the plugin to parse. */
#include "base/json_util.h"
#include "cni/cni.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void supported_versions(char *buf, size_t size)
{
	size_t used = 0;
	int v;

	buf[0] = '\0';
	for (v = 0; v < LOOM_CNI_VERSION_COUNT && used < size; v++) {
		int n = snprintf(buf + used, size - used, "%s%s", v ? ", " : "",
				 loom_cni_version_str((enum loom_cni_version)v));
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* A required non-empty string member. */
static int get_string(const json_t *root, const char *key, const char **out, struct loom_err *err)
{
	json_t *j = json_object_get(root, key);

	if (!j)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s is missing", key);
	if (!json_is_string(j))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s must be a string, not %s",
				    key, loom_json_kind(j));
	if (!json_string_value(j)[0])
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s is empty", key);
	*out = json_string_value(j);
	return 0;
}

static int parse_version(const json_t *root, struct loom_netconf *out, struct loom_err *err)
{
	json_t *j = json_object_get(root, "cniVersion");
	char list[64];

	supported_versions(list, sizeof(list));
	/* The spec reads a missing cniVersion as 0.1.0, which loom does not
	 * speak: say so rather than guess a newer one. */
	if (!j)
		return loom_err_set(err, LOOM_ERR_INCOMPATIBLE_VERSION,
				    "cniVersion is missing, which means 0.1.0; loom speaks %s",
				    list);
	if (!json_is_string(j))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "cniVersion must be a string, not %s", loom_json_kind(j));
	out->version_str = json_string_value(j);
	if (loom_cni_version_parse(out->version_str, &out->version) < 0)
		return loom_err_set(err, LOOM_ERR_INCOMPATIBLE_VERSION,
				    "cniVersion \"%.32s\" is not supported; loom speaks %s",
				    out->version_str, list);
	return 0;
}

/* An optional member that must be an object; null counts as absent, as it
 * does for the reference's Go decoding. */
static int get_object(const json_t *root, const char *key, json_t **out, struct loom_err *err)
{
	json_t *j = json_object_get(root, key);

	*out = NULL;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_object(j))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s must be an object, not %s",
				    key, loom_json_kind(j));
	*out = j;
	return 0;
}

static int parse_attachment(const json_t *j, const char *key, size_t i, struct loom_attachment *a,
			    struct loom_err *err)
{
	const char *cid, *ifname;
	char path[96];
	json_t *v;

	snprintf(path, sizeof(path), "%s[%zu]", key, i);
	if (!json_is_object(j))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s must be an object, not %s",
				    path, loom_json_kind(j));

	v = json_object_get(j, "containerID");
	if (!json_is_string(v))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s.containerID must be a string",
				    path);
	cid = json_string_value(v);
	v = json_object_get(j, "ifname");
	if (!json_is_string(v))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s.ifname must be a string",
				    path);
	ifname = json_string_value(v);

	if (loom_cni_validate_container_id(cid, err) < 0 ||
	    loom_cni_validate_ifname(ifname, err) < 0) {
		if (err)
			err->code = LOOM_ERR_INVALID_CONFIG;
		loom_err_prefix(err, path);
		return -1;
	}
	/* Both validators bound the length below the buffers' sizes. */
	snprintf(a->container_id, sizeof(a->container_id), "%s", cid);
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	return 0;
}

/* GC's list of attachments still in use.  Spec 1.1.0 names it
 * cni.dev/valid-attachments; libcni 1.2 sent cni.dev/attachments. */
static int parse_attachments(const json_t *root, struct loom_netconf *out, struct loom_err *err)
{
	const char *key = "cni.dev/valid-attachments";
	json_t *list = json_object_get(root, key);
	size_t i, n;

	if (!list) {
		key = "cni.dev/attachments";
		list = json_object_get(root, key);
	}
	if (!list)
		return 0;
	if (!json_is_array(list))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s must be an array, not %s",
				    key, loom_json_kind(list));
	n = json_array_size(list);
	if (n > LOOM_MAX_ATTACHMENTS)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s has %zu entries, more than loom's limit of %d", key, n,
				    LOOM_MAX_ATTACHMENTS);
	out->valid_attachments = calloc(n ? n : 1, sizeof(*out->valid_attachments));
	if (!out->valid_attachments)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory reading %s", key);
	for (i = 0; i < n; i++) {
		if (parse_attachment(json_array_get(list, i), key, i, &out->valid_attachments[i],
				     err) < 0)
			return -1;
	}
	out->n_valid_attachments = n;
	out->has_valid_attachments = true;
	return 0;
}

/* VERSION reads only cniVersion, and only to refuse one loom does not
 * speak; the rest of the document is not the plugin's business. */
static int parse_fields(json_t *root, enum loom_cni_cmd cmd, struct loom_netconf *out,
			struct loom_err *err)
{
	const struct {
		const char *key;
		json_t **dst;
	} objects[] = {
		{ "ipam", &out->ipam },
		{ "dns", &out->dns },
		{ "runtimeConfig", &out->runtime_config },
		{ "args", &out->args },
		{ "capabilities", &out->capabilities },
	};
	json_t *prev;
	size_t i;

	if (cmd == LOOM_CMD_VERSION) {
		if (!json_object_get(root, "cniVersion")) {
			out->version = LOOM_CNI_VERSION_LATEST;
			out->version_str = loom_cni_version_str(out->version);
			return 0;
		}
		return parse_version(root, out, err);
	}

	if (get_string(root, "name", &out->name, err) < 0)
		return -1;
	if (loom_cni_validate_network_name(out->name, err) < 0) {
		loom_err_prefix(err, "name");
		return -1;
	}
	if (get_string(root, "type", &out->type, err) < 0)
		return -1;
	if (parse_version(root, out, err) < 0)
		return -1;

	for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		if (get_object(root, objects[i].key, objects[i].dst, err) < 0)
			return -1;
	}

	prev = json_object_get(root, "prevResult");
	if (prev && !json_is_null(prev)) {
		if (loom_result_from_json(prev, "prevResult", &out->prev_result, err) < 0)
			return -1;
		out->has_prev_result = true;
	}

	if (cmd == LOOM_CMD_GC)
		return parse_attachments(root, out, err);
	return 0;
}

int loom_netconf_parse(const char *buf, size_t len, enum loom_cni_cmd cmd, struct loom_netconf *out,
		       struct loom_err *err)
{
	json_error_t jerr;
	json_t *root;
	size_t i;

	memset(out, 0, sizeof(*out));
	loom_result_init(&out->prev_result);

	for (i = 0; i < len && buf[i] && strchr(" \t\r\n", buf[i]); i++)
		;
	if (i == len)
		return loom_err_set(err, LOOM_ERR_DECODE, "network config on stdin is empty");

	/* Strings with NUL bytes are refused (no JSON_ALLOW_NUL): every string
	 * is used as a C string later. */
	root = json_loadb(buf, len, JSON_DECODE_ANY, &jerr);
	if (!root)
		return loom_err_set(err, LOOM_ERR_DECODE,
				    "network config is not valid JSON: %s (line %d, column %d)",
				    jerr.text, jerr.line, jerr.column);
	if (!json_is_object(root)) {
		loom_err_set(err, LOOM_ERR_DECODE, "network config must be a JSON object, not %s",
			     loom_json_kind(root));
		json_decref(root);
		return -1;
	}
	out->root = root;
	if (parse_fields(root, cmd, out, err) < 0) {
		loom_netconf_free(out);
		return -1;
	}
	return 0;
}

void loom_netconf_free(struct loom_netconf *c)
{
	if (!c)
		return;
	json_decref(c->root);
	free(c->valid_attachments);
	memset(c, 0, sizeof(*c));
	loom_result_init(&c->prev_result);
}
