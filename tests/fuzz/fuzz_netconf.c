/* Fuzz the network config parser for every command; whatever parses must
 * encode its prevResult back in every version without tripping a
 * sanitizer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cni/cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum loom_cni_cmd cmds[] = {
		LOOM_CMD_ADD,     LOOM_CMD_DEL, LOOM_CMD_CHECK,
		LOOM_CMD_VERSION, LOOM_CMD_GC,  LOOM_CMD_STATUS,
	};
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct loom_netconf c;
		struct loom_err err;
		int v;

		if (loom_netconf_parse((const char *)data, size, cmds[i], &c, &err) < 0) {
			if (err.code == LOOM_OK || !err.msg[0])
				abort(); /* every failure must say why */
			continue;
		}
		if (c.n_valid_attachments > LOOM_MAX_ATTACHMENTS)
			abort();
		if (c.has_prev_result) {
			for (v = 0; v < LOOM_CNI_VERSION_COUNT; v++) {
				json_t *j = loom_result_to_json(&c.prev_result,
								(enum loom_cni_version)v);
				char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

				free(s);
				json_decref(j);
			}
		}
		loom_netconf_free(&c);
	}
	return 0;
}
