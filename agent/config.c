/* loomd's command line: parsed into a plain struct, checked once.  Every
 * path is an option so several simulated nodes can share one machine. */
#include "agent.h"
#include "daemon/daemon.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char loomd_usage[] =
	"usage: loomd --node NAME --address UNDERLAY_IP [--network NAME]\n"
	"             [--store URL] [--run-dir DIR] [--state-dir DIR] [--ttl SECONDS]\n"
	"             [--bird-socket PATH] [--write-conflist DIR] [--ipam-data-dir DIR]\n"
	"             [--once] [--release-on-exit] [--log-level debug|info|warn|error]\n"
	"             [--metrics-address HOST:PORT]\n"
	"  --store defaults to $LOOM_STORE, else " LOOMD_DEFAULT_STORE "\n";

bool loomd_name_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= LOOMD_NAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int copy_opt(char *dst, size_t len, const char *val, const char *opt, struct loom_err *err)
{
	if (val[0] == '\0')
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "--%s: must not be empty", opt);
	if (strlen(val) >= len)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "--%s: longer than %zu bytes",
				    opt, len - 1);
	memcpy(dst, val, strlen(val) + 1);
	return 0;
}

static int copy_dir(char *dst, size_t len, const char *val, const char *opt, struct loom_err *err)
{
	if (copy_opt(dst, len, val, opt, err) < 0)
		return -1;
	if (dst[0] != '/')
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "--%s: %s must be an absolute path", opt, val);
	return 0;
}

enum {
	OPT_NODE = 256,
	OPT_ADDRESS,
	OPT_NETWORK,
	OPT_STORE,
	OPT_RUN_DIR,
	OPT_STATE_DIR,
	OPT_TTL,
	OPT_BIRD_SOCKET,
	OPT_WRITE_CONFLIST,
	OPT_IPAM_DATA_DIR,
	OPT_ONCE,
	OPT_RELEASE,
	OPT_HELP,
	OPT_LOG_LEVEL,
	OPT_METRICS_ADDRESS
};

static const struct option options[] = {
	{ "node", required_argument, NULL, OPT_NODE },
	{ "address", required_argument, NULL, OPT_ADDRESS },
	{ "network", required_argument, NULL, OPT_NETWORK },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "run-dir", required_argument, NULL, OPT_RUN_DIR },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "bird-socket", required_argument, NULL, OPT_BIRD_SOCKET },
	{ "write-conflist", required_argument, NULL, OPT_WRITE_CONFLIST },
	{ "ipam-data-dir", required_argument, NULL, OPT_IPAM_DATA_DIR },
	{ "ttl", required_argument, NULL, OPT_TTL },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "release-on-exit", no_argument, NULL, OPT_RELEASE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "metrics-address", required_argument, NULL, OPT_METRICS_ADDRESS },
	{ NULL, 0, NULL, 0 },
};

static int parse_ttl(const char *val, int *out, struct loom_err *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(val, &end, 10);
	if (errno || end == val || *end != '\0' || v < 1 || v > LOOMD_TTL_MAX)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "--ttl: %s is not a number of seconds between 1 and %d", val,
				    LOOMD_TTL_MAX);
	*out = (int)v;
	return 0;
}

static int apply_opt(int c, const char *val, struct loomd_config *o, bool *have_addr,
		     struct loom_err *err)
{
	switch (c) {
	case OPT_NODE:
		if (!loomd_name_valid(val))
			return loom_err_set(
				err, LOOM_ERR_INVALID_CONFIG,
				"--node: \"%s\" must be 1-253 characters of [A-Za-z0-9._-]", val);
		return copy_opt(o->node, sizeof(o->node), val, "node", err);
	case OPT_ADDRESS:
		if (loom_ip_parse(val, &o->address) < 0)
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "--address: \"%s\" is not an IP address", val);
		*have_addr = true;
		return 0;
	case OPT_NETWORK:
		if (!loomd_name_valid(val))
			return loom_err_set(
				err, LOOM_ERR_INVALID_CONFIG,
				"--network: \"%s\" must be 1-253 characters of [A-Za-z0-9._-]",
				val);
		return copy_opt(o->network, sizeof(o->network), val, "network", err);
	case OPT_STORE:
		return copy_opt(o->store_url, sizeof(o->store_url), val, "store", err);
	case OPT_RUN_DIR:
		return copy_dir(o->run_dir, sizeof(o->run_dir), val, "run-dir", err);
	case OPT_STATE_DIR:
		return copy_dir(o->state_dir, sizeof(o->state_dir), val, "state-dir", err);
	case OPT_BIRD_SOCKET:
		return copy_dir(o->bird_socket, sizeof(o->bird_socket), val, "bird-socket", err);
	case OPT_WRITE_CONFLIST:
		return copy_dir(o->conflist_dir, sizeof(o->conflist_dir), val, "write-conflist",
				err);
	case OPT_IPAM_DATA_DIR:
		return copy_dir(o->ipam_data_dir, sizeof(o->ipam_data_dir), val, "ipam-data-dir",
				err);
	case OPT_TTL:
		return parse_ttl(val, &o->ttl, err);
	case OPT_ONCE:
		o->once = true;
		return 0;
	case OPT_RELEASE:
		o->release_on_exit = true;
		return 0;
	case OPT_METRICS_ADDRESS:
		/* checked when the server opens: httpd.c owns the address forms */
		return copy_opt(o->metrics_address, sizeof(o->metrics_address), val,
				"metrics-address", err);
	case OPT_LOG_LEVEL: {
		enum loom_log_level l;

		if (loom_log_level_parse(val, &l) < 0)
			return loom_err_set(
				err, LOOM_ERR_INVALID_CONFIG,
				"--log-level: \"%s\" is not one of debug, info, warn, error", val);
		o->log_level = (int)l;
		return 0;
	}
	}
	return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "unknown option");
}

int loomd_config_parse(int argc, char *const argv[], const char *env_store,
		       struct loomd_config *out, struct loom_err *err)
{
	struct loomd_config o;
	bool have_addr = false;
	int c, idx;

	memset(&o, 0, sizeof(o));
	snprintf(o.network, sizeof(o.network), "%s", LOOMD_DEFAULT_NETWORK);
	snprintf(o.run_dir, sizeof(o.run_dir), "%s", LOOMD_DEFAULT_RUN_DIR);
	snprintf(o.state_dir, sizeof(o.state_dir), "%s", LOOMD_DEFAULT_STATE_DIR);
	snprintf(o.store_url, sizeof(o.store_url), "%s",
		 env_store && env_store[0] ? env_store : LOOMD_DEFAULT_STORE);
	o.ttl = LOOMD_DEFAULT_TTL;
	o.log_level = LOOM_LOG_INFO;

	/* getopt keeps its cursor in globals: reset so tests can parse twice. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", options, &idx)) != -1) {
		if (c == OPT_HELP)
			return 1;
		if (c == '?' || c == ':')
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "%s: unknown option or missing value",
					    optind > 0 && optind <= argc ? argv[optind - 1] : "?");
		if (apply_opt(c, optarg, &o, &have_addr, err) < 0)
			return -1;
	}
	if (optind < argc)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "unexpected argument \"%s\"",
				    argv[optind]);
	if (o.node[0] == '\0')
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "--node: required");
	if (!have_addr)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "--address: required");
	*out = o;
	return 0;
}
