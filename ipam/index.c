/* The per-attachment index: a fixed-slot hash table in one file (format and
 * contract in index.h).
 *
 * Everything read from the file is outside input: a record is trusted only
 * when its checksum holds and every field is in bounds, the header only when
 * its magic, version, checksum and slot count are sane, and no probe runs
 * longer than PROBE_MAX slots whatever the file says. */
#include "index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "LOOMIDX" /* with its NUL: 8 bytes */
#define VERSION 1u
#define FILE_MODE 0600
#define DIR_MODE 0700
#define BLOCK LOOM_INDEX_BLOCK
#define PROBE_MAX 128u   /* longest probe we follow or create */
#define CHUNK_BLOCKS 64u /* blocks read per pread by full passes */

/* Header block. */
#define H_VERSION 8
#define H_SLOTS 12
#define H_USED 16
#define H_SUM (BLOCK - 8)

/* Record block: a checksum of the rest, then fields, then the key. */
#define R_STATE 8
#define R_NIPS 9
#define R_IFLEN 10
#define R_IDLEN 12
#define R_IPS 16
#define IP_SIZE 17 /* family (4 or 6) + 16 address bytes */
#define R_KEY (R_IPS + LOOM_INDEX_MAX_IPS * IP_SIZE)

_Static_assert(R_KEY + LOOM_INDEX_ID_MAX + 1 + LOOM_INDEX_IFNAME_MAX <= BLOCK,
	       "an index record must fit its block");
_Static_assert((LOOM_INDEX_MIN_SLOTS & (LOOM_INDEX_MIN_SLOTS - 1)) == 0 &&
		       (LOOM_INDEX_MAX_SLOTS & (LOOM_INDEX_MAX_SLOTS - 1)) == 0,
	       "slot counts are powers of two");

enum state {
	ST_EMPTY = 0,
	ST_LIVE = 1,
	ST_TOMB = 2,
	ST_BAD = 3
};

struct rec {
	uint8_t n;
	struct loom_ip ips[LOOM_INDEX_MAX_IPS];
	char id[LOOM_INDEX_ID_MAX + 1];
	char ifname[LOOM_INDEX_IFNAME_MAX + 1];
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len--) {
		h ^= *p++;
		h *= FNV_PRIME;
	}
	return h;
}

uint64_t loom_index_hash(const char *id, const char *ifname)
{
	uint64_t h = fnv(FNV_OFFSET, id, strlen(id));

	h = fnv(h, "@", 1);
	return fnv(h, ifname, strlen(ifname));
}

static bool key_ok(const char *id, const char *ifname)
{
	size_t a = strlen(id), b = strlen(ifname);

	return a > 0 && a <= LOOM_INDEX_ID_MAX && b > 0 && b <= LOOM_INDEX_IFNAME_MAX;
}

static off_t slot_off(uint32_t i)
{
	return (off_t)(i + 1) * BLOCK;
}

/* Short reads (a file cut short by a crash) read as zeros: empty slots. */
static int pread_full(int fd, uint8_t *buf, size_t len, off_t off)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, buf + got, len - got, off + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	memset(buf + got, 0, len - got);
	return 0;
}

static int pwrite_full(int fd, const uint8_t *buf, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, buf + done, len - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

static bool all_zero(const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (b[i])
			return false;
	}
	return true;
}

static void seal(uint8_t b[BLOCK])
{
	put64(b, fnv(FNV_OFFSET, b + 8, BLOCK - 8));
}

static enum state parse_record(const uint8_t b[BLOCK], struct rec *r)
{
	size_t id_len, if_len, i;

	if (all_zero(b, BLOCK))
		return ST_EMPTY;
	if (get64(b) != fnv(FNV_OFFSET, b + 8, BLOCK - 8))
		return ST_BAD; /* torn or garbage */
	if (b[R_STATE] == ST_TOMB)
		return ST_TOMB;
	if (b[R_STATE] != ST_LIVE)
		return ST_BAD;
	r->n = b[R_NIPS];
	if_len = b[R_IFLEN];
	id_len = get16(b + R_IDLEN);
	if (r->n == 0 || r->n > LOOM_INDEX_MAX_IPS || id_len == 0 || id_len > LOOM_INDEX_ID_MAX ||
	    if_len == 0 || if_len > LOOM_INDEX_IFNAME_MAX || b[R_KEY + id_len] != '@' ||
	    memchr(b + R_KEY, '\0', id_len) || memchr(b + R_KEY + id_len + 1, '\0', if_len))
		return ST_BAD;
	memcpy(r->id, b + R_KEY, id_len);
	r->id[id_len] = '\0';
	memcpy(r->ifname, b + R_KEY + id_len + 1, if_len);
	r->ifname[if_len] = '\0';
	for (i = 0; i < r->n; i++) {
		const uint8_t *p = b + R_IPS + i * IP_SIZE;
		struct loom_ip *ip = &r->ips[i];

		memset(ip, 0, sizeof(*ip));
		if (p[0] == 4 && all_zero(p + 5, 12)) {
			ip->family = AF_INET;
			memcpy(ip->addr, p + 1, 4);
		} else if (p[0] == 6) {
			ip->family = AF_INET6;
			memcpy(ip->addr, p + 1, 16);
		} else {
			return ST_BAD;
		}
	}
	return ST_LIVE;
}

static void build_record(uint8_t b[BLOCK], const char *id, const char *ifname,
			 const struct loom_ip *ips, size_t n)
{
	size_t id_len = strlen(id), if_len = strlen(ifname), i;

	memset(b, 0, BLOCK);
	b[R_STATE] = n ? ST_LIVE : ST_TOMB;
	if (n) {
		b[R_NIPS] = (uint8_t)n;
		b[R_IFLEN] = (uint8_t)if_len;
		put16(b + R_IDLEN, (uint16_t)id_len);
		for (i = 0; i < n; i++) {
			uint8_t *p = b + R_IPS + i * IP_SIZE;

			p[0] = ips[i].family == AF_INET ? 4 : 6;
			memcpy(p + 1, ips[i].addr, ips[i].family == AF_INET ? 4 : 16);
		}
		memcpy(b + R_KEY, id, id_len);
		b[R_KEY + id_len] = '@';
		memcpy(b + R_KEY + id_len + 1, ifname, if_len);
	}
	seal(b);
}

static bool parse_header(const uint8_t b[BLOCK], uint32_t *slots, uint32_t *used)
{
	if (memcmp(b, MAGIC, sizeof(MAGIC)) != 0 || get32(b + H_VERSION) != VERSION ||
	    get64(b + H_SUM) != fnv(FNV_OFFSET, b, H_SUM))
		return false;
	*slots = get32(b + H_SLOTS);
	*used = get32(b + H_USED);
	return *slots >= LOOM_INDEX_MIN_SLOTS && *slots <= LOOM_INDEX_MAX_SLOTS &&
	       (*slots & (*slots - 1)) == 0 && *used <= *slots;
}

static int write_header(int fd, uint32_t slots, uint32_t used)
{
	uint8_t b[BLOCK];

	memset(b, 0, sizeof(b));
	memcpy(b, MAGIC, sizeof(MAGIC));
	put32(b + H_VERSION, VERSION);
	put32(b + H_SLOTS, slots);
	put32(b + H_USED, used);
	put64(b + H_SUM, fnv(FNV_OFFSET, b, H_SUM));
	return pwrite_full(fd, b, BLOCK, 0);
}

void loom_index_close(struct loom_index *ix)
{
	if (!ix)
		return;
	if (ix->fd >= 0)
		close(ix->fd);
	ix->fd = -1;
	ix->slots = ix->used = 0;
}

static int count_one(const char *id, const char *ifname, void *live)
{
	(void)id;
	(void)ifname;
	++*(uint32_t *)live;
	return 0;
}

/* Live records of the open table (0 when none is open). */
static int count_live(struct loom_index *ix, uint32_t *live)
{
	*live = 0;
	return loom_index_walk(ix, count_one, live);
}

/* Copy the live records of the open table (if any) into a new table sized
 * for them at load <= 1/4, built in LOOM_INDEX_TMP and renamed over the
 * index: readers (under the same lock) see the old table or the new one.
 * Not synced: a crash may leave the new name with no content, which reads
 * as no index. */
static int rebuild(struct loom_index *ix, int dirfd)
{
	uint32_t live, slots = LOOM_INDEX_MIN_SLOTS, used = 0, i, k, h, probe;
	uint8_t *buf = NULL, *taken = NULL;
	struct rec r;
	int fd, rc;

	rc = count_live(ix, &live);
	if (rc < 0)
		return rc;
	while ((uint64_t)(live + 1) * 4 > slots && slots < LOOM_INDEX_MAX_SLOTS)
		slots <<= 1;
	if (mkdirat(dirfd, LOOM_INDEX_DIR, DIR_MODE) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(dirfd, LOOM_INDEX_TMP, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		    FILE_MODE);
	if (fd < 0)
		return -errno;
	buf = malloc(CHUNK_BLOCKS * BLOCK);
	taken = calloc(slots / 8, 1);
	if (!buf || !taken) {
		rc = -ENOMEM;
		goto out;
	}
	/* Sparse: empty slots are holes and read as zeros. */
	if (ftruncate(fd, slot_off(slots)) < 0) {
		rc = -errno;
		goto out;
	}
	for (i = 0; ix->fd >= 0 && i < ix->slots && rc == 0; i += CHUNK_BLOCKS) {
		rc = pread_full(ix->fd, buf, CHUNK_BLOCKS * BLOCK, slot_off(i));
		for (k = 0; rc == 0 && k < CHUNK_BLOCKS && i + k < ix->slots; k++) {
			if (parse_record(buf + k * BLOCK, &r) != ST_LIVE || used * 2 >= slots)
				continue;
			h = (uint32_t)loom_index_hash(r.id, r.ifname) & (slots - 1);
			for (probe = 0; probe < PROBE_MAX && (taken[h / 8] & (1u << (h % 8)));
			     probe++)
				h = (h + 1) & (slots - 1);
			if (probe == PROBE_MAX)
				continue; /* unreachable by lookups: drop the hint */
			taken[h / 8] |= (uint8_t)(1u << (h % 8));
			used++;
			rc = pwrite_full(fd, buf + k * BLOCK, BLOCK, slot_off(h));
		}
	}
	if (rc == 0)
		rc = write_header(fd, slots, used);
	if (rc == 0 && renameat(dirfd, LOOM_INDEX_TMP, dirfd, LOOM_INDEX_FILE) < 0)
		rc = -errno;
out:
	free(buf);
	free(taken);
	if (rc < 0) {
		close(fd);
		unlinkat(dirfd, LOOM_INDEX_TMP, 0);
		return rc;
	}
	loom_index_close(ix);
	ix->fd = fd;
	ix->slots = slots;
	ix->used = used;
	return 0;
}

int loom_index_open(struct loom_index *ix, int dirfd, bool create)
{
	uint8_t hdr[BLOCK];
	struct stat st;
	int fd, rc;

	if (ix->fd >= 0)
		return 0;
	ix->slots = ix->used = 0;
	/* O_NONBLOCK: a FIFO planted under the name must not hang us. */
	fd = openat(dirfd, LOOM_INDEX_FILE, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = openat(dirfd, LOOM_INDEX_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno != ENOENT && errno != ENOTDIR && errno != ELOOP && errno != ENXIO)
		return -errno;
	if (fd >= 0) {
		rc = fstat(fd, &st) < 0 ? -errno : 0;
		if (rc == 0 && S_ISREG(st.st_mode))
			rc = pread_full(fd, hdr, BLOCK, 0);
		else if (rc == 0)
			rc = -ENOENT;
		if (rc == 0 && parse_header(hdr, &ix->slots, &ix->used)) {
			ix->fd = fd;
			return 0;
		}
		close(fd);
		if (rc < 0 && rc != -ENOENT)
			return rc;
	}
	ix->slots = ix->used = 0;
	return create ? rebuild(ix, dirfd) : -ENOENT;
}

/* Where (id, ifname) is, or would go.  *found: its live slot or -1; *free:
 * the first tombstone or unusable slot on the way, else the empty slot that
 * ended the probe, else -1; *fresh: *free is an empty slot (taking it adds
 * to `used`).  *r gets the found record. */
static int probe(struct loom_index *ix, const char *id, const char *ifname, int64_t *found,
		 int64_t *free_slot, bool *fresh, struct rec *r)
{
	uint32_t i = (uint32_t)loom_index_hash(id, ifname) & (ix->slots - 1), n;
	uint8_t b[BLOCK];
	enum state st;
	int rc;

	*found = *free_slot = -1;
	*fresh = false;
	for (n = 0; n < PROBE_MAX && n < ix->slots; n++, i = (i + 1) & (ix->slots - 1)) {
		rc = pread_full(ix->fd, b, BLOCK, slot_off(i));
		if (rc < 0)
			return rc;
		st = parse_record(b, r);
		if (st == ST_EMPTY) {
			if (*free_slot < 0) {
				*free_slot = i;
				*fresh = true;
			}
			return 0;
		}
		if (st == ST_LIVE && strcmp(r->id, id) == 0 && strcmp(r->ifname, ifname) == 0) {
			*found = i;
			return 0;
		}
		if (st != ST_LIVE && *free_slot < 0)
			*free_slot = i;
	}
	return 0;
}

int loom_index_get(struct loom_index *ix, const char *id, const char *ifname, struct loom_ip *ips,
		   size_t max)
{
	int64_t found, free_slot;
	struct rec r;
	bool fresh;
	int rc;

	if (ix->fd < 0 || !key_ok(id, ifname))
		return -ENOENT;
	rc = probe(ix, id, ifname, &found, &free_slot, &fresh, &r);
	if (rc < 0)
		return rc;
	if (found < 0)
		return -ENOENT;
	if (r.n > max)
		return -E2BIG;
	memcpy(ips, r.ips, r.n * sizeof(*ips));
	return r.n;
}

int loom_index_put(struct loom_index *ix, int dirfd, const char *id, const char *ifname,
		   const struct loom_ip *ips, size_t n)
{
	int64_t found, free_slot;
	uint8_t b[BLOCK];
	bool fresh, rebuilt = false;
	struct rec r;
	int rc;

	if (!key_ok(id, ifname))
		return -EINVAL;
	if (n > LOOM_INDEX_MAX_IPS)
		return -E2BIG;
	rc = loom_index_open(ix, dirfd, n > 0);
	if (rc == -ENOENT && n == 0)
		return 0; /* no index, no entry */
	if (rc < 0)
		return rc;
	build_record(b, id, ifname, ips, n);
	for (;;) {
		rc = probe(ix, id, ifname, &found, &free_slot, &fresh, &r);
		if (rc < 0)
			return rc;
		if (found >= 0)
			return pwrite_full(ix->fd, b, BLOCK, slot_off((uint32_t)found));
		if (n == 0)
			return 0;
		if (free_slot >= 0 && !fresh)
			return pwrite_full(ix->fd, b, BLOCK, slot_off((uint32_t)free_slot));
		if (free_slot >= 0 && ((uint64_t)ix->used + 1) * 2 <= ix->slots) {
			/* Record first: a header that runs ahead of the slots only
			 * brings the next rebuild forward. */
			rc = pwrite_full(ix->fd, b, BLOCK, slot_off((uint32_t)free_slot));
			if (rc == 0)
				rc = write_header(ix->fd, ix->slots, ix->used + 1);
			if (rc == 0)
				ix->used++;
			return rc;
		}
		if (rebuilt)
			return -ENOSPC;
		rc = rebuild(ix, dirfd);
		if (rc < 0)
			return rc;
		rebuilt = true;
	}
}

int loom_index_walk(struct loom_index *ix, loom_index_walk_fn fn, void *user)
{
	uint8_t *buf;
	struct rec r;
	uint32_t i, k;
	int rc = 0;

	if (ix->fd < 0)
		return 0;
	buf = malloc(CHUNK_BLOCKS * BLOCK);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < ix->slots && rc == 0; i += CHUNK_BLOCKS) {
		rc = pread_full(ix->fd, buf, CHUNK_BLOCKS * BLOCK, slot_off(i));
		for (k = 0; rc == 0 && k < CHUNK_BLOCKS && i + k < ix->slots; k++) {
			if (parse_record(buf + k * BLOCK, &r) == ST_LIVE)
				rc = fn(r.id, r.ifname, user);
		}
	}
	free(buf);
	return rc;
}
