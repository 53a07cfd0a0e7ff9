/* loom-sim: a loom cluster of network namespaces on this machine, for
 * demos, tests and trying loom out.  See sim.h for the layout. */
#include "sim.h"

#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(int rc)
{
	char modes[128];

	loom_mode_list(false, false, "|", "|", modes, sizeof(modes));
	fprintf(rc ? stderr : stdout,
		"usage: loom-sim [--name PREFIX] COMMAND ...\n"
		"  up --nodes N --mode %s [--store file|etcd] [--ttl SECONDS] [--tune-host]\n"
		"  check --nodes N [--mode M] [--store file|etcd] [--pods P]\n"
		"  node add [--tune-host] | stop NODE | kill NODE | start NODE\n"
		"  pod add NODE NS/NAME [--label K=V]... [--port NAME:PROTO:NUM]... [--no-serve]\n"
		"  pod del [NODE] NS/NAME\n"
		"  exec NS/NAME -- CMD...\n"
		"  status\n"
		"  matrix [--port P] [--proto tcp|udp] [--json]\n"
		"  down\n"
		"--name defaults to \"loomsim\" (at most 16 of [a-z0-9]); the loom binaries are\n"
		"taken from $LOOM_BIN, else loom-sim's own directory.  up and node add first\n"
		"check that this machine's one kernel can hold the cluster (see check) and\n"
		"refuse with the settings to apply; --tune-host applies them and prints them.\n",
		modes);
	return rc;
}

static bool name_ok(const char *n)
{
	size_t l = strlen(n);

	/* no '-': "NAME-" must never be the prefix of another cluster's name */
	return l >= 1 && l <= SIM_NAME_MAX &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789") == l;
}

static void find_bin(struct sim *s)
{
	const char *env = getenv("LOOM_BIN");
	char self[PATH_MAX];
	ssize_t n;

	if (env && env[0]) {
		snprintf(s->bin, sizeof(s->bin), "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(s->bin, sizeof(s->bin), "%s", dirname(self));
	} else {
		snprintf(s->bin, sizeof(s->bin), ".");
	}
}

int main(int argc, char **argv)
{
	static struct sim s;
	const char *name = "loomsim";
	char **args = calloc((size_t)argc + 1, sizeof(*args)), ul[64];
	int n = 0, rc;

	if (!args)
		return 1;
	/* --name may come anywhere, like loomctl's --store */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (!strncmp(argv[i], "--name=", 7))
			name = argv[i] + 7;
		else if (n > 0 && !strcmp(args[0], "exec") && !strcmp(argv[i], "--")) {
			/* the command after -- is the user's, untouched */
			while (i < argc)
				args[n++] = argv[i++];
		} else
			args[n++] = argv[i];
	}
	if (n == 0 || !strcmp(args[0], "-h") || !strcmp(args[0], "--help") ||
	    !strcmp(args[0], "help")) {
		free(args);
		return usage(n == 0 ? 2 : 0);
	}
	if (!name_ok(name)) {
		free(args);
		sim_err("--name \"%s\": 1 to %d lowercase letters and digits", name, SIM_NAME_MAX);
		return 2;
	}
	if (geteuid() != 0) {
		free(args);
		sim_err("needs root (network namespaces, mounts)");
		return 1;
	}
	snprintf(s.name, sizeof(s.name), "%s", name);
	snprintf(s.dir, sizeof(s.dir), "%s/%s", SIM_ROOT, name);
	find_bin(&s);
	sim_ul_ns(&s, ul, sizeof(ul));

	if (!strcmp(args[0], "up")) {
		rc = sim_up(&s, n, args);
		/* A half-made cluster is not left behind. */
		if (rc == 1 && s.state) {
			sim_err("up failed: tearing down what was made (logs were in %s/logs)",
				s.dir);
			sim_down(&s);
		}
	} else if (!strcmp(args[0], "check")) {
		rc = sim_check(n, args);
	} else if (!strcmp(args[0], "down")) {
		rc = sim_down(&s);
	} else if (strcmp(args[0], "pod") && strcmp(args[0], "exec") && strcmp(args[0], "status") &&
		   strcmp(args[0], "matrix") && strcmp(args[0], "node")) {
		sim_err("unknown command \"%s\"", args[0]);
		rc = usage(2);
	} else if (sim_load(&s) < 0) {
		sim_err("no cluster \"%s\" (%s/state.json): loom-sim up first", s.name, s.dir);
		rc = 1;
	} else if (sim_netns_exists(ul) && sim_enter_netns(ul) < 0) {
		sim_err("cannot enter %s: %s", ul, strerror(errno));
		rc = 1;
	} else if (!strcmp(args[0], "pod")) {
		rc = sim_pod(&s, n, args);
	} else if (!strcmp(args[0], "exec")) {
		rc = sim_exec(&s, n, args);
	} else if (!strcmp(args[0], "node")) {
		rc = sim_node(&s, n, args);
	} else if (!strcmp(args[0], "status")) {
		rc = sim_status(&s);
	} else {
		rc = sim_matrix(&s, n, args);
	}
	json_decref(s.state);
	free(args);
	return rc;
}
