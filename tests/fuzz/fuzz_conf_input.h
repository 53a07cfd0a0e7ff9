/* The config fuzzers' input: a network config, optionally followed by a
 * NUL byte and a CNI_ARGS string.  Test code only.
 *
 *   fuzz_conf_open(data, size, known, &in)  copies and parses both (CNI_ARGS
 *       against the `known` keys): 0 with in.nc and in.args ready, -1 when
 *       either does not parse (nothing to free then)
 *   fuzz_conf_close(&in) */
#ifndef LOOM_FUZZ_CONF_INPUT_H
#define LOOM_FUZZ_CONF_INPUT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cni/cni.h"

struct fuzz_conf_input {
	char *buf;
	struct loom_cni_args args;
	struct loom_netconf nc;
	struct loom_err err;
};

static inline int fuzz_conf_open(const uint8_t *data, size_t size, const char *const *known,
				 struct fuzz_conf_input *in)
{
	const char *env = NULL;
	size_t len = size;

	memset(in, 0, sizeof(*in));
	in->buf = malloc(size + 1);
	if (!in->buf)
		return -1;
	memcpy(in->buf, data, size);
	in->buf[size] = '\0';
	if (memchr(data, '\0', size)) {
		len = strlen(in->buf);
		env = in->buf + len + 1;
	}
	if ((env && loom_cni_args_parse(env, known, &in->args, &in->err) < 0) ||
	    loom_netconf_parse(in->buf, len, LOOM_CMD_ADD, &in->nc, &in->err) < 0) {
		free(in->buf);
		return -1;
	}
	return 0;
}

static inline void fuzz_conf_close(struct fuzz_conf_input *in)
{
	loom_netconf_free(&in->nc);
	free(in->buf);
}

#endif
