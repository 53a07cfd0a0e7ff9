/* Fuzz the etcd wire parsers (lib/store/etcd_json.h) with what a hostile or
 * broken server could send: a watch-stream line, and a unary answer read
 * as a range.  Either parses into bounded, well-formed key-values or fails
 * with a LOOM_ERR_STORE / LOOM_ERR_NOT_FOUND message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_kv(const struct loom_kv *kv)
{
	size_t klen = strlen(kv->key);

	if (klen == 0 || klen > LOOM_STORE_KEY_MAX || kv->value_len > LOOM_STORE_VALUE_MAX ||
	    kv->value[kv->value_len] != '\0' || kv->mod_revision < 0 || kv->create_revision < 0 ||
	    kv->lease < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loom_etcd_watch_msg m;
	struct loom_err err;
	json_t *resp = NULL;
	size_t i;

	if (loom_etcd_parse_watch_line((const char *)data, size, &m, &err) == 0) {
		for (i = 0; i < m.n_events; i++) {
			check_kv(&m.events[i].kv);
			if (m.events[i].kv.mod_revision <= 0 ||
			    (i && m.events[i].kv.mod_revision < m.events[i - 1].kv.mod_revision))
				abort();
		}
		loom_etcd_watch_msg_clear(&m);
	} else if (err.code != LOOM_ERR_STORE && err.code != LOOM_ERR_INTERNAL) {
		abort();
	}
	if (loom_etcd_parse_response((const char *)data, size, &resp, &err) == 0) {
		struct loom_kv *kvs = NULL;
		size_t n = 0;
		int64_t rev;

		if (loom_etcd_parse_range(resp, &kvs, &n, &rev, &err) == 0) {
			if (rev <= 0)
				abort();
			for (i = 0; i < n; i++)
				check_kv(&kvs[i]);
			loom_kvs_free(kvs, n);
		}
		json_decref(resp);
	} else if (err.code != LOOM_ERR_STORE && err.code != LOOM_ERR_NOT_FOUND) {
		abort();
	}
	/* base64 round trip */
	char *enc = loom_etcd_b64_encode(data, size), *dec = NULL;
	size_t dlen;

	if (enc) {
		if (loom_etcd_b64_decode(enc, strlen(enc), &dec, &dlen) != 0 || dlen != size ||
		    memcmp(dec, data, size) != 0)
			abort();
		free(dec);
		free(enc);
	}
	return 0;
}
