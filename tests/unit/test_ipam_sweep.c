/* The IPAM store's start-up sweep (ipam/sweep.h): after a crash, what
 * loomd's start releases and what it must keep. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

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
#include "sweep.h"
#include "helpers.h"

struct fixture {
	char root[64];    /* dataDir */
	char records[96]; /* the endpoint records' dir */
	struct loom_ipam_conf conf;
	struct loom_result res;
	struct loom_err err;
	char log[16][160]; /* one line per released reservation */
	size_t n_log;
};

static void configure(struct fixture *f, const char *network)
{
	struct loom_cni_args args;
	struct loom_netconf nc;
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "{\"cniVersion\":\"1.1.0\",\"name\":\"%s\",\"type\":\"loom-ipam\","
		 "\"ipam\":{\"dataDir\":\"%s\",\"ranges\":[[{\"subnet\":\"10.0.0.0/24\"}]]}}",
		 network, f->root);
	if (loom_netconf_parse(buf, strlen(buf), LOOM_CMD_ADD, &nc, &f->err) < 0)
		fail_msg("netconf: %s", f->err.msg);
	memset(&args, 0, sizeof(args));
	if (loom_ipam_conf_parse(&nc, &args, &f->conf, &f->err) < 0)
		fail_msg("conf: %s", f->err.msg);
	loom_netconf_free(&nc);
}

static int setup(void **state)
{
	struct fixture *f = tmpdir_fixture(struct fixture, root, "sweep");

	snprintf(f->records, sizeof(f->records), "%s/records", f->root);
	assert_int_equal(mkdir(f->records, 0700), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	return free_tmpdir_fixture(f, f->root);
}

static void add_ok(struct fixture *f, const char *id)
{
	if (loom_ipam_add(&f->conf, id, "eth0", &f->res, &f->err) < 0)
		fail_msg("ADD %s: %s", id, f->err.msg);
}

static void put(const char *dir, const char *name, const char *content)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static bool has(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* Written an hour ago: past any grace. */
static void age(const char *dir, const char *name)
{
	char path[256];
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= 3600;
	ts[1] = ts[0];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void log_line(const struct loom_ipam_reservation *r, void *user)
{
	struct fixture *f = user;

	assert_true(f->n_log < 16);
	snprintf(f->log[f->n_log++], sizeof(f->log[0]), "%s %s %s %s", r->network, r->address,
		 r->container_id[0] ? r->container_id : "-", r->ifname[0] ? r->ifname : "-");
}

static bool logged(const struct fixture *f, const char *line)
{
	for (size_t i = 0; i < f->n_log; i++) {
		if (strcmp(f->log[i], line) == 0)
			return true;
	}
	return false;
}

static bool in_use(const struct loom_ipam_reservation *r, void *user)
{
	struct fixture *f = user;

	return loom_ipam_sweep_has_record(r, f->records);
}

static void test_sweep(void **state)
{
	struct fixture *f = *state;
	struct loom_ipam_sweep sw = { .data_dir = f->root,
				      .grace_s = 60,
				      .in_use = in_use,
				      .released = log_line,
				      .user = f };
	char net[128], other[128], path[192];

	snprintf(net, sizeof(net), "%s/net1", f->root);
	snprintf(other, sizeof(other), "%s/net2", f->root);
	configure(f, "net1");
	add_ok(f, "alive");             /* 10.0.0.2: has its record */
	add_ok(f, "dead");              /* 10.0.0.3: no record, old */
	add_ok(f, "young");             /* 10.0.0.4: no record yet, an ADD in flight */
	put(net, "10.0.0.40", "oldhl"); /* old host-local, ID only, no record */
	put(net, "10.0.0.41", "");      /* a host-local ADD killed after create */
	put(f->records, "net1:alive:eth0.json", "{}");
	snprintf(path, sizeof(path), "%s/.loom-tmp", net);
	assert_int_equal(mkdir(path, 0700), 0);
	put(net, ".loom-tmp/reserve", "x\r\neth0"); /* a killed fallback reserve */
	age(net, "10.0.0.2");
	age(net, "10.0.0.3");
	age(net, "10.0.0.40");
	configure(f, "net2");
	add_ok(f, "dead2"); /* another network: swept too */
	age(other, "10.0.0.2");
	snprintf(path, sizeof(path), "%s/notastore", f->root);
	assert_int_equal(mkdir(path, 0755), 0);

	if (loom_ipam_sweep(&sw, &f->err) < 0)
		fail_msg("sweep: %s", f->err.msg);
	assert_true(has(net, "10.0.0.2"));
	assert_false(has(net, "10.0.0.3"));
	assert_true(has(net, "10.0.0.4"));
	assert_false(has(net, "10.0.0.40"));
	assert_false(has(net, "10.0.0.41"));
	assert_false(has(net, ".loom-tmp/reserve"));
	assert_false(has(other, "10.0.0.2"));
	assert_false(has(f->root, "notastore/lock"));
	assert_int_equal(sw.n_released, 4);
	assert_int_equal(sw.n_kept, 2);
	assert_int_equal(sw.n_temps, 1);
	assert_int_equal(f->n_log, 4);
	assert_true(logged(f, "net1 10.0.0.3 dead eth0"));
	assert_true(logged(f, "net1 10.0.0.40 oldhl -"));
	assert_true(logged(f, "net1 10.0.0.41 - -"));
	assert_true(logged(f, "net2 10.0.0.2 dead2 eth0"));

	/* The released attachment's index entry went with its address: the
	 * same container gets an address again, not "duplicate allocation". */
	configure(f, "net1");
	add_ok(f, "dead");
	/* DEL of a swept attachment succeeds with nothing to do. */
	configure(f, "net2");
	assert_int_equal(loom_ipam_del(&f->conf, "dead2", "eth0", &f->err), 0);

	/* Once the grace is over, the young one goes as well; the living one
	 * stays as long as its record does. */
	age(net, "10.0.0.4");
	f->n_log = 0;
	sw.network = "net1";
	assert_int_equal(loom_ipam_sweep(&sw, &f->err), 0);
	assert_false(has(net, "10.0.0.4"));
	assert_true(has(net, "10.0.0.2"));
	assert_true(logged(f, "net1 10.0.0.4 young eth0"));
}

static void test_sweep_empty(void **state)
{
	struct fixture *f = *state;
	char missing[128];
	struct loom_ipam_sweep sw = { .grace_s = 0, .in_use = in_use, .user = f };

	snprintf(missing, sizeof(missing), "%s/none", f->root);
	sw.data_dir = missing;
	assert_int_equal(loom_ipam_sweep(&sw, &f->err), 0);
	assert_int_equal(sw.n_released + sw.n_kept, 0);
	sw.in_use = NULL;
	assert_int_equal(loom_ipam_sweep(&sw, &f->err), -1);
}

LOOM_TEST_MAIN(cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_sweep_empty, setup, teardown))
