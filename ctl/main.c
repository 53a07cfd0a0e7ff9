/* loomctl: the user's CLI for loom's cluster datastore, shaped like kubectl.
 *
 *   loomctl [--store URL] apply -f FILE|-
 *   loomctl [--store URL] get KIND [NAME] [-n NS | -A] [-o json|yaml|wide]
 *   loomctl [--store URL] delete KIND NAME [-n NS] | delete -f FILE|-
 *   loomctl [--store URL] nodes | ipam
 *   loomctl [--store URL] status [--brief] [-o json] | diags [-o FILE]   (ctl/status.c, diags.c)
 *
 * The store URL comes from --store, else $LOOM_STORE, else the default. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "model/manifest.h"

int ctl_policy(struct ctl *c, int argc, char **argv); /* ctl/policy.c */

#define DEFAULT_STORE "file:/var/lib/loom/store"

void ctl_error(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct loom_store *ctl_store(struct ctl *c)
{
	struct loom_err err = { 0 };

	if (c->store)
		return c->store;
	if (!c->url || !c->url[0])
		c->url = DEFAULT_STORE;
	if (loom_store_open(c->url, &c->store, &err) < 0) {
		ctl_error("%s%s%s", err.msg, err.details[0] ? ": " : "", err.details);
		c->store = NULL;
	}
	return c->store;
}

int ctl_read_file(const char *path, char **buf, size_t *len, struct loom_err *err)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	size_t cap = 65536, n = 0;
	char *b;

	if (!f)
		return loom_err_errno(err, LOOM_ERR_IO, errno, "%s: cannot open", path);
	b = malloc(cap);
	while (b) {
		size_t got = fread(b + n, 1, cap - n, f);

		n += got;
		if (n > LOOM_MANIFEST_MAX_BYTES)
			break;
		if (got == 0)
			break;
		if (n == cap) {
			char *nb = realloc(b, cap * 2);

			if (!nb) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	if (f != stdin)
		fclose(f);
	if (!b)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "%s: out of memory", path);
	if (n > LOOM_MANIFEST_MAX_BYTES) {
		free(b);
		return loom_err_set(err, LOOM_ERR_IO, "%s: larger than %d bytes", path,
				    LOOM_MANIFEST_MAX_BYTES);
	}
	*buf = b;
	*len = n;
	return 0;
}

static int usage(void)
{
	fputs("usage: loomctl [--store URL] COMMAND\n"
	      "  apply -f FILE|-                               create or update objects\n"
	      "  get KIND [NAME] [-n NS|-A] [-o json|yaml|wide]  show objects\n"
	      "  delete KIND NAME [-n NS] | delete -f FILE|-     remove objects\n"
	      "  nodes [-o wide]                                node leases, BGP sessions\n"
	      "  ipam                                           address allocations per node\n"
	      "  policy status|wait [--timeout S]|explain SRC DST PORT/PROTO  NetworkPolicy in force\n"
	      "  status [--brief] [-o json]                     this node's health (exit 1 when --brief\n"
	      "                                                 finds a problem)\n"
	      "  diags [-o FILE]                                a tarball of this node's state, for bug reports\n"
	      "  (status and diags also take --node, --network, --run-dir, --state-dir, --data-dir,\n"
	      "   --cni-conf-dir, --bird-socket, --bpf-pin-dir, --metrics-address,\n"
	      "   --policyd-metrics-address; by default they follow the loomd running in this netns)\n"
	      "KIND: namespaces (ns), pods (po), networkpolicies (netpol), networks (net)\n"
	      "The store: --store, else $LOOM_STORE, else " DEFAULT_STORE "\n",
	      stderr);
	return 1;
}

int main(int argc, char **argv)
{
	struct ctl c = { .url = getenv("LOOM_STORE") };
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int n = 0, i, rc;

	if (!args)
		return 1;
	/* --store may come anywhere, like kubectl's global flags */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--store")) {
			if (++i == argc) {
				ctl_error("--store needs a URL");
				free(args);
				return 1;
			}
			c.url = argv[i];
		} else if (!strncmp(argv[i], "--store=", 8)) {
			c.url = argv[i] + 8;
		} else {
			args[n++] = argv[i];
		}
	}
	/* the default store is applied on first use (ctl_store): status and
	 * diags prefer the store of the loomd running here */
	if (c.url && !c.url[0])
		c.url = NULL;
	if (n == 0 || !strcmp(args[0], "-h") || !strcmp(args[0], "--help") ||
	    !strcmp(args[0], "help"))
		rc = usage();
	else if (!strcmp(args[0], "apply"))
		rc = ctl_apply(&c, n, args);
	else if (!strcmp(args[0], "get"))
		rc = ctl_get(&c, n, args);
	else if (!strcmp(args[0], "delete"))
		rc = ctl_delete(&c, n, args);
	else if (!strcmp(args[0], "nodes"))
		rc = ctl_nodes(&c, n, args);
	else if (!strcmp(args[0], "ipam"))
		rc = ctl_ipam(&c, n, args);
	else if (!strcmp(args[0], "policy"))
		rc = ctl_policy(&c, n, args);
	else if (!strcmp(args[0], "status"))
		rc = ctl_status(&c, n, args);
	else if (!strcmp(args[0], "diags"))
		rc = ctl_diags(&c, n, args);
	else {
		ctl_error(
			"unknown command \"%s\" (try: apply, get, delete, nodes, ipam, policy, status, diags)",
			args[0]);
		rc = 1;
	}
	loom_store_close(c.store);
	free(args);
	return rc;
}
