/* Fuzz the CNI_ARGS parser: any string either parses into bounded pairs
 * that loom_cni_args_get finds again, or fails with a message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni/cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const known[] = { "IP", "MAC", NULL };
	struct loom_cni_args a;
	struct loom_err err;
	char *s = malloc(size + 1);
	size_t i;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (loom_cni_args_parse(s, known, &a, &err) == 0) {
		if (a.n > LOOM_CNI_ARGS_MAX)
			abort();
		for (i = 0; i < a.n; i++) {
			const char *v = loom_cni_args_get(&a, a.kv[i].key);

			if (!v || strlen(a.kv[i].key) >= LOOM_CNI_ARG_MAX ||
			    strchr(a.kv[i].key, ';') || strcmp(v, a.kv[i].value) != 0)
				abort();
		}
	} else if (err.code != LOOM_ERR_INVALID_ENV || !strstr(err.msg, "CNI_ARGS")) {
		abort();
	}
	free(s);
	return 0;
}
