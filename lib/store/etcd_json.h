/* The wire format of etcd's v3 JSON gateway (grpc-gateway over rpc.proto):
 * keys and values are base64, int64 fields arrive as JSON strings, fields
 * holding their protobuf default are omitted.  Everything here parses
 * untrusted bytes from the network: every type, size and encoding is
 * checked, and a malformed answer is an error, never a crash.  Exposed
 * (rather than static in store_etcd.c) for the unit tests and the fuzzer. */
#ifndef LOOM_ETCD_JSON_H
#define LOOM_ETCD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "store/store.h"

/* Largest response body or watch line accepted: a list of many keys of up
 * to LOOM_STORE_VALUE_MAX each, base64-inflated. */
#define LOOM_ETCD_RESPONSE_MAX (64u * 1024 * 1024)

/* Standard base64 with padding.  encode: malloc'd NUL-terminated string or
 * NULL (ENOMEM).  decode: 0 and a malloc'd, NUL-terminated buffer (the
 * data may hold NULs) or -EINVAL (not base64) / -ENOMEM. */
char *loom_etcd_b64_encode(const void *data, size_t len);
int loom_etcd_b64_decode(const char *in, size_t inlen, char **out, size_t *outlen);

/* An int64 as protobuf's JSON mapping writes it: a decimal string or a
 * number.  NULL (the field was omitted: default 0) gives 0.  -1 on any
 * other type, junk or overflow. */
int loom_etcd_int64(const json_t *j, int64_t *out);

/* Parse a unary gateway answer: a JSON object that is not an error.  An
 * error body ({"error": "...", "code": N}) gives -1 with err->code
 * LOOM_ERR_NOT_FOUND for gRPC NotFound (5), LOOM_ERR_STORE otherwise; *out
 * is a new reference on success. */
int loom_etcd_parse_response(const char *buf, size_t len, json_t **out, struct loom_err *err);

/* header.revision of a response (must be present and > 0). */
int loom_etcd_header_revision(const json_t *resp, int64_t *rev, struct loom_err *err);

/* One mvccpb.KeyValue: key (1..LOOM_STORE_KEY_MAX bytes, no NUL), value
 * (<= LOOM_STORE_VALUE_MAX), revisions >= 0.  `kv` is filled (owned) only
 * on success. */
int loom_etcd_parse_kv(const json_t *o, struct loom_kv *kv, struct loom_err *err);

/* A RangeResponse: kvs (sorted as etcd sends them) and header.revision. */
int loom_etcd_parse_range(const json_t *resp, struct loom_kv **kvs, size_t *n, int64_t *rev,
			  struct loom_err *err);

/* One line of the /v3/watch stream: {"result": WatchResponse} or
 * {"error": {...}} (the stream failed: -1, err says why). */
struct loom_etcd_watch_msg {
	int64_t revision;         /* header.revision; 0 when absent */
	int64_t compact_revision; /* > 0: history before it is gone, watch canceled */
	bool created;
	bool canceled;
	char cancel_reason[128];
	struct loom_event *events; /* owned, n_events of them */
	size_t n_events;
};
int loom_etcd_parse_watch_line(const char *line, size_t len, struct loom_etcd_watch_msg *m,
			       struct loom_err *err);
void loom_etcd_watch_msg_clear(struct loom_etcd_watch_msg *m); /* NULL-safe */

#endif
