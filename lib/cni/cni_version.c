/* Spec version and command names: enum <-> string tables. */
#include "cni/cni.h"

#include <errno.h>
#include <string.h>

static const char *const version_names[LOOM_CNI_VERSION_COUNT] = {
	[LOOM_CNI_V030] = "0.3.0", [LOOM_CNI_V031] = "0.3.1", [LOOM_CNI_V040] = "0.4.0",
	[LOOM_CNI_V100] = "1.0.0", [LOOM_CNI_V110] = "1.1.0",
};

static const char *const cmd_names[] = {
	[LOOM_CMD_ADD] = "ADD",         [LOOM_CMD_DEL] = "DEL", [LOOM_CMD_CHECK] = "CHECK",
	[LOOM_CMD_VERSION] = "VERSION", [LOOM_CMD_GC] = "GC",   [LOOM_CMD_STATUS] = "STATUS",
};

#define N_CMDS (sizeof(cmd_names) / sizeof(cmd_names[0]))

/* The index of s in names[0..n), or -1 (s NULL or not there). */
static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (names[i] && strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

/* names[i], or NULL past the table. */
static const char *name_at(const char *const *names, size_t n, unsigned i)
{
	return i < n ? names[i] : NULL;
}

int loom_cni_version_parse(const char *s, enum loom_cni_version *out)
{
	int i = name_index(version_names, LOOM_CNI_VERSION_COUNT, s);

	if (i >= 0 && out)
		*out = (enum loom_cni_version)i;
	return i < 0 ? -EINVAL : 0;
}

const char *loom_cni_version_str(enum loom_cni_version v)
{
	return name_at(version_names, LOOM_CNI_VERSION_COUNT, (unsigned)v);
}

const char *loom_cni_cmd_str(enum loom_cni_cmd c)
{
	return name_at(cmd_names, N_CMDS, (unsigned)c);
}

/* The spec names commands in upper case and runtimes send them so;
 * "add" is not a command. */
int loom_cni_cmd_parse(const char *s, enum loom_cni_cmd *out)
{
	int i = name_index(cmd_names, N_CMDS, s);

	if (i >= 0 && out)
		*out = (enum loom_cni_cmd)i;
	return i < 0 ? -EINVAL : 0;
}
