/* Field helpers of the model's strict parsers (fields.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/json_util.h"
#include "model/fields.h"
#include "model/k8s_validate.h"

int loom_field_bad(struct loom_err *err, const char *path, const char *fmt, ...)
{
	char rule[LOOM_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rule, sizeof(rule), fmt, ap);
	va_end(ap);
	return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s: %s", path, rule);
}

void loom_field_path(char *buf, const char *parent, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	n = (size_t)snprintf(buf, LOOM_FIELD_PATH_MAX, "%s%s", parent, parent[0] ? "." : "");
	if (n >= LOOM_FIELD_PATH_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, LOOM_FIELD_PATH_MAX - n, fmt, ap);
	va_end(ap);
}

int loom_field_type(const json_t *j, int type, const char *path, struct loom_err *err)
{
	static const char *const names[] = {
		[JSON_OBJECT] = "an object", [JSON_ARRAY] = "a list",
		[JSON_STRING] = "a string",  [JSON_INTEGER] = "an integer",
		[JSON_TRUE] = "a boolean",   [JSON_FALSE] = "a boolean",
	};

	if (json_typeof(j) == (json_type)type || (type == JSON_TRUE && json_is_boolean(j)))
		return 0;
	return loom_field_bad(err, path, "must be %s, not %s", names[type], loom_json_kind(j));
}

int loom_field_known(const json_t *o, const char *const *allowed, const char *path,
		     struct loom_err *err)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)o, k, v) {
		for (i = 0; allowed[i]; i++)
			if (!strcmp(k, allowed[i]))
				break;
		if (!allowed[i]) {
			LOOM_FIELD_CHILD(p, path, "%s", k);
			return loom_field_bad(err, p, "unknown field");
		}
	}
	return 0;
}

int loom_field_member(const json_t *o, const char *key, int type, const char *path, json_t **out,
		      struct loom_err *err)
{
	json_t *j = loom_json_member(o, key);
	LOOM_FIELD_CHILD(p, path, "%s", key);

	*out = j;
	if (!j)
		return 0;
	return loom_field_type(j, type, p, err) < 0 ? -1 : 1;
}

int loom_field_required(const json_t *o, const char *key, int type, const char *path, json_t **out,
			struct loom_err *err)
{
	int r = loom_field_member(o, key, type, path, out, err);

	if (r == 0) {
		LOOM_FIELD_CHILD(p, path, "%s", key);
		return loom_field_bad(err, p, "required");
	}
	return r;
}

int loom_field_list(const json_t *o, const char *key, size_t max, const char *path, json_t **out,
		    struct loom_err *err)
{
	int r = loom_field_member(o, key, JSON_ARRAY, path, out, err);
	LOOM_FIELD_CHILD(p, path, "%s", key);

	if (r > 0 && json_array_size(*out) > max)
		return loom_field_bad(err, p, "at most %zu", max);
	return r;
}

int loom_field_int(const json_t *o, const char *key, json_int_t min, json_int_t max,
		   const char *path, json_int_t *out, struct loom_err *err)
{
	json_t *j;
	int r = loom_field_member(o, key, JSON_INTEGER, path, &j, err);
	LOOM_FIELD_CHILD(p, path, "%s", key);

	if (r <= 0)
		return r;
	*out = json_integer_value(j);
	if (*out < min || *out > max)
		return loom_field_bad(err, p, "must be between %lld and %lld", (long long)min,
				      (long long)max);
	return 1;
}

int loom_field_default(json_t *o, const char *key, json_t *v)
{
	if (loom_json_member(o, key)) {
		json_decref(v);
		return 0;
	}
	return json_object_set_new(o, key, v) ? -1 : 0;
}

int loom_field_name(const char *s, bool subdomain, const char *path, struct loom_err *err)
{
	const char *why = subdomain ? loom_k8s_dns1123_subdomain(s) : loom_k8s_dns1123_label(s);

	return why ? loom_field_bad(err, path, "\"%s\": %s", s, why) : 0;
}
