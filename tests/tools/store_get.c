/* Test helper: `store_get KEY` prints KEY's value (exit 1 when absent);
 * `store_get -p PREFIX` prints "KEY VALUE" per line for every key under
 * PREFIX.  The store is $LOOM_STORE; exit 3 when it does not answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int main(int argc, char **argv)
{
	const char *url = getenv("LOOM_STORE");
	struct loom_store *s = NULL;
	struct loom_err err = { 0 };
	struct loom_kv kv = { 0 }, *kvs = NULL;
	size_t n = 0, i;
	int r;

	if (!url || !(argc == 2 || (argc == 3 && strcmp(argv[1], "-p") == 0))) {
		fprintf(stderr, "usage: LOOM_STORE=URL store_get KEY | store_get -p PREFIX\n");
		return 2;
	}
	if (loom_store_open(url, &s, &err) < 0) {
		fprintf(stderr, "store_get: %s\n", err.msg);
		return 3;
	}
	if (argc == 3) {
		r = loom_store_list(s, argv[2], &kvs, &n, NULL, &err);
		for (i = 0; r == 0 && i < n; i++)
			printf("%s %s\n", kvs[i].key, kvs[i].value);
		loom_kvs_free(kvs, n);
	} else {
		r = loom_store_get(s, argv[1], &kv, &err);
		if (r == 1)
			printf("%s\n", kv.value);
		loom_kv_clear(&kv);
	}
	if (r < 0)
		fprintf(stderr, "store_get: %s %s\n", err.msg, err.details);
	loom_store_close(s);
	return r < 0 ? 3 : r == 0 && argc == 2 ? 1 : 0;
}
