/* The CNI_* environment: which variables each command needs, and the
 * checks on container IDs, interface names and network names.
 *
 * Follows the reference skel: an empty variable counts as missing; a
 * variable a command does not need is neither required nor validated (DEL
 * may come without CNI_NETNS when the runtime already lost the netns). */
#include "cni/cni.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Container IDs and network names end up in file names (the IPAM store, the
 * endpoint records), so they are bounded by NAME_MAX as well as by charset. */
#define NAME_LEN_MAX 255

enum env_var {
	VAR_CONTAINERID,
	VAR_NETNS,
	VAR_IFNAME,
	VAR_PATH,
	VAR_COUNT
};

static const char *const var_names[VAR_COUNT] = {
	[VAR_CONTAINERID] = "CNI_CONTAINERID",
	[VAR_NETNS] = "CNI_NETNS",
	[VAR_IFNAME] = "CNI_IFNAME",
	[VAR_PATH] = "CNI_PATH",
};

/* required[cmd] is a bit set of enum env_var. */
#define V(x) (1u << (x))
static const unsigned required[LOOM_CMD_STATUS + 1] = {
	[LOOM_CMD_ADD] = V(VAR_CONTAINERID) | V(VAR_NETNS) | V(VAR_IFNAME) | V(VAR_PATH),
	[LOOM_CMD_CHECK] = V(VAR_CONTAINERID) | V(VAR_NETNS) | V(VAR_IFNAME) | V(VAR_PATH),
	[LOOM_CMD_DEL] = V(VAR_CONTAINERID) | V(VAR_IFNAME) | V(VAR_PATH),
	[LOOM_CMD_GC] = V(VAR_PATH),
	[LOOM_CMD_STATUS] = V(VAR_PATH),
	[LOOM_CMD_VERSION] = 0,
};
/* Optional for the command but passed on when set. */
static const unsigned optional[LOOM_CMD_STATUS + 1] = {
	[LOOM_CMD_DEL] = V(VAR_NETNS),
	[LOOM_CMD_VERSION] = V(VAR_PATH),
};
#undef V

static bool id_char(unsigned char c, bool first)
{
	if (isascii(c) && isalnum(c))
		return true;
	return !first && (c == '_' || c == '.' || c == '-');
}

/* [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most NAME_LEN_MAX bytes.  `what` names the
 * thing in the message ("container ID", "network name"). */
static int check_id(const char *s, const char *what, int code, struct loom_err *err)
{
	size_t i, len;

	if (!s || !s[0])
		return loom_err_set(err, code, "%s is empty", what);
	len = strlen(s);
	if (len > NAME_LEN_MAX)
		return loom_err_set(err, code, "%s \"%.32s...\" is longer than %d bytes", what, s,
				    NAME_LEN_MAX);
	if (!id_char((unsigned char)s[0], true))
		return loom_err_set(err, code, "%s \"%.100s\" must start with a letter or a digit",
				    what, s);
	for (i = 1; i < len; i++) {
		if (!id_char((unsigned char)s[i], false))
			return loom_err_set(err, code,
					    "%s \"%.100s\" contains characters other than letters, "
					    "digits, '_', '.', '-'",
					    what, s);
	}
	return 0;
}

int loom_cni_validate_container_id(const char *id, struct loom_err *err)
{
	return check_id(id, "container ID", LOOM_ERR_INVALID_ENV, err);
}

int loom_cni_validate_network_name(const char *name, struct loom_err *err)
{
	return check_id(name, "network name", LOOM_ERR_INVALID_CONFIG, err);
}

/* The kernel's dev_valid_name(): the name becomes a sysfs directory, so no
 * '/', no "." or "..", and ':' is reserved for old-style alias labels. */
int loom_cni_validate_ifname(const char *ifname, struct loom_err *err)
{
	const unsigned char *p;

	if (!ifname || !ifname[0])
		return loom_err_set(err, LOOM_ERR_INVALID_ENV, "interface name is empty");
	if (strlen(ifname) > IFNAMSIZ - 1)
		return loom_err_set(err, LOOM_ERR_INVALID_ENV,
				    "interface name \"%.64s\" is longer than %d bytes", ifname,
				    IFNAMSIZ - 1);
	if (strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0)
		return loom_err_set(err, LOOM_ERR_INVALID_ENV,
				    "interface name \"%s\" is not allowed", ifname);
	for (p = (const unsigned char *)ifname; *p; p++) {
		if (*p == '/' || *p == ':' || isspace(*p))
			return loom_err_set(err, LOOM_ERR_INVALID_ENV,
					    "interface name \"%s\" contains '/', ':' or whitespace",
					    ifname);
	}
	return 0;
}

static const char *env_get(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

int loom_cni_env_read(struct loom_cni_env *env, struct loom_err *err)
{
	const char *vals[VAR_COUNT];
	const char *cmd = env_get("CNI_COMMAND");
	char missing[128] = "";
	unsigned need, n_missing = 0;
	int i;

	memset(env, 0, sizeof(*env));
	if (!cmd)
		return loom_err_set(err, LOOM_ERR_INVALID_ENV,
				    "CNI_COMMAND is required (one of ADD, DEL, CHECK, GC, STATUS, "
				    "VERSION)");
	if (loom_cni_cmd_parse(cmd, &env->cmd) < 0)
		return loom_err_set(
			err, LOOM_ERR_INVALID_ENV,
			"unknown CNI_COMMAND: %.64s (expected one of ADD, DEL, CHECK, GC, "
			"STATUS, VERSION)",
			cmd);

	/* Name every missing variable at once: a runtime author fixes them in
	 * one round instead of one per attempt. */
	need = required[env->cmd];
	for (i = 0; i < VAR_COUNT; i++) {
		vals[i] = env_get(var_names[i]);
		if ((need & (1u << i)) && !vals[i]) {
			size_t used = strlen(missing);

			snprintf(missing + used, sizeof(missing) - used, "%s%s",
				 n_missing ? ", " : "", var_names[i]);
			n_missing++;
		}
		if (!((need | optional[env->cmd]) & (1u << i)))
			vals[i] = NULL;
	}
	if (n_missing)
		return loom_err_set(err, LOOM_ERR_INVALID_ENV, "%s %s required for %s", missing,
				    n_missing == 1 ? "is" : "are", cmd);

	if (vals[VAR_CONTAINERID] &&
	    loom_cni_validate_container_id(vals[VAR_CONTAINERID], err) < 0) {
		loom_err_prefix(err, "CNI_CONTAINERID");
		return -1;
	}
	if (vals[VAR_IFNAME] && loom_cni_validate_ifname(vals[VAR_IFNAME], err) < 0) {
		loom_err_prefix(err, "CNI_IFNAME");
		return -1;
	}

	env->container_id = vals[VAR_CONTAINERID];
	env->netns = vals[VAR_NETNS];
	env->ifname = vals[VAR_IFNAME];
	env->path = vals[VAR_PATH];
	env->args = env_get("CNI_ARGS");
	return 0;
}
