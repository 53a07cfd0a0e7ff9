/* The node's CNI network configuration list, <dir>/10-loom.conflist, as
 * loomd writes it once the node's lease is held (`--write-conflist DIR`):
 * loom's mode plugin (it reads the lease file loomd keeps) chained with
 * the reference portmap plugin and its portMappings capability, as
 * flannel's and Calico's conflists do.  The "10-" prefix sorts it before
 * most others, the way runtimes pick the first conflist of the folder.
 *
 * conflist.c owns that file only: it is replaced atomically (temp file in
 * the same folder + fsync + rename), rewritten only when its text changes,
 * and nothing else in the folder is read or touched.  Pure formatting and
 * a file write (no store, no kernel), and loomd's step that calls them. */
#ifndef LOOMD_CONFLIST_H
#define LOOMD_CONFLIST_H

#include "daemon.h"

#define LOOMD_CONFLIST_NAME "10-loom.conflist"
#define LOOMD_CONFLIST_CNI_VERSION "1.0.0"

/* The CNI plugin a node of this mode runs for its pods: the mode table's
 * node_cni (loom-vxlan for vxlan, and for bridge: a bridge on the node's
 * leased block, routes left to the user; loom-bgp for bgp). */
const char *loomd_conflist_plugin(const struct loom_mode *m);

/* The conflist's text (pretty JSON, newline-terminated) for `network`.
 * run_dir/state_dir are written into the plugin's entry only when they
 * differ from the plugins' defaults (/run/loom, /run/loom/endpoints), so
 * plugin and loomd agree on where the lease file and records live.
 * malloc()ed, NULL on ENOMEM. */
char *loomd_conflist_format(const char *network, const struct loom_mode *m, const char *run_dir,
			    const char *state_dir);

/* Replace <dir>/10-loom.conflist with `text`, creating dir (mode 0755,
 * not its parents) when missing.  1 written, 0 already that text, -1 with err
 * (LOOM_ERR_IO naming the path). */
int loomd_conflist_write(const char *dir, const char *text, struct loom_err *err);

/* loomd's step after each registration: with --write-conflist DIR, make
 * DIR/10-loom.conflist match the Network's mode (logs when it writes).
 * 0 (also without the option), or -1 with err. */
int loomd_conflist_sync(const struct loomd *d, struct loom_err *err);

#endif
