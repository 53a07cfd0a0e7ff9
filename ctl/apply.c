/* apply -f and delete: every document is parsed and validated before the
 * store is touched, so an invalid file writes nothing. */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "model/k8s_validate.h"
#include "model/manifest.h"

/* Parse and validate FILE; print the first problem and return -1. */
static int load_valid(const char *path, struct loom_manifest *m)
{
	struct loom_err err = { 0 };
	char *buf = NULL;
	size_t len = 0, i;
	json_t *obj;
	int r;

	if (ctl_read_file(path, &buf, &len, &err) < 0) {
		ctl_error("%s%s%s", err.msg, err.details[0] ? ": " : "", err.details);
		return -1;
	}
	r = loom_manifest_parse(buf, len, m, &err);
	free(buf);
	if (r < 0) {
		ctl_error("%s: %s", path, err.msg);
		return -1;
	}
	json_array_foreach(m->objects, i, obj) {
		if (loom_k8s_validate(obj, NULL, &err) < 0) {
			ctl_error("%s: %s: %s", path,
				  json_string_value(json_array_get(m->origins, i)), err.msg);
			loom_manifest_free(m);
			return -1;
		}
	}
	if (json_array_size(m->objects) == 0) {
		ctl_error("%s: no objects passed to apply", path);
		loom_manifest_free(m);
		return -1;
	}
	return 0;
}

/* load_valid, then the cluster store: NULL (printed) if either fails, and
 * then nothing is left to free. */
static struct loom_store *load_valid_and_store(struct ctl *c, const char *path,
					       struct loom_manifest *m)
{
	struct loom_store *s;

	if (load_valid(path, m) < 0)
		return NULL;
	if (!(s = ctl_store(c)))
		loom_manifest_free(m);
	return s;
}

static const char *obj_name(const json_t *obj)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
}

static const char *obj_ns(const json_t *obj)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
}

/* Compare as canonical JSON (sorted keys, compact): key order and
 * whitespace in the stored text do not make an object "configured". */
static bool same_object(const char *stored, size_t len, const json_t *obj)
{
	json_t *old = json_loadb(stored, len, 0, NULL);
	char *a = old ? json_dumps(old, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	char *b = json_dumps(obj, JSON_SORT_KEYS | JSON_COMPACT);
	bool same = a && b && !strcmp(a, b);

	free(a);
	free(b);
	json_decref(old);
	return same;
}

/* Write one object; *verb says what happened. */
static int apply_one(struct loom_store *s, const json_t *obj, const char **verb,
		     struct loom_err *err)
{
	const struct loom_kind_info *k =
		loom_kind_lookup(json_string_value(json_object_get(obj, "kind")));
	char key[LOOM_STORE_KEY_MAX];
	char *val = NULL;
	int attempt, r = -1;

	if (!k || loom_k8s_key(k, obj_ns(obj), obj_name(obj), key, sizeof(key), err) < 0)
		return -1;
	val = json_dumps(obj, JSON_COMPACT);
	if (!val)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	/* A concurrent writer can slip between our read and write: retry on
	 * a lost compare-and-swap, a few times. */
	for (attempt = 0; attempt < 5; attempt++) {
		struct loom_kv kv = { 0 };
		int got = loom_store_get(s, key, &kv, err);

		if (got < 0)
			goto out;
		if (got == 0) {
			r = loom_store_create(s, key, val, strlen(val), 0, NULL, err);
			*verb = "created";
		} else if (same_object(kv.value, kv.value_len, obj)) {
			loom_kv_clear(&kv);
			*verb = "unchanged";
			r = 0;
			goto out;
		} else {
			r = loom_store_cas(s, key, kv.mod_revision, val, strlen(val), 0, NULL, err);
			*verb = "configured";
		}
		loom_kv_clear(&kv);
		if (r != 0) {
			r = r < 0 ? -1 : 0;
			goto out;
		}
	}
	r = loom_err_set(err, LOOM_ERR_STORE, "%s: changed concurrently, try again", key);
out:
	free(val);
	return r;
}

static const char *file_arg(int argc, char **argv, int *i)
{
	if (!strcmp(argv[*i], "-f") || !strcmp(argv[*i], "--filename")) {
		if (*i + 1 < argc)
			return argv[++*i];
		return "";
	}
	if (!strncmp(argv[*i], "--filename=", 11))
		return argv[*i] + 11;
	if (!strncmp(argv[*i], "-f", 2) && argv[*i][2])
		return argv[*i] + 2;
	return NULL;
}

int ctl_apply(struct ctl *c, int argc, char **argv)
{
	struct loom_manifest m = { 0 };
	const char *file = NULL;
	struct loom_store *s;
	json_t *obj;
	size_t i;
	int i_arg, rc = 0;

	for (i_arg = 1; i_arg < argc; i_arg++) {
		const char *f = file_arg(argc, argv, &i_arg);

		if (!f || !f[0]) {
			ctl_error(f ? "-f needs a file name" : "apply: unexpected argument \"%s\"",
				  argv[i_arg]);
			return 1;
		}
		file = f;
	}
	if (!file) {
		ctl_error("apply needs -f FILE (or -f - for stdin)");
		return 1;
	}
	if (!(s = load_valid_and_store(c, file, &m)))
		return 1;
	json_array_foreach(m.objects, i, obj) {
		const struct loom_kind_info *k =
			loom_kind_lookup(json_string_value(json_object_get(obj, "kind")));
		struct loom_err err = { 0 };
		const char *verb = "";

		if (apply_one(s, obj, &verb, &err) < 0) {
			ctl_error("%s/%s: %s%s%s", k->qualified, obj_name(obj), err.msg,
				  err.details[0] ? ": " : "", err.details);
			rc = 1;
			break;
		}
		printf("%s/%s %s\n", k->qualified, obj_name(obj), verb);
	}
	loom_manifest_free(&m);
	return rc;
}

/* 0 deleted, 1 not found, -1 store error (printed). */
static int delete_one(struct loom_store *s, const struct loom_kind_info *k, const char *ns,
		      const char *name)
{
	struct loom_err err = { 0 };
	char key[LOOM_STORE_KEY_MAX];
	int r;

	if (loom_k8s_key(k, ns, name, key, sizeof(key), &err) < 0) {
		ctl_error("%s", err.msg);
		return -1;
	}
	r = loom_store_delete(s, key, NULL, &err);
	if (r < 0) {
		ctl_error("%s%s%s", err.msg, err.details[0] ? ": " : "", err.details);
		return -1;
	}
	if (r == 0) {
		if (k->namespaced)
			ctl_error("%s \"%s\" not found in namespace \"%s\"", k->plural, name, ns);
		else
			ctl_error("%s \"%s\" not found", k->plural, name);
		return 1;
	}
	printf("%s \"%s\" deleted\n", k->qualified, name);
	return 0;
}

int ctl_delete(struct ctl *c, int argc, char **argv)
{
	const char *file = NULL, *ns = "default", *kind = NULL, *name = NULL;
	const struct loom_kind_info *k;
	struct loom_store *s;
	int i, rc = 0;

	for (i = 1; i < argc; i++) {
		const char *f = file_arg(argc, argv, &i);

		if (f) {
			if (!f[0]) {
				ctl_error("-f needs a file name");
				return 1;
			}
			file = f;
		} else if (!strcmp(argv[i], "-n") || !strcmp(argv[i], "--namespace")) {
			if (++i == argc) {
				ctl_error("%s needs a namespace", argv[i - 1]);
				return 1;
			}
			ns = argv[i];
		} else if (!kind) {
			kind = argv[i];
		} else if (!name) {
			name = argv[i];
		} else {
			ctl_error("delete: unexpected argument \"%s\"", argv[i]);
			return 1;
		}
	}
	if (file) {
		struct loom_manifest m = { 0 };
		json_t *obj;
		size_t j;

		if (kind) {
			ctl_error("delete: give either -f FILE or KIND NAME");
			return 1;
		}
		if (!(s = load_valid_and_store(c, file, &m)))
			return 1;
		json_array_foreach(m.objects, j, obj) {
			k = loom_kind_lookup(json_string_value(json_object_get(obj, "kind")));
			if (delete_one(s, k, obj_ns(obj), obj_name(obj)) != 0)
				rc = 1; /* like kubectl: report, go on with the rest */
		}
		loom_manifest_free(&m);
		return rc;
	}
	if (!kind || !name) {
		ctl_error("delete needs KIND NAME or -f FILE");
		return 1;
	}
	if (!(k = loom_kind_lookup(kind))) {
		ctl_error("the server doesn't have a resource type \"%s\"", kind);
		return 1;
	}
	if (!(s = ctl_store(c)))
		return 1;
	return delete_one(s, k, ns, name) != 0;
}
