/* Test tool: `store_put KEY FILE|-` writes FILE's bytes as KEY's value,
 * `store_put -d KEY` deletes KEY, `store_put --expire KEY` revokes the lease
 * KEY is attached to (its keys go at once, as when the lease's TTL passes:
 * a test makes that step explicit instead of racing the TTL).  The store
 * is $LOOM_STORE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = malloc(LOOM_STORE_VALUE_MAX + 1);
	size_t n;

	if (!f || !buf) {
		free(buf);
		if (f && f != stdin)
			fclose(f);
		return NULL;
	}
	n = fread(buf, 1, LOOM_STORE_VALUE_MAX, f);
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	const char *url = getenv("LOOM_STORE");
	struct loom_store *s = NULL;
	struct loom_err err = { 0 };
	char *val;
	size_t len = 0;
	int r;

	if (argc != 3 || !url) {
		fprintf(stderr,
			"usage: LOOM_STORE=URL store_put KEY FILE|- | store_put -d KEY | store_put --expire KEY\n");
		return 2;
	}
	if (loom_store_open(url, &s, &err) < 0) {
		fprintf(stderr, "store_put: %s\n", err.msg);
		return 1;
	}
	if (strcmp(argv[1], "-d") == 0) {
		r = loom_store_delete(s, argv[2], NULL, &err);
	} else if (strcmp(argv[1], "--expire") == 0) {
		struct loom_kv kv = { 0 };

		r = loom_store_get(s, argv[2], &kv, &err);
		if (r == 0 || (r > 0 && kv.lease == 0)) {
			loom_err_set(&err, LOOM_ERR_NOT_FOUND,
				     "%s: no such key, or it has no lease", argv[2]);
			r = -1;
		} else if (r > 0) {
			r = loom_store_lease_revoke(s, kv.lease, &err);
		}
		loom_kv_clear(&kv);
	} else {
		val = slurp(argv[2], &len);
		if (!val) {
			perror(argv[2]);
			loom_store_close(s);
			return 1;
		}
		r = loom_store_put(s, argv[1], val, len, 0, NULL, &err);
		free(val);
	}
	if (r < 0)
		fprintf(stderr, "store_put: %s %s\n", err.msg, err.details);
	loom_store_close(s);
	return r < 0 ? 1 : 0;
}
