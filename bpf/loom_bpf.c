/* loom-bpf: the anti-spoofing counters of this node, one line per pod.
 *
 *   loom-bpf [--pin-dir DIR] [--json]
 *
 * Run it in the node's network namespace (the maps are per netns).  The
 * pod is named by its host-side veth; "-" when that interface is gone. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kernel/bpf_antispoof.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: loom-bpf [--pin-dir DIR] [--json]\n"
		"  per-pod anti-spoofing counters (default DIR %s)\n",
		LOOM_ANTISPOOF_DEFAULT_PIN_DIR);
}

static void print_json(const struct loom_antispoof_stats *v, size_t n)
{
	json_t *arr = json_array();
	char name[IF_NAMESIZE];
	size_t i;
	int d;

	for (i = 0; i < n; i++) {
		json_t *drops = json_object();

		for (d = 0; d < LOOM_ANTISPOOF_DROP_MAX; d++)
			json_object_set_new(drops, loom_antispoof_drop_name(d),
					    json_integer((json_int_t)v[i].drop[d]));
		json_array_append_new(arr,
				      json_pack("{s:i,s:s,s:b,s:I,s:I,s:o}", "ifindex",
						(int)v[i].ifindex, "veth",
						if_indextoname(v[i].ifindex, name) ? name : "-",
						"allowed", v[i].has_allowed, "passPackets",
						(json_int_t)v[i].pass_packets, "passBytes",
						(json_int_t)v[i].pass_bytes, "dropped", drops));
	}
	json_dumpf(arr, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(arr);
}

static void print_table(const struct loom_antispoof_stats *v, size_t n)
{
	char name[IF_NAMESIZE];
	size_t i;
	int d;

	printf("%-7s %-15s %12s %14s", "IFINDEX", "VETH", "PASS_PKTS", "PASS_BYTES");
	for (d = 0; d < LOOM_ANTISPOOF_DROP_MAX; d++)
		printf(" %9s", loom_antispoof_drop_name(d));
	putchar('\n');
	for (i = 0; i < n; i++) {
		printf("%-7u %-15s %12llu %14llu", v[i].ifindex,
		       if_indextoname(v[i].ifindex, name) ? name : "-",
		       (unsigned long long)v[i].pass_packets, (unsigned long long)v[i].pass_bytes);
		for (d = 0; d < LOOM_ANTISPOOF_DROP_MAX; d++)
			printf(" %9llu", (unsigned long long)v[i].drop[d]);
		putchar('\n');
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pin_dir = LOOM_ANTISPOOF_DEFAULT_PIN_DIR;
	struct loom_antispoof_stats *v = NULL;
	struct loom_antispoof *as = NULL;
	struct loom_err err;
	bool json = false;
	size_t n = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "p:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pin_dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	loom_err_clear(&err);
	r = loom_antispoof_open_maps(pin_dir, &as, &err);
	if (r == -ENOENT) {
		/* No pod has been added with antiSpoof in this netns. */
		if (json)
			puts("[]");
		else
			print_table(NULL, 0);
		return 0;
	}
	if (r < 0 || loom_antispoof_stats(as, &v, &n, &err) < 0) {
		fprintf(stderr, "loom-bpf: %s\n", err.msg);
		loom_antispoof_close(as);
		return 1;
	}
	if (json)
		print_json(v, n);
	else
		print_table(v, n);
	free(v);
	loom_antispoof_close(as);
	return 0;
}
