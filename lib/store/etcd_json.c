/* Parsing etcd's JSON gateway answers: see etcd_json.h.  Nothing from the
 * wire is trusted: sizes are bounded before allocation, every field's type
 * is checked, and base64 is decoded strictly. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd_json.h"
#include "base/json_util.h"

/* loom_json_kind for a member that may be absent */
static const char *kind(const json_t *j)
{
	return j ? loom_json_kind(j) : "missing";
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *loom_etcd_b64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out, *o;
	size_t i;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	out = malloc((len + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	o = out;
	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];

		*o++ = b64chars[v >> 18 & 63];
		*o++ = b64chars[v >> 12 & 63];
		*o++ = b64chars[v >> 6 & 63];
		*o++ = b64chars[v & 63];
	}
	if (i < len) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);

		*o++ = b64chars[v >> 18 & 63];
		*o++ = b64chars[v >> 12 & 63];
		*o++ = i + 1 < len ? b64chars[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int loom_etcd_b64_decode(const char *in, size_t inlen, char **out, size_t *outlen)
{
	size_t i, n = 0, pad = 0;
	char *buf;

	/* Go's encoding/json writes []byte as padded standard base64. */
	if (inlen % 4)
		return -EINVAL;
	if (inlen >= 1 && in[inlen - 1] == '=')
		pad++;
	if (inlen >= 2 && in[inlen - 2] == '=')
		pad++;
	buf = malloc(inlen / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < inlen; i += 4) {
		int v[4], k;
		bool last = i + 4 == inlen;

		for (k = 0; k < 4; k++) {
			v[k] = b64val((unsigned char)in[i + k]);
			if (v[k] < 0 && !(last && in[i + k] == '=' && k >= 4 - (int)pad)) {
				free(buf);
				return -EINVAL;
			}
		}
		unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 |
			     (unsigned)(v[2] < 0 ? 0 : v[2]) << 6 | (unsigned)(v[3] < 0 ? 0 : v[3]);
		buf[n++] = (char)(w >> 16);
		if (v[2] >= 0)
			buf[n++] = (char)(w >> 8 & 0xff);
		if (v[3] >= 0)
			buf[n++] = (char)(w & 0xff);
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;
}

int loom_etcd_int64(const json_t *j, int64_t *out)
{
	if (!j || json_is_null(j)) {
		*out = 0;
		return 0;
	}
	if (json_is_integer(j)) {
		*out = json_integer_value(j);
		return 0;
	}
	if (!json_is_string(j))
		return -1;
	const char *s = json_string_value(j);
	size_t len = json_string_length(j);
	char *end;

	if (len == 0 || len > 20 || strlen(s) != len)
		return -1;
	if (!(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* A non-negative int64 member (absent = 0). */
static int member_rev(const json_t *o, const char *key, int64_t *out, const char *what,
		      struct loom_err *err)
{
	if (loom_etcd_int64(json_object_get(o, key), out) < 0 || *out < 0)
		return loom_err_set(err, LOOM_ERR_STORE,
				    "etcd answered a malformed %s: %s is not a non-negative int64",
				    what, key);
	return 0;
}

/* A base64 member decoded; absent = empty. */
static int member_bytes(const json_t *o, const char *key, size_t max, char **out, size_t *len,
			const char *what, struct loom_err *err)
{
	const json_t *j = json_object_get(o, key);
	int r;

	if (!j) {
		*out = strdup("");
		*len = 0;
		return *out ? 0 : loom_err_errno(err, LOOM_ERR_INTERNAL, ENOMEM, "out of memory");
	}
	if (!json_is_string(j))
		return loom_err_set(err, LOOM_ERR_STORE,
				    "etcd answered a malformed %s: %s is %s, not a string", what,
				    key, kind(j));
	if (json_string_length(j) / 4 * 3 > max + 3)
		return loom_err_set(err, LOOM_ERR_STORE,
				    "etcd answered a %s whose %s is over %zu bytes", what, key,
				    max);
	r = loom_etcd_b64_decode(json_string_value(j), json_string_length(j), out, len);
	if (r == -ENOMEM)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, ENOMEM, "out of memory");
	if (r < 0)
		return loom_err_set(err, LOOM_ERR_STORE,
				    "etcd answered a malformed %s: %s is not base64", what, key);
	if (*len > max) {
		free(*out);
		*out = NULL;
		return loom_err_set(err, LOOM_ERR_STORE,
				    "etcd answered a %s whose %s is over %zu bytes", what, key,
				    max);
	}
	return 0;
}

int loom_etcd_parse_response(const char *buf, size_t len, json_t **out, struct loom_err *err)
{
	json_error_t je;
	json_t *j;

	if (len > LOOM_ETCD_RESPONSE_MAX)
		return loom_err_set(err, LOOM_ERR_STORE, "etcd answered over %u bytes",
				    LOOM_ETCD_RESPONSE_MAX);
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return loom_err_set(err, LOOM_ERR_STORE, "etcd answered invalid JSON: %s", je.text);
	if (!json_is_object(j)) {
		/* the message first: kind() reads j, which the decref frees */
		loom_err_set(err, LOOM_ERR_STORE, "etcd answered a JSON %s, not an object",
			     kind(j));
		json_decref(j);
		return -1;
	}
	const json_t *e = json_object_get(j, "error");
	if (e) {
		int64_t code = 0;
		const json_t *m = json_object_get(j, "message");
		const char *msg = json_is_string(m)   ? json_string_value(m)
				  : json_is_string(e) ? json_string_value(e)
						      : "unknown error";

		if (loom_etcd_int64(json_object_get(j, "code"), &code) < 0)
			code = 0;
		loom_err_set(err, code == 5 ? LOOM_ERR_NOT_FOUND : LOOM_ERR_STORE, "etcd: %.400s",
			     msg);
		json_decref(j);
		return -1;
	}
	*out = j;
	return 0;
}

int loom_etcd_header_revision(const json_t *resp, int64_t *rev, struct loom_err *err)
{
	const json_t *h = json_object_get(resp, "header");

	if (!json_is_object(h))
		return loom_err_set(err, LOOM_ERR_STORE, "etcd answered without a header");
	if (member_rev(h, "revision", rev, "header", err) < 0)
		return -1;
	if (*rev <= 0)
		return loom_err_set(err, LOOM_ERR_STORE, "etcd answered without a revision");
	return 0;
}

int loom_etcd_parse_kv(const json_t *o, struct loom_kv *kv, struct loom_err *err)
{
	struct loom_kv k = { 0 };
	size_t klen;

	if (!json_is_object(o))
		return loom_err_set(err, LOOM_ERR_STORE, "etcd answered a key-value that is %s",
				    kind(o));
	if (member_rev(o, "create_revision", &k.create_revision, "key-value", err) < 0 ||
	    member_rev(o, "mod_revision", &k.mod_revision, "key-value", err) < 0 ||
	    member_rev(o, "lease", &k.lease, "key-value", err) < 0)
		return -1;
	if (member_bytes(o, "key", LOOM_STORE_KEY_MAX, &k.key, &klen, "key-value", err) < 0)
		return -1;
	if (klen == 0 || strlen(k.key) != klen) {
		free(k.key);
		return loom_err_set(err, LOOM_ERR_STORE,
				    "etcd answered an empty key or a key holding NUL");
	}
	if (member_bytes(o, "value", LOOM_STORE_VALUE_MAX, &k.value, &k.value_len, "key-value",
			 err) < 0) {
		free(k.key);
		return -1;
	}
	*kv = k;
	return 0;
}

static void kvs_free(struct loom_kv *kvs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kvs[i].key);
		free(kvs[i].value);
	}
	free(kvs);
}

int loom_etcd_parse_range(const json_t *resp, struct loom_kv **kvs, size_t *n, int64_t *rev,
			  struct loom_err *err)
{
	const json_t *arr = json_object_get(resp, "kvs");
	struct loom_kv *out = NULL;
	size_t i, cnt;

	if (loom_etcd_header_revision(resp, rev, err) < 0)
		return -1;
	if (arr && !json_is_array(arr))
		return loom_err_set(err, LOOM_ERR_STORE, "etcd answered a range whose kvs is %s",
				    kind(arr));
	cnt = arr ? json_array_size(arr) : 0;
	if (cnt) {
		out = calloc(cnt, sizeof(*out));
		if (!out)
			return loom_err_errno(err, LOOM_ERR_INTERNAL, ENOMEM, "out of memory");
	}
	for (i = 0; i < cnt; i++) {
		if (loom_etcd_parse_kv(json_array_get(arr, i), &out[i], err) < 0) {
			kvs_free(out, i);
			loom_err_prefix(err, "range");
			return -1;
		}
	}
	*kvs = out;
	*n = cnt;
	return 0;
}

void loom_etcd_watch_msg_clear(struct loom_etcd_watch_msg *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n_events; i++) {
		free(m->events[i].kv.key);
		free(m->events[i].kv.value);
	}
	free(m->events);
	memset(m, 0, sizeof(*m));
}

static int parse_event(const json_t *e, struct loom_event *ev, struct loom_err *err)
{
	const json_t *t = json_object_get(e, "type");

	if (!json_is_object(e))
		return loom_err_set(err, LOOM_ERR_STORE, "etcd watch event is %s", kind(e));
	/* PUT is the enum's zero value and so is omitted */
	if (!t || (json_is_string(t) && !strcmp(json_string_value(t), "PUT")) ||
	    (json_is_integer(t) && json_integer_value(t) == 0))
		ev->type = LOOM_EV_PUT;
	else if ((json_is_string(t) && !strcmp(json_string_value(t), "DELETE")) ||
		 (json_is_integer(t) && json_integer_value(t) == 1))
		ev->type = LOOM_EV_DELETE;
	else
		return loom_err_set(err, LOOM_ERR_STORE, "etcd watch event has an unknown type");
	if (loom_etcd_parse_kv(json_object_get(e, "kv"), &ev->kv, err) < 0)
		return -1;
	if (ev->kv.mod_revision <= 0) {
		free(ev->kv.key);
		free(ev->kv.value);
		return loom_err_set(err, LOOM_ERR_STORE, "etcd watch event without a mod_revision");
	}
	return 0;
}

static int parse_result(const json_t *r, struct loom_etcd_watch_msg *m, struct loom_err *err)
{
	const json_t *h = json_object_get(r, "header"), *evs, *b, *reason;
	size_t i, cnt;

	if (!json_is_object(r))
		return loom_err_set(err, LOOM_ERR_STORE, "etcd watch result is %s", kind(r));
	if (h && !json_is_object(h))
		return loom_err_set(err, LOOM_ERR_STORE, "etcd watch header is %s", kind(h));
	if (h && member_rev(h, "revision", &m->revision, "watch header", err) < 0)
		return -1;
	if (member_rev(r, "compact_revision", &m->compact_revision, "watch response", err) < 0)
		return -1;
	b = json_object_get(r, "created");
	if (b && !json_is_boolean(b))
		return loom_err_set(err, LOOM_ERR_STORE, "etcd watch: created is not a boolean");
	m->created = json_is_true(b);
	b = json_object_get(r, "canceled");
	if (b && !json_is_boolean(b))
		return loom_err_set(err, LOOM_ERR_STORE, "etcd watch: canceled is not a boolean");
	m->canceled = json_is_true(b);
	reason = json_object_get(r, "cancel_reason");
	if (json_is_string(reason))
		snprintf(m->cancel_reason, sizeof(m->cancel_reason), "%s",
			 json_string_value(reason));
	evs = json_object_get(r, "events");
	if (evs && !json_is_array(evs))
		return loom_err_set(err, LOOM_ERR_STORE, "etcd watch: events is %s", kind(evs));
	cnt = evs ? json_array_size(evs) : 0;
	if (!cnt)
		return 0;
	m->events = calloc(cnt, sizeof(*m->events));
	if (!m->events)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, ENOMEM, "out of memory");
	for (i = 0; i < cnt; i++) {
		if (parse_event(json_array_get(evs, i), &m->events[i], err) < 0)
			return -1;
		m->n_events++;
		/* etcd sends a response's events in revision order; resume and
		 * dedupe depend on it, so refuse anything else */
		if (i && m->events[i].kv.mod_revision < m->events[i - 1].kv.mod_revision)
			return loom_err_set(err, LOOM_ERR_STORE,
					    "etcd watch events out of revision order");
	}
	return 0;
}

int loom_etcd_parse_watch_line(const char *line, size_t len, struct loom_etcd_watch_msg *m,
			       struct loom_err *err)
{
	json_error_t je;
	json_t *j;
	int r;

	memset(m, 0, sizeof(*m));
	if (len > LOOM_ETCD_RESPONSE_MAX)
		return loom_err_set(err, LOOM_ERR_STORE, "etcd watch line over %u bytes",
				    LOOM_ETCD_RESPONSE_MAX);
	j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return loom_err_set(err, LOOM_ERR_STORE, "etcd watch stream sent invalid JSON: %s",
				    je.text);
	if (!json_is_object(j)) {
		r = loom_err_set(err, LOOM_ERR_STORE, "etcd watch stream sent %s, not an object",
				 kind(j));
	} else if (json_object_get(j, "error")) {
		const json_t *e = json_object_get(j, "error");
		const json_t *msg = json_is_object(e) ? json_object_get(e, "message") : e;

		r = loom_err_set(err, LOOM_ERR_STORE, "etcd watch stream failed: %.400s",
				 json_is_string(msg) ? json_string_value(msg) : "unknown error");
	} else {
		r = parse_result(json_object_get(j, "result"), m, err);
	}
	json_decref(j);
	if (r < 0)
		loom_etcd_watch_msg_clear(m);
	return r < 0 ? -1 : 0;
}
