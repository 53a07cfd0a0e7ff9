/* The node's lease file, <run dir>/<network>.env: what the plugins read to
 * know the cluster CIDR, the node's block and the MTU.  It is also loomd's
 * own memory of the block it held, read back at start.
 *
 * Replaced atomically (base/file_replace.h: temp + fsync + rename +
 * fsync(dir)) so a plugin reading it during an update sees the old or the
 * new file, and a crash leaves one of them.  Rewritten only when the text
 * changes. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file_replace.h"
#include "pod/leasefile.h"

int loomd_leasefile_format(const struct loomd_lease_info *li, char *buf, size_t len)
{
	char net[LOOM_PREFIX_STRLEN], sub[LOOM_PREFIX_STRLEN];
	char net6[LOOM_PREFIX_STRLEN], sub6[LOOM_PREFIX_STRLEN];
	int n;

	loom_prefix_fmt(&li->net->cidr, net);
	loom_prefix_fmt(&li->subnet, sub);
	if (li->has_subnet6) {
		loom_prefix_fmt(&li->net->cidr6, net6);
		loom_prefix_fmt(&li->subnet6, sub6);
		n = snprintf(buf, len,
			     "LOOM_NETWORK=%s\nLOOM_SUBNET=%s\nLOOM_IPV6_NETWORK=%s\n"
			     "LOOM_IPV6_SUBNET=%s\nLOOM_MTU=%u\nLOOM_IPMASQ=%s\n",
			     net, sub, net6, sub6, li->mtu, li->ipmasq ? "true" : "false");
	} else {
		n = snprintf(buf, len,
			     "LOOM_NETWORK=%s\nLOOM_SUBNET=%s\nLOOM_MTU=%u\nLOOM_IPMASQ=%s\n", net,
			     sub, li->mtu, li->ipmasq ? "true" : "false");
	}
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* The reading side lives in lib/pod/leasefile.c, shared with loom-vxlan. */
int loomd_leasefile_get_prefix(const char *text, const char *var, struct loom_prefix *out)
{
	return loom_leasefile_get_prefix(text, var, out);
}

int loomd_leasefile_path(const char *run_dir, const char *network, char *buf, size_t len)
{
	return loom_leasefile_path(run_dir, network, buf, len);
}

int loomd_leasefile_read(const char *path, char **out)
{
	return loom_leasefile_read(path, out);
}

int loomd_leasefile_write(const char *run_dir, const char *network, const char *text,
			  struct loom_err *err)
{
	char path[PATH_MAX], name[LOOMD_NAME_MAX + 8];
	_cleanup_free_ char *old = NULL;
	int e;

	if (loomd_leasefile_path(run_dir, network, path, sizeof(path)) < 0)
		return loom_err_set(err, LOOM_ERR_IO,
				    "--run-dir %s makes the lease file's path too long", run_dir);
	if (loomd_leasefile_read(path, &old) == 0 && strcmp(old, text) == 0)
		return 0;
	e = loom_mkdir_p(run_dir, 0755);
	if (e < 0)
		return loom_err_errno(err, LOOM_ERR_IO, -e, "cannot create the run dir %s",
				      run_dir);
	snprintf(name, sizeof(name), "%s.env", network);
	e = loom_file_replace(run_dir, name, text, strlen(text), 0644);
	if (e < 0)
		return loom_err_errno(err, LOOM_ERR_IO, -e, "cannot write %s", path);
	return 1;
}
