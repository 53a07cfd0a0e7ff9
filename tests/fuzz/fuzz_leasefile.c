/* Fuzz the two small files the plugins read back from the node: the lease
 * file loomd writes (lib/pod/leasefile.c) and the endpoint record of an ADD
 * (plugins/bridge/record.c), which a DEL and loomd trust to find a pod's
 * veth and firewall elements.  Either may be truncated or hand-edited.
 * The first byte picks the parser.  The record parser only reads a file,
 * so its input goes through one private temp dir, removed at exit. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pod/record.h"
#include "pod/leasefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/loom-fuzz-rec.XXXXXX";
static char path[sizeof(dir) + 32];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void fuzz_lease(const uint8_t *data, size_t size)
{
	struct loom_lease l;
	struct loom_err err;
	struct loom_prefix p;
	char *text = malloc(size + 1);

	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	if (loom_lease_parse(text, "fuzz.env", &l, &err) == 0 &&
	    (!loom_prefix_contains(&l.network, &l.subnet.ip) || l.subnet.len < l.network.len ||
	     (l.mtu != 0 && (l.mtu < 68 || l.mtu > 65535))))
		abort();
	loom_leasefile_get_prefix(text, "LOOM_SUBNET", &p);
	free(text);
}

static void fuzz_record(const uint8_t *data, size_t size)
{
	struct loom_endpoint_record *r;
	struct loom_err err;
	FILE *f;

	if (!path[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/net:cid:eth0.json", dir);
		atexit(cleanup);
	}
	f = fopen(path, "w");
	if (!f)
		abort();
	if (size)
		fwrite(data, 1, size, f);
	fclose(f);
	r = malloc(sizeof(*r)); /* ~12 KiB: not on the fuzzer's stack */
	if (!r)
		return;
	if (loom_endpoint_record_read(dir, "net", "cid", "eth0", r, &err) == 0 &&
	    (r->n_ips > LOOM_RESULT_MAX_IPS || r->n_masq_exempt > LOOM_RECORD_MASQ_EXEMPT_MAX ||
	     r->antispoof_ifindex < 0 || strcmp(r->ifname, "eth0") != 0))
		abort();
	free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_record(data + 1, size - 1);
	else
		fuzz_lease(data + 1, size - 1);
	return 0;
}
