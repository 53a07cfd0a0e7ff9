/* Allocation through the IPAM API, against a real store in a mktemp dir:
 * host-local's order, the addresses never handed out, requested addresses,
 * duplicates, rollback, DEL of host-local's files, garbage in the store,
 * CHECK, GC and STATUS. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipam.h"
#include "ipam_store.h"

struct fixture {
	char root[64]; /* dataDir */
	char net[128]; /* root/net1 */
	struct loom_ipam_conf conf;
	struct loom_result res;
	struct loom_err err;
};

static int setup(void **state)
{
	struct fixture *f = tmpdir_fixture(struct fixture, root, "alloc");

	snprintf(f->net, sizeof(f->net), "%s/net1", f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	return free_tmpdir_fixture(f, f->root);
}

/* Configure from the JSON of "ipam" minus dataDir (' for "), plus extra
 * top-level members (may be ""), and CNI_ARGS (may be NULL). */
static void configure(struct fixture *f, const char *ipam, const char *extra, const char *env)
{
	static const char *const known[] = { "IP", NULL };
	struct loom_cni_args args;
	struct loom_netconf nc;
	char buf[2048], *p;

	snprintf(buf, sizeof(buf),
		 "{'cniVersion':'1.1.0','name':'net1','type':'loom-ipam',"
		 "'ipam':{'dataDir':'%s',%s}%s}",
		 f->root, ipam, extra);
	for (p = buf; *p; p++) {
		if (*p == '\'')
			*p = '"';
	}
	if (loom_netconf_parse(buf, strlen(buf), LOOM_CMD_ADD, &nc, &f->err) < 0)
		fail_msg("netconf: %s", f->err.msg);
	memset(&args, 0, sizeof(args));
	if (env && loom_cni_args_parse(env, known, &args, &f->err) < 0)
		fail_msg("args: %s", f->err.msg);
	if (loom_ipam_conf_parse(&nc, &args, &f->conf, &f->err) < 0)
		fail_msg("conf: %s", f->err.msg);
	loom_netconf_free(&nc);
}

/* ADD must succeed with exactly these addresses ("a/len" per set, in
 * order, ' '-separated). */
static void add_ok(struct fixture *f, const char *id, const char *ifname, const char *want)
{
	char got[256] = "", p[LOOM_PREFIX_STRLEN];
	size_t i;

	if (loom_ipam_add(&f->conf, id, ifname, &f->res, &f->err) < 0)
		fail_msg("ADD %s/%s: %d %s", id, ifname, f->err.code, f->err.msg);
	for (i = 0; i < f->res.n_ips; i++) {
		strcat(got, i ? " " : "");
		strcat(got, loom_prefix_fmt(&f->res.ips[i].address, p));
	}
	if (strcmp(got, want) != 0)
		fail_msg("ADD %s/%s: got \"%s\", want \"%s\"", id, ifname, got, want);
}

static void add_fails(struct fixture *f, const char *id, int code, const char *want)
{
	if (loom_ipam_add(&f->conf, id, "eth0", &f->res, &f->err) == 0)
		fail_msg("ADD %s succeeded", id);
	if (f->err.code != code || !strstr(f->err.msg, want))
		fail_msg("ADD %s: got %d \"%s\", want %d \"%s\"", id, f->err.code, f->err.msg, code,
			 want);
}

static void del_ok(struct fixture *f, const char *id, const char *ifname)
{
	if (loom_ipam_del(&f->conf, id, ifname, &f->err) < 0)
		fail_msg("DEL %s/%s: %s", id, ifname, f->err.msg);
}

static void put_file(const struct fixture *f, const char *name, const char *content)
{
	char path[256];
	int fd;

	mkdir(f->net, 0755);
	snprintf(path, sizeof(path), "%s/%s", f->net, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static bool has_file(const struct fixture *f, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", f->net, name);
	return access(path, F_OK) == 0;
}

/* What the store's index says (id, ifname) holds: a count or -errno. */
static int indexed(struct fixture *f, const char *id, const char *ifname)
{
	struct loom_ip got[LOOM_IPAM_STORE_INDEX_MAX];
	struct loom_ipam_store s;
	int n;

	assert_int_equal(loom_ipam_store_open(&s, f->root, "net1", &f->err), 0);
	n = loom_ipam_store_index_get(&s, id, ifname, got, LOOM_IPAM_STORE_INDEX_MAX);
	loom_ipam_store_close(&s);
	return n;
}

/* Address files in the store. */
static size_t count_addresses(const struct fixture *f)
{
	struct loom_ip a;
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(f->net);

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += loom_ip_parse(de->d_name, &a) == 0;
	closedir(d);
	return n;
}

#define V4_24 "'ranges':[[{'subnet':'10.0.0.0/24'}]]"

static void test_round_robin(void **state)
{
	struct fixture *f = *state;
	char p[LOOM_PREFIX_STRLEN];

	configure(f, V4_24 ",'routes':[{'dst':'0.0.0.0/0'}]", "", NULL);
	add_ok(f, "c1", "eth0", "10.0.0.2/24");
	assert_true(f->res.ips[0].has_gateway);
	assert_string_equal(loom_ip_fmt(&f->res.ips[0].gateway, p), "10.0.0.1");
	assert_int_equal(f->res.ips[0].iface, -1);
	assert_int_equal(f->res.n_routes, 1);
	assert_string_equal(loom_prefix_fmt(&f->res.routes[0].dst, p), "0.0.0.0/0");
	add_ok(f, "c2", "eth0", "10.0.0.3/24");
	del_ok(f, "c1", "eth0");
	/* After the last reservation, not the lowest free one. */
	add_ok(f, "c3", "eth0", "10.0.0.4/24");
	add_ok(f, "c1", "eth1", "10.0.0.5/24");
}

/* A small range fills, reports which range, and wraps to freed addresses;
 * network, broadcast and gateway are never handed out. */
static void test_exhaust_and_wrap(void **state)
{
	struct fixture *f = *state;

	configure(f,
		  "'ranges':[[{'subnet':'10.0.0.0/29','rangeStart':'10.0.0.0',"
		  "'rangeEnd':'10.0.0.7','gateway':'10.0.0.6'}]]",
		  "", NULL);
	add_ok(f, "c1", "eth0", "10.0.0.1/29");
	add_ok(f, "c2", "eth0", "10.0.0.2/29");
	add_ok(f, "c3", "eth0", "10.0.0.3/29");
	add_ok(f, "c4", "eth0", "10.0.0.4/29");
	add_ok(f, "c5", "eth0", "10.0.0.5/29");
	add_fails(f, "c6", LOOM_ERR_IPAM_EXHAUSTED,
		  "no free address in range set 0 (10.0.0.0-10.0.0.7)");
	assert_int_equal(count_addresses(f), 5);
	del_ok(f, "c2", "eth0");
	add_ok(f, "c6", "eth0", "10.0.0.2/29");
	assert_int_equal(loom_ipam_status(&f->conf, &f->err), -1);
	assert_int_equal(f->err.code, LOOM_ERR_UNAVAILABLE);
	assert_non_null(strstr(f->err.msg, "no free address"));
}

static void test_small_subnets(void **state)
{
	static const struct {
		const char *ranges;
		const char *want[3]; /* NULL: exhausted */
	} cases[] = {
		{ "[[{'subnet':'10.0.0.0/31'}]]", { "10.0.0.0/31", "10.0.0.1/31", NULL } },
		{ "[[{'subnet':'10.0.0.9/32'}]]", { "10.0.0.9/32", NULL, NULL } },
		{ "[[{'subnet':'fd00::/127'}]]", { "fd00::/127", "fd00::1/127", NULL } },
		{ "[[{'subnet':'fd00::8/128'}]]", { "fd00::8/128", NULL, NULL } },
		/* IPv6 has no broadcast: the last address is a host. */
		{ "[[{'subnet':'fd00::/126'}]]", { "fd00::2/126", "fd00::3/126", NULL } },
		{ "[[{'subnet':'10.0.0.0/30','rangeStart':'10.0.0.0','rangeEnd':'10.0.0.3'}]]",
		  { "10.0.0.2/30", NULL, NULL } },
	};
	struct fixture *f = *state;
	char ipam[256], id[16];
	size_t i, k;

	for (i = 0; i < N(cases); i++) {
		snprintf(ipam, sizeof(ipam), "'ranges':%s", cases[i].ranges);
		/* A fresh network per case: one store each. */
		configure(f, ipam, "", NULL);
		snprintf(f->conf.name, sizeof(f->conf.name), "case%zu", i);
		for (k = 0; k < 3; k++) {
			snprintf(id, sizeof(id), "c%zu", k);
			if (!cases[i].want[k]) {
				add_fails(f, id, LOOM_ERR_IPAM_EXHAUSTED, "no free address");
				break;
			}
			add_ok(f, id, "eth0", cases[i].want[k]);
			assert_false(f->res.ips[0].has_gateway && i < 4);
		}
	}
}

static void test_requested(void **state)
{
	struct fixture *f = *state;

	configure(f, V4_24, "", "IP=10.0.0.50");
	add_ok(f, "c1", "eth0", "10.0.0.50/24");
	add_fails(f, "c2", LOOM_ERR_IP_UNAVAILABLE,
		  "requested address 10.0.0.50 is already held by container c1 interface eth0");
	/* Round robin goes on from the requested address, as host-local. */
	configure(f, V4_24, "", NULL);
	add_ok(f, "c3", "eth0", "10.0.0.51/24");

	configure(f, V4_24, "", "IP=10.9.0.1");
	add_fails(f, "c4", LOOM_ERR_IP_UNAVAILABLE,
		  "requested address 10.9.0.1 is outside every configured range");
	configure(f, V4_24, "", "IP=10.0.0.1");
	add_fails(f, "c4", LOOM_ERR_IP_UNAVAILABLE, "requested address 10.0.0.1 is the gateway");
	configure(f, V4_24, ",'runtimeConfig':{'ips':['10.0.0.60','10.0.0.61']}", NULL);
	add_fails(f, "c4", LOOM_ERR_IP_UNAVAILABLE,
		  "requested addresses 10.0.0.60 and 10.0.0.61 both fall in range set 0");
	assert_int_equal(count_addresses(f), 2);

	/* Dual stack: the requested address takes its own set only. */
	configure(f, "'ranges':[[{'subnet':'10.0.0.0/24'}],[{'subnet':'fd00::/64'}]]",
		  ",'args':{'cni':{'ips':['fd00::99']}}", NULL);
	add_ok(f, "c5", "eth0", "10.0.0.52/24 fd00::99/64");
}

static void test_duplicate_and_rollback(void **state)
{
	struct fixture *f = *state;

	configure(f, "'ranges':[[{'subnet':'10.0.0.0/24'}],[{'subnet':'fd00::5/128'}]]", "", NULL);
	add_ok(f, "c1", "eth0", "10.0.0.2/24 fd00::5/128");
	add_fails(
		f, "c1", LOOM_ERR_DUPLICATE,
		"10.0.0.2 has been allocated to container c1 interface eth0, duplicate allocation");
	/* The IPv6 set is full: the IPv4 address taken first is given back. */
	add_fails(f, "c2", LOOM_ERR_IPAM_EXHAUSTED, "range set 1 (fd00::5-fd00::5)");
	assert_int_equal(count_addresses(f), 2);
	assert_false(has_file(f, "10.0.0.3"));
	assert_int_equal(indexed(f, "c2", "eth0"), -ENOENT);
	del_ok(f, "c1", "eth0");
	assert_int_equal(count_addresses(f), 0);
	add_ok(f, "c2", "eth0", "10.0.0.4/24 fd00::5/128");
}

/* DEL is idempotent and releases what host-local wrote (no index): the
 * exact "id\r\nifname" files, else the old ID-only ones. */
static void test_del(void **state)
{
	struct fixture *f = *state;

	configure(f, V4_24, "", NULL);
	del_ok(f, "nobody", "eth0");
	put_file(f, "10.0.0.9", "hl\r\neth0");
	put_file(f, "10.0.0.10", "hl\r\neth1");
	put_file(f, "10.0.0.11", "old");
	put_file(f, "10.0.0.12", "both\r\neth0");
	put_file(f, "10.0.0.13", "both");
	del_ok(f, "hl", "eth0");
	assert_false(has_file(f, "10.0.0.9"));
	assert_true(has_file(f, "10.0.0.10"));
	del_ok(f, "old", "eth0");
	assert_false(has_file(f, "10.0.0.11"));
	del_ok(f, "both", "eth0");
	assert_false(has_file(f, "10.0.0.12"));
	assert_true(has_file(f, "10.0.0.13"));
	del_ok(f, "hl", "eth0");

	/* A crash after the address file, before the index: DEL scans. */
	add_ok(f, "c1", "eth0", "10.0.0.2/24");
	{
		struct loom_ipam_store s;

		assert_int_equal(loom_ipam_store_open(&s, f->root, "net1", &f->err), 0);
		assert_int_equal(loom_ipam_store_index_put(&s, "c1", "eth0", NULL, 0), 0);
		loom_ipam_store_close(&s);
	}
	del_ok(f, "c1", "eth0");
	assert_false(has_file(f, "10.0.0.2"));

	/* A stale index (host-local released the address, then gave it to
	 * someone else, then host-local allocated again for c2): loom releases
	 * only what c2 holds. */
	add_ok(f, "c2", "eth0", "10.0.0.3/24");
	put_file(f, "10.0.0.3", "other\r\neth0");
	put_file(f, "10.0.0.77", "c2\r\neth0");
	del_ok(f, "c2", "eth0");
	assert_true(has_file(f, "10.0.0.3"));
	assert_false(has_file(f, "10.0.0.77"));
	assert_int_equal(indexed(f, "c2", "eth0"), -ENOENT);
}

/* Whatever lies in the store is outside input. */
static void test_garbage(void **state)
{
	static char big[4000];
	struct fixture *f = *state;

	configure(f, V4_24, "", NULL);
	put_file(f, "last_reserved_ip.0", "not an address");
	memset(big, 'x', sizeof(big) - 1);
	put_file(f, "10.0.0.2", big);
	put_file(f, "10.0.0.3", "");
	add_ok(f, "c1", "eth0", "10.0.0.4/24");
	put_file(f, "last_reserved_ip.0", "10.9.9.9"); /* outside: start over */
	add_ok(f, "c2", "eth0", "10.0.0.5/24");
	put_file(f, "last_reserved_ip.0", big);
	add_ok(f, "c3", "eth0", "10.0.0.6/24");
	/* An index naming an address this attachment does not hold is not
	 * a duplicate. */
	put_file(f, "10.0.0.7", "someone\r\neth0");
	{
		struct loom_ip other = { .family = 0 };
		struct loom_ipam_store s;

		assert_int_equal(loom_ip_parse("10.0.0.7", &other), 0);
		assert_int_equal(loom_ipam_store_open(&s, f->root, "net1", &f->err), 0);
		assert_int_equal(loom_ipam_store_index_put(&s, "c4", "eth0", &other, 1), 0);
		loom_ipam_store_close(&s);
	}
	add_ok(f, "c4", "eth0", "10.0.0.8/24");
	assert_int_equal(loom_ipam_check(&f->conf, "c4", "eth0", NULL, &f->err), 0);
	del_ok(f, "c4", "eth0");
	assert_true(has_file(f, "10.0.0.7"));
}

static void test_check(void **state)
{
	struct fixture *f = *state;
	struct loom_result prev;

	configure(f, V4_24, "", NULL);
	assert_int_equal(loom_ipam_check(&f->conf, "c1", "eth0", NULL, &f->err), -1);
	assert_int_equal(f->err.code, LOOM_ERR_NOT_FOUND);
	assert_non_null(
		strstr(f->err.msg, "no address is allocated to container c1 interface eth0"));

	add_ok(f, "c1", "eth0", "10.0.0.2/24");
	prev = f->res;
	assert_int_equal(loom_ipam_check(&f->conf, "c1", "eth0", &prev, &f->err), 0);
	assert_int_equal(loom_ipam_check(&f->conf, "c1", "eth1", NULL, &f->err), -1);

	/* An address of another IPAM is not ours to judge; one of ours that
	 * this attachment does not hold is. */
	prev.n_ips = 2;
	assert_int_equal(loom_prefix_parse("192.168.0.5/24", &prev.ips[1].address), 0);
	assert_int_equal(loom_ipam_check(&f->conf, "c1", "eth0", &prev, &f->err), 0);
	assert_int_equal(loom_prefix_parse("10.0.0.9/24", &prev.ips[1].address), 0);
	assert_int_equal(loom_ipam_check(&f->conf, "c1", "eth0", &prev, &f->err), -1);
	assert_int_equal(f->err.code, LOOM_ERR_NOT_FOUND);
	assert_non_null(strstr(f->err.msg, "prevResult address 10.0.0.9 is not allocated"));

	/* host-local's allocation, found by the scan. */
	put_file(f, "10.0.0.20", "hl\r\neth0");
	assert_int_equal(loom_ipam_check(&f->conf, "hl", "eth0", NULL, &f->err), 0);
}

static void test_gc(void **state)
{
	struct fixture *f = *state;
	struct loom_attachment valid[2];

	configure(f, V4_24, "", NULL);
	add_ok(f, "c1", "eth0", "10.0.0.2/24");
	add_ok(f, "c2", "eth0", "10.0.0.3/24");
	put_file(f, "10.0.0.40", "c3"); /* old host-local: ID only */
	put_file(f, "10.0.0.41", "c3\r\neth9");
	put_file(f, "10.0.0.42", "");       /* a crashed host-local ADD */
	put_file(f, "notes", "c2\r\neth0"); /* not an address: not ours */
	memset(valid, 0, sizeof(valid));
	strcpy(valid[0].container_id, "c3");
	strcpy(valid[0].ifname, "eth1");
	strcpy(valid[1].container_id, "c1");
	strcpy(valid[1].ifname, "eth0");
	if (loom_ipam_gc(&f->conf, valid, 2, &f->err) < 0)
		fail_msg("GC: %s", f->err.msg);
	assert_true(has_file(f, "10.0.0.2"));
	assert_int_equal(indexed(f, "c1", "eth0"), 1);
	assert_false(has_file(f, "10.0.0.3"));
	assert_int_equal(indexed(f, "c2", "eth0"), -ENOENT);
	assert_true(has_file(f, "10.0.0.40"));
	assert_false(has_file(f, "10.0.0.41"));
	assert_false(has_file(f, "10.0.0.42"));
	assert_true(has_file(f, "notes"));
	assert_true(has_file(f, "lock"));

	assert_int_equal(loom_ipam_gc(&f->conf, NULL, 0, &f->err), 0);
	assert_int_equal(count_addresses(f), 0);
}

static void test_status(void **state)
{
	struct fixture *f = *state;
	char name[32];
	int i;

	configure(f, "'ranges':[[{'subnet':'10.0.0.0/25'}]]", "", NULL);
	assert_int_equal(loom_ipam_status(&f->conf, &f->err), 0);
	/* Fill all but one, the free one far behind the last reservation:
	 * the probe finds nothing, the count says "not full". */
	for (i = 3; i <= 126; i++) {
		snprintf(name, sizeof(name), "10.0.0.%d", i);
		put_file(f, name, "x\r\neth0");
	}
	put_file(f, "last_reserved_ip.0", "10.0.0.2");
	assert_int_equal(loom_ipam_status(&f->conf, &f->err), 0);
	put_file(f, "10.0.0.2", "x\r\neth0");
	assert_int_equal(loom_ipam_status(&f->conf, &f->err), -1);
	assert_int_equal(f->err.code, LOOM_ERR_UNAVAILABLE);
	add_fails(f, "c1", LOOM_ERR_IPAM_EXHAUSTED, "10.0.0.1-10.0.0.126");

	/* A dataDir that cannot be created. */
	{
		char file[128];

		snprintf(file, sizeof(file), "%s/plain", f->root);
		close(open(file, O_WRONLY | O_CREAT, 0600));
		snprintf(f->conf.data_dir, sizeof(f->conf.data_dir), "%s/plain/sub", f->root);
		assert_int_equal(loom_ipam_status(&f->conf, &f->err), -1);
		assert_int_equal(f->err.code, LOOM_ERR_UNAVAILABLE);
		add_fails(f, "c1", LOOM_ERR_STORE, "Not a directory");
		assert_non_null(strstr(f->err.msg, file));
	}
}

LOOM_TEST_MAIN(TEST_ST(test_round_robin), TEST_ST(test_exhaust_and_wrap),
	       TEST_ST(test_small_subnets), TEST_ST(test_requested),
	       TEST_ST(test_duplicate_and_rollback), TEST_ST(test_del), TEST_ST(test_garbage),
	       TEST_ST(test_check), TEST_ST(test_gc), TEST_ST(test_status))
