/* YAML/JSON manifests → jansson objects (see manifest.h).
 *
 * YAML goes through libyaml's event parser and a small recursive builder:
 * events give us the scalar style (quoted scalars stay strings) and the
 * position of every node for messages, and let us refuse aliases before
 * anything is expanded.  Recursion is bounded by LOOM_MANIFEST_MAX_DEPTH. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "model/manifest.h"

struct builder {
	yaml_parser_t parser;
	struct loom_err *err;
	int doc;      /* 1-based number of the document being read */
	size_t nodes; /* nodes built so far, over the whole stream */
};

static int fail_at(struct builder *b, const yaml_mark_t *m, const char *what)
{
	return loom_err_set(b->err, LOOM_ERR_DECODE, "document %d: line %zu, column %zu: %s",
			    b->doc, m->line + 1, m->column + 1, what);
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
	if (yaml_parser_parse(&b->parser, ev))
		return 0;
	if (b->parser.context)
		return loom_err_set(b->err, LOOM_ERR_DECODE,
				    "document %d: line %zu, column %zu: %s %s", b->doc,
				    b->parser.problem_mark.line + 1,
				    b->parser.problem_mark.column + 1,
				    b->parser.problem ? b->parser.problem : "syntax error",
				    b->parser.context);
	return loom_err_set(b->err, LOOM_ERR_DECODE, "document %d: line %zu, column %zu: %s",
			    b->doc, b->parser.problem_mark.line + 1,
			    b->parser.problem_mark.column + 1,
			    b->parser.problem ? b->parser.problem : "syntax error");
}

static bool all_digits(const char *s, size_t n, int base)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (base == 16 ? !isxdigit(c) : base == 8 ? (c < '0' || c > '7') : !isdigit(c))
			return false;
	}
	return true;
}

static json_t *parse_int(const char *text, size_t len)
{
	char buf[80];
	const char *digits = text;
	size_t n = len;
	int base = 10;
	bool neg = false;
	long long v;
	char *end;

	if (n && (digits[0] == '-' || digits[0] == '+')) {
		neg = digits[0] == '-';
		digits++;
		n--;
	}
	if (n > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'o')) {
		base = digits[1] == 'x' ? 16 : 8;
		digits += 2;
		n -= 2;
	}
	if (!all_digits(digits, n, base) || n >= sizeof(buf) - 2)
		return NULL;
	snprintf(buf, sizeof(buf), "%s%.*s", neg ? "-" : "", (int)n, digits);
	errno = 0;
	v = strtoll(buf, &end, base);
	if (errno == ERANGE)
		/* what Go's YAML decoder does with an int that does not fit */
		return base == 10 ? json_real(strtod(buf, NULL)) : NULL;
	return json_integer(v);
}

static json_t *parse_float(const char *text, size_t len)
{
	char buf[128];
	size_t i = 0;
	bool mant = false;
	double d;

	if (len >= sizeof(buf))
		return NULL;
	if (i < len && (text[i] == '-' || text[i] == '+'))
		i++;
	while (i < len && isdigit((unsigned char)text[i])) {
		i++;
		mant = true;
	}
	if (i < len && text[i] == '.') {
		i++;
		while (i < len && isdigit((unsigned char)text[i])) {
			i++;
			mant = true;
		}
	}
	if (!mant)
		return NULL;
	if (i < len && (text[i] == 'e' || text[i] == 'E')) {
		size_t e;

		i++;
		if (i < len && (text[i] == '-' || text[i] == '+'))
			i++;
		e = i;
		while (i < len && isdigit((unsigned char)text[i]))
			i++;
		if (i == e)
			return NULL;
	}
	if (i != len)
		return NULL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	d = strtod(buf, NULL);
	/* 1e999 is not a JSON number: leave it a string */
	if (d > 1.7976931348623157e308 || d < -1.7976931348623157e308)
		return NULL;
	return json_real(d);
}

json_t *loom_manifest_plain_scalar(const char *text, size_t len)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	static const char *const trues[] = { "true", "True", "TRUE" };
	static const char *const falses[] = { "false", "False", "FALSE" };
	json_t *j;
	size_t i;

	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (len == strlen(nulls[i]) && !memcmp(text, nulls[i], len))
			return json_null();
	for (i = 0; i < sizeof(trues) / sizeof(trues[0]); i++)
		if (len == strlen(trues[i]) && !memcmp(text, trues[i], len))
			return json_true();
	for (i = 0; i < sizeof(falses) / sizeof(falses[0]); i++)
		if (len == strlen(falses[i]) && !memcmp(text, falses[i], len))
			return json_false();
	j = parse_int(text, len);
	if (j)
		return j;
	return parse_float(text, len);
}

#define TAG_PREFIX "tag:yaml.org,2002:"

static json_t *build_scalar(struct builder *b, const yaml_event_t *ev)
{
	const char *text = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	json_t *j = NULL;

	if (memchr(text, '\0', len)) {
		fail_at(b, &ev->start_mark, "strings must not contain NUL characters");
		return NULL;
	}
	if (tag && strcmp(tag, "!") && strcmp(tag, TAG_PREFIX "str")) {
		const char *want = strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX))
					   ? NULL
					   : tag + strlen(TAG_PREFIX);
		json_t *typed = loom_manifest_plain_scalar(text, len);
		bool ok = typed && want &&
			  ((!strcmp(want, "int") && json_is_integer(typed)) ||
			   (!strcmp(want, "float") && json_is_number(typed)) ||
			   (!strcmp(want, "bool") && json_is_boolean(typed)) ||
			   (!strcmp(want, "null") && json_is_null(typed)));

		if (!ok) {
			char msg[160];

			json_decref(typed);
			snprintf(msg, sizeof(msg),
				 "unsupported tag or a value that does not match it: %.80s", tag);
			fail_at(b, &ev->start_mark, msg);
			return NULL;
		}
		return typed;
	}
	if (!tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		j = loom_manifest_plain_scalar(text, len);
	if (!j)
		j = json_stringn(text, len);
	if (!j)
		fail_at(b, &ev->start_mark, "invalid UTF-8 or out of memory");
	return j;
}

static json_t *build_node(struct builder *b, yaml_event_t *ev, int depth);

/* Children of a sequence or mapping, until the matching end event. */
static json_t *build_collection(struct builder *b, yaml_event_t *start, int depth)
{
	bool is_map = start->type == YAML_MAPPING_START_EVENT;
	json_t *c = is_map ? json_object() : json_array();

	if (!c) {
		fail_at(b, &start->start_mark, "out of memory");
		return NULL;
	}
	for (;;) {
		yaml_event_t ev;
		json_t *key = NULL, *val;

		if (next_event(b, &ev) < 0)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return c;
		}
		if (is_map) {
			if (ev.type != YAML_SCALAR_EVENT) {
				fail_at(b, &ev.start_mark, "mapping keys must be scalars");
				yaml_event_delete(&ev);
				goto fail;
			}
			key = build_scalar(b, &ev);
			if (key && !json_is_string(key)) {
				/* `80: x` is the key "80", as in Kubernetes' YAML-to-JSON */
				json_decref(key);
				key = json_stringn((const char *)ev.data.scalar.value,
						   ev.data.scalar.length);
			}
			if (key && json_object_get(c, json_string_value(key))) {
				char msg[160];

				snprintf(msg, sizeof(msg), "duplicate key \"%.100s\"",
					 json_string_value(key));
				fail_at(b, &ev.start_mark, msg);
				json_decref(key);
				key = NULL;
			}
			yaml_event_delete(&ev);
			if (!key)
				goto fail;
			if (next_event(b, &ev) < 0) {
				json_decref(key);
				goto fail;
			}
		}
		val = build_node(b, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (!val) {
			json_decref(key);
			goto fail;
		}
		if (is_map ? json_object_set_new(c, json_string_value(key), val)
			   : json_array_append_new(c, val)) {
			json_decref(key);
			loom_err_set(b->err, LOOM_ERR_INTERNAL, "document %d: out of memory",
				     b->doc);
			goto fail;
		}
		json_decref(key);
	}
fail:
	json_decref(c);
	return NULL;
}

static json_t *build_node(struct builder *b, yaml_event_t *ev, int depth)
{
	if (++b->nodes > LOOM_MANIFEST_MAX_NODES) {
		fail_at(b, &ev->start_mark, "too many nodes");
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return build_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (depth >= LOOM_MANIFEST_MAX_DEPTH) {
			fail_at(b, &ev->start_mark, "nested too deeply");
			return NULL;
		}
		return build_collection(b, ev, depth);
	case YAML_ALIAS_EVENT:
		fail_at(b, &ev->start_mark, "aliases (*name) are not supported");
		return NULL;
	default:
		fail_at(b, &ev->start_mark, "unexpected YAML event");
		return NULL;
	}
}

static int json_depth_ok(const json_t *j, int depth)
{
	const char *k;
	json_t *v;
	size_t i;

	if (depth > LOOM_MANIFEST_MAX_DEPTH)
		return 0;
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v)
			if (!json_depth_ok(v, depth + 1))
				return 0;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (!json_depth_ok(v, depth + 1))
				return 0;
	}
	return 1;
}

/* Append one document's root to the result, flattening Lists. */
static int add_root(struct loom_manifest *m, json_t *root, int doc, struct loom_err *err)
{
	const char *kind;
	json_t *items, *it;
	char where[64];
	size_t i, n;

	if (json_is_null(root))
		return 0; /* an empty document */
	if (!json_is_object(root))
		return loom_err_set(err, LOOM_ERR_DECODE,
				    "document %d: must be an object (a mapping), not %s", doc,
				    json_is_array(root) ? "a list" : "a scalar");
	kind = json_string_value(json_object_get(root, "kind"));
	items = json_object_get(root, "items");
	n = strlen(kind ? kind : "");
	if (kind && n >= 4 && !strcmp(kind + n - 4, "List") && items) {
		if (!json_is_array(items))
			return loom_err_set(err, LOOM_ERR_DECODE,
					    "document %d: items: must be a list", doc);
		json_array_foreach(items, i, it) {
			if (!json_is_object(it))
				return loom_err_set(err, LOOM_ERR_DECODE,
						    "document %d: items[%zu]: must be an object",
						    doc, i);
			snprintf(where, sizeof(where), "document %d: items[%zu]", doc, i);
			if (json_array_append(m->objects, it) ||
			    json_array_append_new(m->origins, json_string(where)))
				return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
		}
		return 0;
	}
	snprintf(where, sizeof(where), "document %d", doc);
	if (json_array_append(m->objects, root) ||
	    json_array_append_new(m->origins, json_string(where)))
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	return 0;
}

static int parse_json(const char *data, size_t len, struct loom_manifest *m, struct loom_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	int r;

	if (!root)
		return loom_err_set(err, LOOM_ERR_DECODE, "document 1: line %d, column %d: %s",
				    je.line, je.column, je.text);
	if (!json_depth_ok(root, 0)) {
		json_decref(root);
		return loom_err_set(err, LOOM_ERR_DECODE, "document 1: nested too deeply");
	}
	r = add_root(m, root, 1, err);
	json_decref(root);
	return r;
}

static int parse_yaml(const char *data, size_t len, struct loom_manifest *m, struct loom_err *err)
{
	struct builder b = { .err = err, .doc = 0 };
	yaml_event_t ev;
	int r = -1;

	if (!yaml_parser_initialize(&b.parser))
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)data, len);
	b.doc = 1;
	if (next_event(&b, &ev) < 0)
		goto out;
	yaml_event_delete(&ev); /* STREAM-START */
	for (b.doc = 1;; b.doc++) {
		json_t *root;

		if (next_event(&b, &ev) < 0)
			goto out;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev); /* DOCUMENT-START */
		if (next_event(&b, &ev) < 0)
			goto out;
		root = build_node(&b, &ev, 0);
		yaml_event_delete(&ev);
		if (!root)
			goto out;
		if (add_root(m, root, b.doc, err) < 0) {
			json_decref(root);
			goto out;
		}
		json_decref(root);
		if (next_event(&b, &ev) < 0)
			goto out;
		yaml_event_delete(&ev); /* DOCUMENT-END */
	}
	r = 0;
out:
	yaml_parser_delete(&b.parser);
	return r;
}

int loom_manifest_parse(const char *data, size_t len, struct loom_manifest *out,
			struct loom_err *err)
{
	size_t i = 0;
	int r;

	out->objects = json_array();
	out->origins = json_array();
	if (!out->objects || !out->origins) {
		loom_manifest_free(out);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	}
	if (len > LOOM_MANIFEST_MAX_BYTES) {
		loom_manifest_free(out);
		return loom_err_set(err, LOOM_ERR_DECODE, "manifest is larger than %d bytes",
				    LOOM_MANIFEST_MAX_BYTES);
	}
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
		i++;
	if (i < len && (data[i] == '{' || data[i] == '['))
		r = parse_json(data, len, out, err);
	else
		r = parse_yaml(data, len, out, err);
	if (r < 0)
		loom_manifest_free(out);
	return r;
}

void loom_manifest_free(struct loom_manifest *m)
{
	if (!m)
		return;
	json_decref(m->objects);
	json_decref(m->origins);
	m->objects = NULL;
	m->origins = NULL;
}
