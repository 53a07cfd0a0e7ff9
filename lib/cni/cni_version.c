/* Spec version and command names: enum <-> string tables. */
#include "cni/cni.h"

#include <errno.h>
#include <string.h>

static const char *const version_names[LOOM_CNI_VERSION_COUNT] = {
	[LOOM_CNI_V030] = "0.3.0",
	[LOOM_CNI_V031] = "0.3.1",
	[LOOM_CNI_V040] = "0.4.0",
	[LOOM_CNI_V100] = "1.0.0",
	[LOOM_CNI_V110] = "1.1.0",
};

static const char *const cmd_names[] = {
	[LOOM_CMD_ADD] = "ADD",
	[LOOM_CMD_DEL] = "DEL",
	[LOOM_CMD_CHECK] = "CHECK",
	[LOOM_CMD_VERSION] = "VERSION",
	[LOOM_CMD_GC] = "GC",
	[LOOM_CMD_STATUS] = "STATUS",
};

#define N_CMDS (sizeof(cmd_names) / sizeof(cmd_names[0]))

int loom_cni_version_parse(const char *s, enum loom_cni_version *out)
{
	int i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < LOOM_CNI_VERSION_COUNT; i++) {
		if (strcmp(s, version_names[i]) == 0) {
			if (out)
				*out = (enum loom_cni_version)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *loom_cni_version_str(enum loom_cni_version v)
{
	if ((unsigned)v >= LOOM_CNI_VERSION_COUNT)
		return NULL;
	return version_names[v];
}

/* The spec names commands in upper case and runtimes send them so;
 * "add" is not a command. */
int loom_cni_cmd_parse(const char *s, enum loom_cni_cmd *out)
{
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < N_CMDS; i++) {
		if (strcmp(s, cmd_names[i]) == 0) {
			if (out)
				*out = (enum loom_cni_cmd)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *loom_cni_cmd_str(enum loom_cni_cmd c)
{
	if ((unsigned)c >= N_CMDS)
		return NULL;
	return cmd_names[c];
}
