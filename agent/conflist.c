/* The node's conflist (conflist.h). */
#include "conflist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/file_replace.h"

const char *loomd_conflist_plugin(const struct loom_mode *m)
{
	return m->node_cni;
}

char *loomd_conflist_format(const char *network, const struct loom_mode *m, const char *run_dir,
			    const char *state_dir)
{
	json_t *mode = NULL, *portmap = NULL, *root = NULL;
	char *text = NULL, *out = NULL;
	int e = 0;

	mode = json_pack("{s:s}", "type", loomd_conflist_plugin(m));
	/* portmap after the mode plugin: it reads the pod's address from the
	 * prevResult loom's plugin hands down the chain. */
	portmap = json_pack("{s:s, s:{s:b}}", "type", "portmap", "capabilities", "portMappings", 1);
	if (!mode || !portmap)
		goto out;
	if (run_dir && strcmp(run_dir, LOOMD_DEFAULT_RUN_DIR) != 0)
		e |= json_object_set_new(mode, "runDir", json_string(run_dir));
	if (state_dir && strcmp(state_dir, LOOMD_DEFAULT_STATE_DIR) != 0)
		e |= json_object_set_new(mode, "stateDir", json_string(state_dir));
	if (e)
		goto out;
	root = json_pack("{s:s, s:s, s:[O, O]}", "cniVersion", LOOMD_CONFLIST_CNI_VERSION, "name",
			 network, "plugins", mode, portmap);
	if (!root)
		goto out;
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text && asprintf(&out, "%s\n", text) < 0)
		out = NULL;
out:
	free(text);
	json_decref(root);
	json_decref(mode);
	json_decref(portmap);
	return out;
}

int loomd_conflist_write(const char *dir, const char *text, struct loom_err *err)
{
	char path[PATH_MAX];
	size_t len = strlen(text);
	int e;

	if (snprintf(path, sizeof(path), "%s/%s", dir, LOOMD_CONFLIST_NAME) >= (int)sizeof(path))
		return loom_err_set(err, LOOM_ERR_IO, "--write-conflist %s: path too long", dir);
	if (loom_file_same(path, text, len))
		return 0;
	/* The folder itself only: its parent (/etc/cni) is the runtime's. */
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return loom_err_errno(err, LOOM_ERR_IO, errno, "cannot create %s", dir);
	/* The temp file (".10-loom.conflist.XXXXXX") does not end in .conf,
	 * .conflist or .json: a runtime reading the folder meanwhile does not
	 * take it for a network. */
	e = loom_file_replace(dir, LOOMD_CONFLIST_NAME, text, len, 0644);
	if (e < 0)
		return loom_err_errno(err, LOOM_ERR_IO, -e, "cannot write %s", path);
	return 1;
}

int loomd_conflist_sync(const struct loomd *d, struct loom_err *err)
{
	_cleanup_free_ char *text = NULL;
	int r;

	if (!d->cfg.conflist_dir[0])
		return 0;
	text = loomd_conflist_format(d->cfg.network, d->net.mode, d->cfg.run_dir, d->cfg.state_dir);
	if (!text)
		return loom_err_set(err, LOOM_ERR_INTERNAL,
				    "out of memory formatting the conflist");
	r = loomd_conflist_write(d->cfg.conflist_dir, text, err);
	if (r > 0)
		loomd_log("wrote %s/%s (%s, portmap)", d->cfg.conflist_dir, LOOMD_CONFLIST_NAME,
			  loomd_conflist_plugin(d->net.mode));
	return r < 0 ? -1 : 0;
}
