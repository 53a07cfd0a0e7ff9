/* CNI_ARGS: "K=V;K=V" from the runtime.
 *
 * Like the reference (pkg/types/args.go): every pair needs exactly one '=',
 * an unknown key fails unless IgnoreUnknown is true wherever it appears in
 * the string, and a key given twice keeps its last value.  Unlike it, an
 * empty segment (a trailing ';') is skipped, and sizes are bounded. */
#include "cni/cni.h"

#include <strings.h>
#include <string.h>

/* Keys every runtime may send (containerd, CRI-O and kubelet's dockershim
 * pass the K8S_POD_* set to every plugin). */
static const char *const always_known[] = {
	"IgnoreUnknown", "K8S_POD_NAMESPACE",
	"K8S_POD_NAME",  "K8S_POD_INFRA_CONTAINER_ID",
	"K8S_POD_UID",   NULL,
};

static bool in_list(const char *const *list, const char *key)
{
	if (!list)
		return false;
	for (; *list; list++) {
		if (strcmp(*list, key) == 0)
			return true;
	}
	return false;
}

/* The reference accepts "1"/"0" and any case of "true"/"false". */
static int parse_bool(const char *s, bool *out)
{
	if (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(s, "0") == 0 || strcasecmp(s, "false") == 0) {
		*out = false;
		return 0;
	}
	return -1;
}

/* Split one pair [p, p+len) into out->kv, overwriting an earlier value of
 * the same key. */
static int add_pair(const char *p, size_t len, size_t index, struct loom_cni_args *out,
		    struct loom_err *err)
{
	const char *eq = memchr(p, '=', len);
	size_t klen, vlen, i;

	if (!eq || memchr(eq + 1, '=', len - (size_t)(eq + 1 - p)))
		return loom_err_set(
			err, LOOM_ERR_INVALID_ENV,
			"CNI_ARGS: pair %zu \"%.*s\" must be KEY=VALUE with exactly one '='",
			index + 1, (int)(len > 64 ? 64 : len), p);
	klen = (size_t)(eq - p);
	vlen = len - klen - 1;
	if (klen == 0)
		return loom_err_set(err, LOOM_ERR_INVALID_ENV,
				    "CNI_ARGS: pair %zu \"%.*s\" has an empty key", index + 1,
				    (int)(len > 64 ? 64 : len), p);
	if (klen >= LOOM_CNI_ARG_MAX || vlen >= LOOM_CNI_ARG_MAX)
		return loom_err_set(
			err, LOOM_ERR_INVALID_ENV,
			"CNI_ARGS: pair %zu \"%.*s...\" has a key or value longer than %d bytes",
			index + 1, 32, p, LOOM_CNI_ARG_MAX - 1);

	for (i = 0; i < out->n; i++) {
		if (strlen(out->kv[i].key) == klen && memcmp(out->kv[i].key, p, klen) == 0)
			break;
	}
	if (i == out->n) {
		if (out->n == LOOM_CNI_ARGS_MAX)
			return loom_err_set(err, LOOM_ERR_INVALID_ENV,
					    "CNI_ARGS has more than %d pairs", LOOM_CNI_ARGS_MAX);
		memcpy(out->kv[i].key, p, klen);
		out->kv[i].key[klen] = '\0';
		out->n++;
	}
	memcpy(out->kv[i].value, eq + 1, vlen);
	out->kv[i].value[vlen] = '\0';
	return 0;
}

int loom_cni_args_parse(const char *s, const char *const *known, struct loom_cni_args *out,
			struct loom_err *err)
{
	const char *p, *v;
	size_t i, index = 0;

	memset(out, 0, sizeof(*out));
	if (!s)
		return 0;
	for (p = s; *p;) {
		size_t len = strcspn(p, ";");

		if (len > 0 && add_pair(p, len, index, out, err) < 0)
			goto fail;
		index++;
		p += len;
		if (*p == ';')
			p++;
	}

	v = loom_cni_args_get(out, "IgnoreUnknown");
	if (v && parse_bool(v, &out->ignore_unknown) < 0) {
		loom_err_set(
			err, LOOM_ERR_INVALID_ENV,
			"CNI_ARGS: IgnoreUnknown=%.64s is not a boolean (use 1, true, 0 or false)",
			v);
		goto fail;
	}
	if (!out->ignore_unknown) {
		for (i = 0; i < out->n; i++) {
			const char *key = out->kv[i].key;

			if (in_list(always_known, key) || in_list(known, key))
				continue;
			loom_err_set(
				err, LOOM_ERR_INVALID_ENV,
				"CNI_ARGS: unknown key in pair \"%.64s=%.64s\" (add IgnoreUnknown=1 "
				"to ignore keys this plugin does not use)",
				key, out->kv[i].value);
			goto fail;
		}
	}

	out->k8s_pod_namespace = loom_cni_args_get(out, "K8S_POD_NAMESPACE");
	out->k8s_pod_name = loom_cni_args_get(out, "K8S_POD_NAME");
	out->k8s_pod_infra_container_id = loom_cni_args_get(out, "K8S_POD_INFRA_CONTAINER_ID");
	out->k8s_pod_uid = loom_cni_args_get(out, "K8S_POD_UID");
	return 0;

fail:
	memset(out, 0, sizeof(*out));
	return -1;
}

const char *loom_cni_args_get(const struct loom_cni_args *a, const char *key)
{
	size_t i;

	if (!a || !key)
		return NULL;
	for (i = 0; i < a->n && i < LOOM_CNI_ARGS_MAX; i++) {
		if (strcmp(a->kv[i].key, key) == 0)
			return a->kv[i].value;
	}
	return NULL;
}
