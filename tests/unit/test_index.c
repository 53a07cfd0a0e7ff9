/* The per-attachment index file: a hash table that must answer what was
 * put, survive collisions, deletes and growth, and treat whatever else it
 * finds in the file (torn writes, garbage, lies with a valid checksum) as
 * "no entry" rather than as the truth. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index.h"

#define BLOCK LOOM_INDEX_BLOCK

struct fixture {
	char dir[64];
	int dirfd;
	struct loom_index ix;
};

static int setup(void **state)
{
	struct fixture *f = tmpdir_fixture(struct fixture, dir, "index");

	f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(f->dirfd >= 0);
	f->ix.fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	loom_index_close(&f->ix);
	unlinkat(f->dirfd, LOOM_INDEX_FILE, 0);
	unlinkat(f->dirfd, LOOM_INDEX_TMP, 0);
	unlinkat(f->dirfd, LOOM_INDEX_DIR, AT_REMOVEDIR);
	close(f->dirfd);
	assert_int_equal(rmdir(f->dir), 0); /* nothing else was left behind */
	free(f);
	return 0;
}

static struct loom_ip nth(unsigned i)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	return ip_of(buf);
}

static void put_ok(struct fixture *f, const char *id, const char *ifname, struct loom_ip a)
{
	assert_int_equal(loom_index_put(&f->ix, f->dirfd, id, ifname, &a, 1), 0);
}

/* 1 when (id, ifname) maps to exactly `a`, 0 when absent. */
static int has(struct fixture *f, const char *id, const char *ifname, struct loom_ip a)
{
	struct loom_ip got[LOOM_INDEX_MAX_IPS];
	int n = loom_index_get(&f->ix, id, ifname, got, LOOM_INDEX_MAX_IPS);

	if (n == -ENOENT)
		return 0;
	assert_int_equal(n, 1);
	assert_true(loom_ip_eq(&got[0], &a));
	return 1;
}

static uint32_t slot_of(const struct fixture *f, const char *id, const char *ifname)
{
	return (uint32_t)loom_index_hash(id, ifname) & (f->ix.slots - 1);
}

/* Ids whose home slot (in a table of `slots`) equals that of "c0". */
static void colliding(char ids[][16], size_t n, uint32_t slots)
{
	uint32_t want = (uint32_t)loom_index_hash("c0", "eth0") & (slots - 1);
	size_t k = 0;
	unsigned i;

	for (i = 0; k < n && i < 1000000; i++) {
		char id[16];

		snprintf(id, sizeof(id), "c%u", i);
		if (((uint32_t)loom_index_hash(id, "eth0") & (slots - 1)) == want)
			snprintf(ids[k++], 16, "%s", id);
	}
	assert_int_equal(k, n);
}

static void read_block(struct fixture *f, off_t off, uint8_t b[BLOCK])
{
	assert_int_equal(pread(f->ix.fd, b, BLOCK, off), BLOCK);
}

static void write_block(struct fixture *f, off_t off, const uint8_t *b, size_t len)
{
	assert_int_equal(pwrite(f->ix.fd, b, len, off), (ssize_t)len);
}

/* The record checksum as index.h documents it: FNV-1a 64 of bytes 8..511,
 * stored little-endian in bytes 0..7. */
static void reseal(uint8_t b[BLOCK])
{
	uint64_t h = 0xcbf29ce484222325ull;
	int i;

	for (i = 8; i < (int)BLOCK; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(h >> (8 * i));
}

static void test_insert_lookup_delete(void **state)
{
	struct fixture *f = *state;
	struct loom_ip two[2] = { ip_of("10.0.0.5"), ip_of("fd00::5") }, got[4];
	uint8_t b[BLOCK];

	/* No file: absent, and a delete of nothing creates nothing. */
	assert_int_equal(loom_index_open(&f->ix, f->dirfd, false), -ENOENT);
	assert_int_equal(loom_index_put(&f->ix, f->dirfd, "abc", "eth0", NULL, 0), 0);
	assert_int_equal(faccessat(f->dirfd, LOOM_INDEX_FILE, F_OK, 0), -1);

	assert_int_equal(loom_index_put(&f->ix, f->dirfd, "abc", "eth0", two, 2), 0);
	assert_int_equal(loom_index_get(&f->ix, "abc", "eth0", got, 4), 2);
	assert_true(loom_ip_eq(&got[0], &two[0]) && loom_ip_eq(&got[1], &two[1]));
	assert_int_equal(loom_index_get(&f->ix, "abc", "eth0", got, 1), -E2BIG);
	assert_int_equal(loom_index_get(&f->ix, "abc", "eth1", got, 4), -ENOENT);
	assert_int_equal(loom_index_get(&f->ix, "ab", "ceth0", got, 4), -ENOENT);

	/* Replaced in place, then deleted; a fresh open sees the same. */
	put_ok(f, "abc", "eth0", ip_of("10.0.0.9"));
	loom_index_close(&f->ix);
	assert_int_equal(loom_index_open(&f->ix, f->dirfd, false), 0);
	assert_int_equal(has(f, "abc", "eth0", ip_of("10.0.0.9")), 1);
	assert_int_equal(loom_index_put(&f->ix, f->dirfd, "abc", "eth0", NULL, 0), 0);
	assert_int_equal(has(f, "abc", "eth0", ip_of("10.0.0.9")), 0);
	assert_int_equal(loom_index_put(&f->ix, f->dirfd, "abc", "eth0", NULL, 0), 0);

	/* Never "id\r\nifname" or "id": the header's magic holds a NUL, so
	 * host-local's release walk never matches the file. */
	read_block(f, 0, b);
	assert_memory_equal(b, "LOOMIDX\0", 8);
	{
		struct stat st;

		assert_int_equal(fstat(f->ix.fd, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
}

static void test_bad_keys(void **state)
{
	static const struct {
		const char *id, *ifname;
		size_t n;
		int rc;
	} cases[] = {
		{ "", "eth0", 1, -EINVAL },
		{ "abc", "", 1, -EINVAL },
		{ "abc", "sixteen-chars-xx", 1, -EINVAL },
		{ "abc", "eth0", LOOM_INDEX_MAX_IPS + 1, -E2BIG },
		{ "a@b", "eth0", 1, 0 }, /* lengths are stored: '@' is no ambiguity */
	};
	static char long_id[LOOM_INDEX_ID_MAX + 2];
	struct loom_ip ips[LOOM_INDEX_MAX_IPS + 1];
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < LOOM_INDEX_MAX_IPS + 1; i++)
		ips[i] = nth((unsigned)i);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = loom_index_put(&f->ix, f->dirfd, cases[i].id, cases[i].ifname, ips,
					cases[i].n);

		if (rc != cases[i].rc)
			fail_msg("cases[%zu]: %d, want %d", i, rc, cases[i].rc);
	}
	assert_int_equal(has(f, "a@b", "eth0", ips[0]), 1);
	assert_int_equal(has(f, "a", "b@eth0", ips[0]), 0);
	memset(long_id, 'x', sizeof(long_id) - 1);
	assert_int_equal(loom_index_put(&f->ix, f->dirfd, long_id, "eth0", ips, 1), -EINVAL);
	long_id[LOOM_INDEX_ID_MAX] = '\0';
	put_ok(f, long_id, "fifteen-chars-x", ips[1]);
	assert_int_equal(has(f, long_id, "fifteen-chars-x", ips[1]), 1);
	assert_int_equal(loom_index_put(&f->ix, f->dirfd, "full", "eth0", ips, LOOM_INDEX_MAX_IPS),
			 0);
}

static void test_collision_and_tombstone_reuse(void **state)
{
	struct fixture *f = *state;
	char ids[3][16];
	uint32_t used;

	put_ok(f, "seed", "eth9", ip_of("10.0.0.1"));
	colliding(ids, 3, f->ix.slots);
	put_ok(f, ids[0], "eth0", ip_of("10.0.0.10"));
	put_ok(f, ids[1], "eth0", ip_of("10.0.0.11"));
	assert_int_equal(slot_of(f, ids[0], "eth0"), slot_of(f, ids[1], "eth0"));
	assert_int_equal(has(f, ids[0], "eth0", ip_of("10.0.0.10")), 1);
	assert_int_equal(has(f, ids[1], "eth0", ip_of("10.0.0.11")), 1);

	/* The second is found past the first's tombstone... */
	assert_int_equal(loom_index_put(&f->ix, f->dirfd, ids[0], "eth0", NULL, 0), 0);
	assert_int_equal(has(f, ids[0], "eth0", ip_of("10.0.0.10")), 0);
	assert_int_equal(has(f, ids[1], "eth0", ip_of("10.0.0.11")), 1);
	/* ...and a third colliding key takes the tombstone's slot rather than
	 * a new one. */
	used = f->ix.used;
	put_ok(f, ids[2], "eth0", ip_of("10.0.0.12"));
	assert_int_equal(f->ix.used, used);
	assert_int_equal(has(f, ids[2], "eth0", ip_of("10.0.0.12")), 1);
	assert_int_equal(has(f, ids[1], "eth0", ip_of("10.0.0.11")), 1);
	/* Rewriting the one further down the chain does not duplicate it. */
	put_ok(f, ids[1], "eth0", ip_of("10.0.0.13"));
	assert_int_equal(f->ix.used, used);
	assert_int_equal(has(f, ids[1], "eth0", ip_of("10.0.0.13")), 1);
}

static int count_walk(const char *id, const char *ifname, void *user)
{
	(void)id;
	(void)ifname;
	(*(unsigned *)user)++;
	return 0;
}

static void test_rehash(void **state)
{
	struct fixture *f = *state;
	char id[16];
	unsigned i, n = 0;
	struct stat st;

	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "c%u", i);
		put_ok(f, id, "eth0", nth(i));
		assert_true(f->ix.used * 2 <= f->ix.slots);
		if (i % 3 == 0) /* tombstones count towards the load too */
			assert_int_equal(loom_index_put(&f->ix, f->dirfd, id, "eth0", NULL, 0), 0);
	}
	assert_true(f->ix.slots >= 512);
	loom_index_close(&f->ix);
	assert_int_equal(loom_index_open(&f->ix, f->dirfd, false), 0);
	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "c%u", i);
		assert_int_equal(has(f, id, "eth0", nth(i)), i % 3 != 0);
	}
	assert_int_equal(loom_index_walk(&f->ix, count_walk, &n), 0);
	assert_int_equal(n, 200);
	/* The rebuild renamed its temp file into place. */
	assert_int_equal(fstatat(f->dirfd, LOOM_INDEX_TMP, &st, 0), -1);
	assert_int_equal(fstat(f->ix.fd, &st), 0);
	assert_int_equal(st.st_size, (off_t)(f->ix.slots + 1) * BLOCK);
}

static void test_torn_and_garbage_records(void **state)
{
	struct fixture *f = *state;
	uint8_t b[BLOCK], saved[BLOCK];
	off_t off;
	int i;

	put_ok(f, "abc", "eth0", ip_of("10.0.0.5"));
	put_ok(f, "other", "eth0", ip_of("10.0.0.6"));
	off = (off_t)(slot_of(f, "abc", "eth0") + 1) * BLOCK;
	read_block(f, off, saved);

	/* A write torn half-way: checksum fails, no entry. */
	memcpy(b, saved, BLOCK);
	memset(b + BLOCK / 2, 0, BLOCK / 2);
	memset(b + 20, 0xee, 8);
	write_block(f, off, b, BLOCK);
	assert_int_equal(has(f, "abc", "eth0", ip_of("10.0.0.5")), 0);
	/* ...and its slot is written over by the next put. */
	put_ok(f, "abc", "eth0", ip_of("10.0.0.7"));
	assert_int_equal(has(f, "abc", "eth0", ip_of("10.0.0.7")), 1);

	/* Lies with a valid checksum: each field out of bounds. */
	{
		static const struct {
			int at;
			uint8_t v;
		} lies[] = {
			{ 8, 7 },     /* unknown state */
			{ 9, 0 },     /* no addresses */
			{ 9, 14 },    /* more than a record holds */
			{ 10, 0 },    /* empty ifname */
			{ 10, 16 },   /* ifname too long */
			{ 12, 0 },    /* id_len 0 (low byte; high is 0) */
			{ 13, 1 },    /* id_len 256 + 3 */
			{ 16, 5 },    /* address family */
			{ 21, 0xff }, /* IPv4 with bytes beyond the fourth */
		};

		for (i = 0; i < (int)(sizeof(lies) / sizeof(lies[0])); i++) {
			memcpy(b, saved, BLOCK);
			b[lies[i].at] = lies[i].v;
			reseal(b);
			write_block(f, off, b, BLOCK);
			if (has(f, "abc", "eth0", ip_of("10.0.0.5")) != 0)
				fail_msg("lies[%d] was trusted", i);
		}
		/* A NUL inside the key (which starts after the addresses). */
		memcpy(b, saved, BLOCK);
		b[16 + LOOM_INDEX_MAX_IPS * 17 + 1] = 0;
		reseal(b);
		write_block(f, off, b, BLOCK);
		assert_int_equal(has(f, "abc", "eth0", ip_of("10.0.0.5")), 0);
		write_block(f, off, saved, BLOCK);
		assert_int_equal(has(f, "abc", "eth0", ip_of("10.0.0.5")), 1);
	}
	assert_int_equal(has(f, "other", "eth0", ip_of("10.0.0.6")), 1);

	/* Random garbage in every slot: nothing trusted, nothing crashes, and
	 * puts still work (the garbage slots are reused). */
	srand(7);
	for (i = 0; i < (int)f->ix.slots; i++) {
		int k;

		for (k = 0; k < (int)BLOCK; k++)
			b[k] = (uint8_t)rand();
		write_block(f, (off_t)(i + 1) * BLOCK, b, BLOCK);
	}
	assert_int_equal(has(f, "other", "eth0", ip_of("10.0.0.6")), 0);
	{
		unsigned n = 0;

		assert_int_equal(loom_index_walk(&f->ix, count_walk, &n), 0);
		assert_int_equal(n, 0);
	}
	put_ok(f, "other", "eth0", ip_of("10.0.0.8"));
	assert_int_equal(has(f, "other", "eth0", ip_of("10.0.0.8")), 1);

	/* Cut short by a crash: the missing tail reads as empty slots. */
	assert_int_equal(ftruncate(f->ix.fd, BLOCK), 0);
	assert_int_equal(has(f, "other", "eth0", ip_of("10.0.0.8")), 0);
	put_ok(f, "other", "eth0", ip_of("10.0.0.8"));
	assert_int_equal(has(f, "other", "eth0", ip_of("10.0.0.8")), 1);
}

/* The header's checksum as index.h documents it: FNV-1a 64 of bytes
 * 0..503, little-endian in 504..511. */
static void reseal_header(uint8_t b[BLOCK])
{
	uint64_t h = 0xcbf29ce484222325ull;
	int i;

	for (i = 0; i < (int)BLOCK - 8; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	for (i = 0; i < 8; i++)
		b[BLOCK - 8 + i] = (uint8_t)(h >> (8 * i));
}

static void test_bad_header(void **state)
{
	static const struct {
		int at; /* little-endian u32 written here */
		uint32_t v;
		bool reseal;
	} cases[] = {
		{ 0, 0x584f4f4c, true },                /* magic "LOOX" */
		{ 8, 2, true },                         /* version */
		{ 12, 65, true },                       /* slots not a power of two */
		{ 12, 32, true },                       /* below the minimum */
		{ 12, LOOM_INDEX_MAX_SLOTS * 2, true }, /* beyond the maximum */
		{ 16, 1000, true },                     /* more used than slots */
		{ 100, 1, false },                      /* checksum */
	};
	struct fixture *f = *state;
	uint8_t b[BLOCK];
	size_t i;

	put_ok(f, "abc", "eth0", ip_of("10.0.0.5"));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		read_block(f, 0, b);
		b[cases[i].at] = (uint8_t)cases[i].v;
		b[cases[i].at + 1] = (uint8_t)(cases[i].v >> 8);
		b[cases[i].at + 2] = (uint8_t)(cases[i].v >> 16);
		b[cases[i].at + 3] = (uint8_t)(cases[i].v >> 24);
		if (cases[i].reseal)
			reseal_header(b);
		write_block(f, 0, b, BLOCK);
		loom_index_close(&f->ix);
		if (loom_index_open(&f->ix, f->dirfd, false) != -ENOENT)
			fail_msg("cases[%zu]: header trusted", i);
		/* A put starts a fresh, empty table. */
		put_ok(f, "new", "eth0", ip_of("10.0.0.9"));
		assert_int_equal(has(f, "abc", "eth0", ip_of("10.0.0.5")), 0);
		assert_int_equal(has(f, "new", "eth0", ip_of("10.0.0.9")), 1);
		put_ok(f, "abc", "eth0", ip_of("10.0.0.5"));
	}
	/* Not a regular file: absent, and replaced by a put. */
	loom_index_close(&f->ix);
	assert_int_equal(unlinkat(f->dirfd, LOOM_INDEX_FILE, 0), 0);
	assert_int_equal(mkfifoat(f->dirfd, LOOM_INDEX_FILE, 0600), 0);
	assert_int_equal(loom_index_open(&f->ix, f->dirfd, false), -ENOENT);
	put_ok(f, "abc", "eth0", ip_of("10.0.0.5"));
	assert_int_equal(has(f, "abc", "eth0", ip_of("10.0.0.5")), 1);
}

LOOM_TEST_MAIN(TEST_ST(test_insert_lookup_delete), TEST_ST(test_bad_keys),
	       TEST_ST(test_collision_and_tombstone_reuse), TEST_ST(test_rehash),
	       TEST_ST(test_torn_and_garbage_records), TEST_ST(test_bad_header))
