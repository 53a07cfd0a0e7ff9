/* The embedded datastore backend: "file:DIR".
 *
 * Layout of DIR (several processes share it: every simulated node's loomd
 * and loomctl):
 *   lock        flock(LOCK_EX) around every operation that reads or changes
 *               state, including get and list (they sweep expired leases)
 *   rev         the last revision given out, as decimal text
 *   data/NAME   one file per key: a 40-byte header (magic "LKV1", crc32 of
 *               the rest, key length, value length, create/mod revision,
 *               lease) then the key and the value.  NAME is the key with
 *               every byte outside [A-Za-z0-9_.-] (and a leading '.') as %XX,
 *               or "~" + FNV-1a-64 of the key when that is longer than 200
 *               bytes; the file holds the real key, so a hash collision is
 *               detected and refused, not silently merged.
 *   leases/ID   "TTL EXPIRY_MS": expiry in CLOCK_REALTIME milliseconds,
 *               because every process on the machine must agree on it
 *   log         the event log: a 16-byte header ("LOOMLOG1", the first
 *               revision it holds) then records framed as [u32 payload
 *               length][u32 crc32][payload: rev, type, create rev, lease,
 *               key length, value length, key, value], little-endian.
 *
 * A write under the lock: rev is bumped first (so no revision is ever given
 * out twice, even if what follows fails), then the data file is written to
 * data/.tmp.*, fsync'ed, renamed over NAME and the directory fsync'ed, then
 * the record is appended to the log and fdatasync'ed.  The rev file is not
 * fsync'ed: on open the revision is max(rev file, last log record), and the
 * log is.  A crash between the rename and the append loses only the event
 * (watchers miss it; get and list show the write).  A torn record at the
 * log's end is cut off by the next locked operation (under the lock nobody
 * can be mid-append); leftover temp files are removed when a store is opened.
 * When the log grows past LOG_MAX it is rewritten (temp + rename) keeping
 * about its last half, and the header records the first revision it still
 * holds; a watch from before that gets the resync store.h describes.
 *
 * Watches read the log without the lock (they only trust complete records
 * with a good checksum) and wake on inotify events of DIR (the log being
 * appended or replaced), through one inotify instance per process however
 * many watches it holds.  Each watch also wakes at the next lease expiry
 * and sweeps expired leases under the lock, so a dead node's keys vanish
 * at expiry even if nobody writes.
 *
 * A damaged data file makes get and list of it fail with LOOM_ERR_STORE
 * naming the file; an unconditional put or a delete replaces it.  Revoking
 * or renewing an unknown lease is LOOM_ERR_NOT_FOUND, as on etcd.
 *
 * A handle must not cross fork(): the flock belongs to the open file, which
 * parent and child would share.  Open a new handle in the child. */
#include "store_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file_replace.h"
#include "base/strset.h"

#define LOG_MAX (1024 * 1024)
#define LOG_HDR 16
#define REC_FRAME 8
#define REC_FIXED 33 /* rev 8, type 1, create 8, lease 8, klen 4, vlen 4 */
#define KV_HDR 40
#define NAME_ESC_MAX 200
#define LEASE_SCAN_MS 500 /* a watch looks at the leases at most this often */

struct fstore {
	struct loom_store base;
	char *dir;
	int dirfd, datafd, leasefd, lockfd, revfd;
	int logfd; /* the log as last seen under the lock */
	ino_t log_ino;
	uint64_t log_end; /* offset just after its last valid record */
	int64_t log_last; /* revision of that record */
	int64_t rev;      /* the last revision given out, valid under the lock */
	unsigned tmp_seq;
};

/* ---- encoding ---- */

static uint32_t crc32_buf(uint32_t crc, const unsigned char *p, size_t n)
{
	/* nibble table: small, and fast enough for values up to 1 MiB */
	static const uint32_t t[16] = {
		0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
		0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
		0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
	};

	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ t[crc & 15];
		crc = (crc >> 4) ^ t[crc & 15];
	}
	return ~crc;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, int64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)((uint64_t)v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return (int64_t)v;
}

static char *dup_bytes(const void *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		if (n)
			memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

int loom_store_file_parse_kv(const void *buf, size_t len, struct loom_kv *out, struct loom_err *err)
{
	const unsigned char *p = buf;
	uint32_t klen, vlen;

	memset(out, 0, sizeof(*out));
	if (len < KV_HDR || memcmp(p, "LKV1", 4) != 0)
		return loom_err_set(err, LOOM_ERR_STORE, "not a store record (bad header)");
	klen = get32(p + 8);
	vlen = get32(p + 12);
	if (klen < 1 || klen > LOOM_STORE_KEY_MAX || vlen > LOOM_STORE_VALUE_MAX ||
	    (uint64_t)KV_HDR + klen + vlen != len)
		return loom_err_set(err, LOOM_ERR_STORE, "store record: bad lengths");
	if (crc32_buf(0, p + 8, len - 8) != get32(p + 4))
		return loom_err_set(err, LOOM_ERR_STORE, "store record: checksum mismatch");
	if (memchr(p + KV_HDR, '\0', klen))
		return loom_err_set(err, LOOM_ERR_STORE, "store record: NUL in key");
	out->create_revision = get64(p + 16);
	out->mod_revision = get64(p + 24);
	out->lease = get64(p + 32);
	if (out->create_revision < 1 || out->mod_revision < out->create_revision ||
	    out->lease < 0) {
		memset(out, 0, sizeof(*out));
		return loom_err_set(err, LOOM_ERR_STORE, "store record: bad revisions");
	}
	out->key = dup_bytes(p + KV_HDR, klen);
	out->value = dup_bytes(p + KV_HDR + klen, vlen);
	out->value_len = vlen;
	if (!out->key || !out->value) {
		loom_kv_clear(out);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	}
	return 0;
}

struct rec {
	int64_t rev, create, lease;
	int type;
	const unsigned char *key, *value;
	uint32_t klen, vlen;
};

/* Validate the record at buf without allocating: its size, or 0. */
static size_t rec_check(const unsigned char *p, size_t len, struct rec *r)
{
	uint32_t plen;

	if (len < REC_FRAME)
		return 0;
	plen = get32(p);
	if (plen < REC_FIXED + 1 || plen > REC_FIXED + LOOM_STORE_KEY_MAX + LOOM_STORE_VALUE_MAX ||
	    len - REC_FRAME < plen)
		return 0;
	if (crc32_buf(0, p + REC_FRAME, plen) != get32(p + 4))
		return 0;
	p += REC_FRAME;
	r->rev = get64(p);
	r->type = p[8];
	r->create = get64(p + 9);
	r->lease = get64(p + 17);
	r->klen = get32(p + 25);
	r->vlen = get32(p + 29);
	if (r->rev < 1 || (r->type != LOOM_EV_PUT && r->type != LOOM_EV_DELETE) || r->klen < 1 ||
	    r->klen > LOOM_STORE_KEY_MAX || r->vlen > LOOM_STORE_VALUE_MAX ||
	    (uint64_t)REC_FIXED + r->klen + r->vlen != plen ||
	    (r->type == LOOM_EV_DELETE && r->vlen != 0))
		return 0;
	r->key = p + REC_FIXED;
	r->value = r->key + r->klen;
	if (memchr(r->key, '\0', r->klen))
		return 0;
	return REC_FRAME + plen;
}

static int rec_to_event(const struct rec *r, struct loom_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = (enum loom_event_type)r->type;
	ev->kv.key = dup_bytes(r->key, r->klen);
	ev->kv.value = dup_bytes(r->value, r->vlen);
	ev->kv.value_len = r->vlen;
	ev->kv.mod_revision = r->rev;
	ev->kv.create_revision = r->type == LOOM_EV_PUT ? r->create : 0;
	ev->kv.lease = r->type == LOOM_EV_PUT ? r->lease : 0;
	if (!ev->kv.key || !ev->kv.value) {
		loom_kv_clear(&ev->kv);
		return -1;
	}
	return 0;
}

size_t loom_store_file_parse_event(const void *buf, size_t len, struct loom_event *ev)
{
	struct rec r;
	size_t n = rec_check(buf, len, &r);

	memset(ev, 0, sizeof(*ev));
	if (n == 0 || rec_to_event(&r, ev) < 0)
		return 0;
	return n;
}

/* ---- small file helpers ---- */

static int64_t now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_all(int fd, const void *buf, size_t n, uint64_t off)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* Read [off, off + n) fully, or fewer bytes at EOF: the count, or -errno. */
static ssize_t read_at(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* The whole of a small file at dirfd/name: 1 and *buf (owned), 0 when it
 * does not exist, -errno. */
static int slurp(int dirfd, const char *name, size_t max, char **buf, size_t *len)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	char *b;
	ssize_t r;

	*buf = NULL;
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max)
		return -EFBIG;
	b = malloc((size_t)st.st_size + 1);
	if (!b)
		return -ENOMEM;
	r = read_at(fd, b, (size_t)st.st_size, 0);
	if (r < 0) {
		free(b);
		return (int)r;
	}
	b[r] = '\0';
	*buf = b;
	*len = (size_t)r;
	return 1;
}

static void key_name(const char *key, char name[NAME_MAX + 1])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	const unsigned char *k;

	for (k = (const unsigned char *)key; *k && o <= NAME_ESC_MAX; k++) {
		bool plain = (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
			     (*k >= '0' && *k <= '9') || *k == '_' || *k == '-' ||
			     (*k == '.' && k != (const unsigned char *)key);

		if (plain) {
			name[o++] = (char)*k;
		} else {
			name[o++] = '%';
			name[o++] = hex[*k >> 4];
			name[o++] = hex[*k & 15];
		}
	}
	if (*k || o > NAME_ESC_MAX) {
		uint64_t h = 0xcbf29ce484222325ULL;

		for (k = (const unsigned char *)key; *k; k++)
			h = (h ^ *k) * 0x100000001b3ULL;
		snprintf(name, NAME_MAX + 1, "~%016llx", (unsigned long long)h);
		return;
	}
	name[o] = '\0';
}

/* Write `buf` to dirfd/name atomically: temp file, fsync, rename, fsync dir. */
static int write_atomic(struct fstore *f, int dirfd, const char *name, const void *buf, size_t n,
			bool sync)
{
	char tmp[64];
	int fd, r;

	snprintf(tmp, sizeof(tmp), ".tmp.%ld.%u", (long)getpid(), f->tmp_seq++);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	r = write_all(fd, buf, n, 0);
	if (r == 0 && sync && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	if (sync && fsync(dirfd) < 0)
		return -errno;
	return 0;
}

static int store_errno(struct fstore *f, int e, const char *what, const char *name,
		       struct loom_err *err)
{
	return loom_err_errno(err, LOOM_ERR_STORE, e, "store file:%s: cannot %s %s", f->dir, what,
			      name);
}

/* ---- the log ---- */

static int log_write_header(int fd, int64_t first)
{
	unsigned char h[LOG_HDR];

	memcpy(h, "LOOMLOG1", 8);
	put64(h + 8, first);
	return write_all(fd, h, sizeof(h), 0);
}

/* Read the log's header: its first revision, or 0 when it is not (yet) a
 * valid header. */
static int64_t log_first(int fd)
{
	unsigned char h[LOG_HDR];

	if (read_at(fd, h, sizeof(h), 0) != LOG_HDR || memcmp(h, "LOOMLOG1", 8) != 0)
		return 0;
	return get64(h + 8) > 0 ? get64(h + 8) : 0;
}

/* Under the lock: follow the log to its valid end and cut any torn tail.
 * Reopens it when it was replaced (compaction by another process) and
 * creates it when missing. */
static int log_sync(struct fstore *f, struct loom_err *err)
{
	struct stat st;
	_cleanup_free_ unsigned char *buf = NULL;
	uint64_t off;
	ssize_t n;

	if (fstatat(f->dirfd, "log", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return store_errno(f, errno, "stat", "log", err);
		st.st_ino = 0;
	}
	if (f->logfd < 0 || st.st_ino != f->log_ino) {
		int fd = openat(f->dirfd, "log", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

		if (fd < 0)
			return store_errno(f, errno, "open", "log", err);
		if (f->logfd >= 0)
			close(f->logfd);
		f->logfd = fd;
		if (fstat(fd, &st) < 0)
			return store_errno(f, errno, "stat", "log", err);
		f->log_ino = st.st_ino;
		f->log_last = 0;
		if (log_first(fd) == 0) {
			/* new, or a header torn by a crash at creation: history
			 * starts after whatever the rev file says */
			if (ftruncate(fd, 0) < 0 || log_write_header(fd, f->rev + 1) < 0 ||
			    fdatasync(fd) < 0)
				return store_errno(f, errno, "initialise", "log", err);
			st.st_size = LOG_HDR;
		}
		f->log_end = LOG_HDR;
	} else if (fstat(f->logfd, &st) < 0) {
		return store_errno(f, errno, "stat", "log", err);
	}
	if ((uint64_t)st.st_size == f->log_end)
		return 0;
	if ((uint64_t)st.st_size < f->log_end) {
		/* someone cut a torn tail we had not seen: rescan */
		f->log_end = LOG_HDR;
		f->log_last = 0;
	}
	off = f->log_end;
	buf = malloc((size_t)st.st_size - off + 1);
	if (!buf)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	n = read_at(f->logfd, buf, (size_t)st.st_size - off, off);
	if (n < 0)
		return store_errno(f, (int)-n, "read", "log", err);
	for (size_t pos = 0; pos < (size_t)n;) {
		struct rec r;
		size_t len = rec_check(buf + pos, (size_t)n - pos, &r);

		if (len == 0)
			break;
		pos += len;
		f->log_end += len;
		f->log_last = r.rev;
	}
	if ((uint64_t)st.st_size > f->log_end && ftruncate(f->logfd, (off_t)f->log_end) < 0)
		return store_errno(f, errno, "truncate the torn end of", "log", err);
	return 0;
}

/* Rewrite the log keeping about its last half.  Failure is not an error of
 * the operation that triggered it: the log just stays long. */
static void log_compact(struct fstore *f)
{
	_cleanup_free_ unsigned char *buf = NULL;
	size_t len = f->log_end - LOG_HDR, pos = 0, keep = 0;
	int64_t first = 0;
	int fd;
	struct stat st;

	buf = malloc(len);
	if (!buf || read_at(f->logfd, buf, len, LOG_HDR) != (ssize_t)len)
		return;
	while (pos < len) {
		struct rec r;
		size_t n = rec_check(buf + pos, len - pos, &r);

		if (n == 0)
			return;
		if (len - pos <= LOG_MAX / 2 || pos + n == len) {
			keep = pos;
			break;
		}
		first = r.rev + 1;
		pos += n;
	}
	if (first == 0)
		return;
	fd = openat(f->dirfd, "log.tmp", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return;
	if (log_write_header(fd, first) < 0 || write_all(fd, buf + keep, len - keep, LOG_HDR) < 0 ||
	    fdatasync(fd) < 0 || fstat(fd, &st) < 0 ||
	    renameat(f->dirfd, "log.tmp", f->dirfd, "log") < 0) {
		close(fd);
		unlinkat(f->dirfd, "log.tmp", 0);
		return;
	}
	fsync(f->dirfd);
	close(f->logfd);
	f->logfd = fd;
	f->log_ino = st.st_ino;
	f->log_end = LOG_HDR + len - keep;
}

static int log_append(struct fstore *f, int type, const struct loom_kv *kv, struct loom_err *err)
{
	size_t klen = strlen(kv->key), plen = REC_FIXED + klen + kv->value_len;
	_cleanup_free_ unsigned char *b = malloc(REC_FRAME + plen);
	unsigned char *p;
	int r;

	if (!b)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	p = b + REC_FRAME;
	put64(p, kv->mod_revision);
	p[8] = (unsigned char)type;
	put64(p + 9, kv->create_revision);
	put64(p + 17, kv->lease);
	put32(p + 25, (uint32_t)klen);
	put32(p + 29, (uint32_t)kv->value_len);
	memcpy(p + REC_FIXED, kv->key, klen);
	if (kv->value_len)
		memcpy(p + REC_FIXED + klen, kv->value, kv->value_len);
	put32(b, (uint32_t)plen);
	put32(b + 4, crc32_buf(0, p, plen));
	r = write_all(f->logfd, b, REC_FRAME + plen, f->log_end);
	if (r == 0 && fdatasync(f->logfd) < 0)
		r = -errno;
	if (r < 0) {
		/* do not leave half a record for the next append to follow */
		if (ftruncate(f->logfd, (off_t)f->log_end) < 0) {
			/* the next log_sync cuts it */
		}
		return store_errno(f, -r, "append to", "log", err);
	}
	f->log_end += REC_FRAME + plen;
	f->log_last = kv->mod_revision;
	if (f->log_end > LOG_MAX)
		log_compact(f);
	return 0;
}

/* ---- lock, revision ---- */

static int64_t rev_read(struct fstore *f)
{
	char b[32];
	ssize_t n = read_at(f->revfd, b, sizeof(b) - 1, 0);
	char *end;
	long long v;

	if (n <= 0)
		return 0;
	b[n] = '\0';
	v = strtoll(b, &end, 10);
	return v > 0 ? v : 0;
}

static int lock_begin(struct fstore *f, struct loom_err *err)
{
	while (flock(f->lockfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return store_errno(f, errno, "lock", "lock", err);
	f->rev = rev_read(f);
	if (log_sync(f, err) < 0) {
		flock(f->lockfd, LOCK_UN);
		return -1;
	}
	if (f->log_last > f->rev)
		f->rev = f->log_last;
	return 0;
}

static void lock_end(struct fstore *f)
{
	flock(f->lockfd, LOCK_UN);
}

static int64_t rev_next(struct fstore *f)
{
	char b[24];
	int n;

	f->rev++;
	n = snprintf(b, sizeof(b), "%020lld\n", (long long)f->rev);
	/* fixed width, one small pwrite: never a mix of old and new digits */
	write_all(f->revfd, b, (size_t)n, 0);
	return f->rev;
}

/* ---- keys ---- */

/* 1 and *out when the key exists, 0 when not, -1 with err, -2 with err when
 * its file is damaged (a put or delete may replace it). */
static int kv_read(struct fstore *f, const char *key, struct loom_kv *out, struct loom_err *err)
{
	char name[NAME_MAX + 1];
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	key_name(key, name);
	r = slurp(f->datafd, name, KV_HDR + LOOM_STORE_KEY_MAX + LOOM_STORE_VALUE_MAX, &buf, &len);
	if (r < 0)
		return store_errno(f, -r, "read", name, err);
	if (r == 0)
		return 0;
	if (loom_store_file_parse_kv(buf, len, out, err) < 0) {
		char where[NAME_MAX + 64];

		snprintf(where, sizeof(where), "store file:%s: data/%s", f->dir, name);
		loom_err_prefix(err, where);
		return -2;
	}
	if (strcmp(out->key, key) != 0) {
		loom_err_set(err, LOOM_ERR_STORE,
			     "store file:%s: data/%s holds \"%s\", not \"%s\" (hash collision)",
			     f->dir, name, out->key, key);
		loom_kv_clear(out);
		return -1;
	}
	return 1;
}

/* Give kv the next revision and make it durable: data file, then log. */
static int kv_commit(struct fstore *f, int type, struct loom_kv *kv, struct loom_err *err)
{
	char name[NAME_MAX + 1];
	int r;

	key_name(kv->key, name);
	kv->mod_revision = rev_next(f);
	if (type == LOOM_EV_PUT) {
		size_t klen = strlen(kv->key), len = KV_HDR + klen + kv->value_len;
		_cleanup_free_ unsigned char *b = malloc(len);

		if (!b)
			return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
		if (kv->create_revision == 0)
			kv->create_revision = kv->mod_revision;
		memcpy(b, "LKV1", 4);
		put32(b + 8, (uint32_t)klen);
		put32(b + 12, (uint32_t)kv->value_len);
		put64(b + 16, kv->create_revision);
		put64(b + 24, kv->mod_revision);
		put64(b + 32, kv->lease);
		memcpy(b + KV_HDR, kv->key, klen);
		if (kv->value_len)
			memcpy(b + KV_HDR + klen, kv->value, kv->value_len);
		put32(b + 4, crc32_buf(0, b + 8, len - 8));
		r = write_atomic(f, f->datafd, name, b, len, true);
		if (r < 0)
			return store_errno(f, -r, "write", name, err);
	} else {
		if (unlinkat(f->datafd, name, 0) < 0 && errno != ENOENT)
			return store_errno(f, errno, "remove", name, err);
		fsync(f->datafd);
	}
	return log_append(f, type, kv, err);
}

/* Every key, sorted; filtered by prefix and/or lease (lease < 0: any). */
static int kv_scan(struct fstore *f, const char *prefix, int64_t lease, struct loom_kv **kvs,
		   size_t *n, struct loom_err *err);

static int delete_key(struct fstore *f, const char *key, struct loom_err *err)
{
	struct loom_kv kv = { .key = (char *)key, .value = (char *)"" };

	return kv_commit(f, LOOM_EV_DELETE, &kv, err);
}

/* ---- leases ---- */

/* 1 and ttl/expiry when the lease exists and is well-formed, 0 when it does
 * not exist, -1 (treated as expired) when it is garbage. */
static int lease_read(int leasefd, const char *name, int64_t *ttl, int64_t *expiry)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	long long t, e;
	int r = slurp(leasefd, name, 64, &buf, &len);

	if (r <= 0)
		return r == 0 ? 0 : (r == -EFBIG ? -1 : 0);
	if (sscanf(buf, "%lld %lld", &t, &e) != 2 || t < 1)
		return -1;
	*ttl = t;
	*expiry = e;
	return 1;
}

static int lease_write(struct fstore *f, int64_t id, int64_t ttl, bool sync)
{
	char name[32], b[64];
	int n;

	snprintf(name, sizeof(name), "%lld", (long long)id);
	n = snprintf(b, sizeof(b), "%lld %lld\n", (long long)ttl,
		     (long long)(now_ms(CLOCK_REALTIME) + ttl * 1000));
	return write_atomic(f, f->leasefd, name, b, (size_t)n, sync);
}

/* Under the lock: delete the lease's keys (DELETE events) and the lease. */
static int lease_drop(struct fstore *f, int64_t id, struct loom_err *err)
{
	struct loom_kv *kvs = NULL;
	size_t n = 0, i;
	char name[32];
	int r = 0;

	if (kv_scan(f, "", id, &kvs, &n, err) < 0)
		return -1;
	for (i = 0; i < n && r == 0; i++)
		r = delete_key(f, kvs[i].key, err);
	loom_kvs_free(kvs, n);
	if (r < 0)
		return -1;
	snprintf(name, sizeof(name), "%lld", (long long)id);
	unlinkat(f->leasefd, name, 0);
	return 0;
}

/* Ids of expired leases (without the lock: a hint, re-checked under it). */
static int leases_expired(int leasefd, int64_t **ids, size_t *n)
{
	int fd = openat(leasefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int64_t now = now_ms(CLOCK_REALTIME);
	DIR *d;
	struct dirent *de;

	*ids = NULL;
	*n = 0;
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		int64_t ttl = 0, exp = 0, *g;
		char *end;
		long long id;
		int r;

		if (de->d_name[0] == '.')
			continue;
		id = strtoll(de->d_name, &end, 10);
		if (*end || id < 1)
			continue;
		r = lease_read(leasefd, de->d_name, &ttl, &exp);
		if (r == 0 || (r == 1 && exp > now))
			continue;
		g = realloc(*ids, (*n + 1) * sizeof(**ids));
		if (!g)
			break;
		*ids = g;
		(*ids)[(*n)++] = id;
	}
	closedir(d);
	return 0;
}

static int sweep(struct fstore *f, struct loom_err *err)
{
	int64_t *ids = NULL;
	size_t n = 0, i;
	int r = 0;

	leases_expired(f->leasefd, &ids, &n);
	for (i = 0; i < n && r == 0; i++)
		r = lease_drop(f, ids[i], err);
	free(ids);
	return r;
}

/* lock + sweep: the start of every operation */
static int op_begin(struct fstore *f, struct loom_err *err)
{
	if (lock_begin(f, err) < 0)
		return -1;
	if (sweep(f, err) < 0) {
		lock_end(f);
		return -1;
	}
	return 0;
}

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct loom_kv *)a)->key, ((const struct loom_kv *)b)->key);
}

static int kv_scan(struct fstore *f, const char *prefix, int64_t lease, struct loom_kv **kvs,
		   size_t *n, struct loom_err *err)
{
	int fd = openat(f->datafd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t plen = strlen(prefix), cap = 0;
	struct loom_kv *v = NULL;
	struct dirent *de;
	DIR *d;
	int r = 0;

	*kvs = NULL;
	*n = 0;
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return store_errno(f, errno, "read", "data/", err);
	}
	while ((de = readdir(d))) {
		_cleanup_free_ char *buf = NULL;
		struct loom_kv kv;
		size_t len = 0;
		int s;

		if (de->d_name[0] == '.')
			continue;
		s = slurp(f->datafd, de->d_name, KV_HDR + LOOM_STORE_KEY_MAX + LOOM_STORE_VALUE_MAX,
			  &buf, &len);
		if (s == 0)
			continue;
		if (s < 0) {
			r = store_errno(f, -s, "read data/", de->d_name, err);
			break;
		}
		if (loom_store_file_parse_kv(buf, len, &kv, err) < 0) {
			char where[NAME_MAX + 64];

			snprintf(where, sizeof(where), "store file:%s: data/%s", f->dir,
				 de->d_name);
			loom_err_prefix(err, where);
			r = -1;
			break;
		}
		if (strncmp(kv.key, prefix, plen) != 0 || (lease >= 0 && kv.lease != lease)) {
			loom_kv_clear(&kv);
			continue;
		}
		if (*n == cap) {
			struct loom_kv *g = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!g) {
				loom_kv_clear(&kv);
				r = loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
				break;
			}
			v = g;
		}
		v[(*n)++] = kv;
	}
	closedir(d);
	if (r < 0) {
		loom_kvs_free(v, *n);
		*n = 0;
		return -1;
	}
	if (*n > 1)
		qsort(v, *n, sizeof(*v), kv_cmp);
	*kvs = v;
	return 0;
}

/* ---- ops ---- */

static void remove_temps(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strncmp(de->d_name, ".tmp.", 5) == 0)
			unlinkat(dirfd, de->d_name, 0);
	closedir(d);
}

static void file_close(struct loom_store *s)
{
	struct fstore *f = (struct fstore *)s;

	if (!f)
		return;
	int fds[] = { f->dirfd, f->datafd, f->leasefd, f->lockfd, f->revfd, f->logfd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(f->dir);
	free(f);
}

static int file_open(const char *rest, struct loom_store **out, struct loom_err *err)
{
	struct fstore *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	f->dirfd = f->datafd = f->leasefd = f->lockfd = f->revfd = f->logfd = -1;
	f->dir = strdup(rest);
	if (!f->dir) {
		free(f);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	}
	r = loom_mkdir_p(rest, 0755);
	if (r < 0) {
		loom_err_errno(err, LOOM_ERR_STORE, -r,
			       "store file:%s: cannot create the directory", rest);
		goto fail;
	}
	f->dirfd = open(rest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dirfd < 0) {
		loom_err_errno(err, LOOM_ERR_STORE, errno, "store file:%s: cannot open", rest);
		goto fail;
	}
	if ((mkdirat(f->dirfd, "data", 0755) < 0 && errno != EEXIST) ||
	    (mkdirat(f->dirfd, "leases", 0755) < 0 && errno != EEXIST) ||
	    (f->datafd = openat(f->dirfd, "data", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (f->leasefd = openat(f->dirfd, "leases", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (f->lockfd = openat(f->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0 ||
	    (f->revfd = openat(f->dirfd, "rev", O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		loom_err_errno(err, LOOM_ERR_STORE, errno, "store file:%s: cannot set up the store",
			       rest);
		goto fail;
	}
	if (lock_begin(f, err) < 0)
		goto fail;
	/* writers make temp files only under the lock: these are a crash's */
	remove_temps(f->datafd);
	remove_temps(f->leasefd);
	unlinkat(f->dirfd, "log.tmp", 0);
	lock_end(f);
	*out = &f->base;
	return 0;
fail:
	file_close(&f->base);
	return -1;
}

static int file_get(struct loom_store *s, const char *key, struct loom_kv *out,
		    struct loom_err *err)
{
	struct fstore *f = (struct fstore *)s;
	int r;

	if (op_begin(f, err) < 0)
		return -1;
	r = kv_read(f, key, out, err);
	lock_end(f);
	return r < 0 ? -1 : r;
}

static int lease_exists(struct fstore *f, int64_t lease)
{
	char name[32];
	int64_t ttl, exp;

	snprintf(name, sizeof(name), "%lld", (long long)lease);
	return lease_read(f->leasefd, name, &ttl, &exp) == 1;
}

static int file_put(struct loom_store *s, int mode, const char *key, int64_t expected,
		    const void *value, size_t len, int64_t lease, int64_t *rev,
		    struct loom_err *err)
{
	struct fstore *f = (struct fstore *)s;
	struct loom_kv old = { 0 }, kv = { 0 };
	int r;

	if (op_begin(f, err) < 0)
		return -1;
	r = kv_read(f, key, &old, err);
	if (r == -2 && mode == LOOM_STORE_PUT)
		r = 0; /* an unconditional put repairs a damaged record */
	if (r < 0) {
		r = -1;
		goto out;
	}
	if ((mode == LOOM_STORE_CREATE && r == 1) ||
	    (mode == LOOM_STORE_CAS && (r == 0 || old.mod_revision != expected))) {
		r = 0;
		goto out;
	}
	if (lease && !lease_exists(f, lease)) {
		r = loom_err_set(err, LOOM_ERR_NOT_FOUND, "store file:%s: lease %lld not found",
				 f->dir, (long long)lease);
		goto out;
	}
	kv.key = (char *)key;
	kv.value = (char *)value;
	kv.value_len = len;
	kv.lease = lease;
	kv.create_revision = r == 1 ? old.create_revision : 0;
	r = kv_commit(f, LOOM_EV_PUT, &kv, err);
	if (r == 0) {
		*rev = kv.mod_revision;
		r = 1;
	}
out:
	lock_end(f);
	loom_kv_clear(&old);
	if (mode == LOOM_STORE_PUT && r == 1)
		return 0;
	return r;
}

static int file_del(struct loom_store *s, const char *key, int64_t *rev, struct loom_err *err)
{
	struct fstore *f = (struct fstore *)s;
	struct loom_kv old = { 0 };
	int r;

	if (op_begin(f, err) < 0)
		return -1;
	r = kv_read(f, key, &old, err);
	if (r == 1 || r == -2) {
		r = delete_key(f, key, err) < 0 ? -1 : 1;
		if (r == 1)
			*rev = f->rev;
	}
	lock_end(f);
	loom_kv_clear(&old);
	return r;
}

static int file_list(struct loom_store *s, const char *prefix, struct loom_kv **kvs, size_t *n,
		     int64_t *rev, struct loom_err *err)
{
	struct fstore *f = (struct fstore *)s;
	int r;

	if (op_begin(f, err) < 0)
		return -1;
	r = kv_scan(f, prefix, -1, kvs, n, err);
	*rev = f->rev;
	lock_end(f);
	return r;
}

static int file_lease_grant(struct loom_store *s, int64_t ttl, int64_t *lease, struct loom_err *err)
{
	struct fstore *f = (struct fstore *)s;
	int64_t id = 0;
	int r;

	if (op_begin(f, err) < 0)
		return -1;
	do {
		if (getrandom(&id, sizeof(id), 0) != sizeof(id)) {
			lock_end(f);
			return loom_err_errno(err, LOOM_ERR_STORE, errno, "cannot draw a lease id");
		}
		id &= INT64_MAX;
	} while (id == 0 || lease_exists(f, id));
	r = lease_write(f, id, ttl, true);
	lock_end(f);
	if (r < 0)
		return store_errno(f, -r, "write", "a lease", err);
	*lease = id;
	return 0;
}

static int file_lease_keepalive(struct loom_store *s, int64_t lease, struct loom_err *err)
{
	struct fstore *f = (struct fstore *)s;
	int64_t ttl = 0, exp = 0;
	char name[32];
	int r;

	if (op_begin(f, err) < 0)
		return -1;
	snprintf(name, sizeof(name), "%lld", (long long)lease);
	/* the sweep just dropped it if it had expired */
	if (lease_read(f->leasefd, name, &ttl, &exp) != 1) {
		lock_end(f);
		return loom_err_set(err, LOOM_ERR_NOT_FOUND,
				    "store file:%s: lease %lld not found (expired or revoked)",
				    f->dir, (long long)lease);
	}
	/* not fsync'ed: after a power loss the lease falls back to its last
	 * durable expiry, which only makes it expire sooner */
	r = lease_write(f, lease, ttl, false);
	lock_end(f);
	if (r < 0)
		return store_errno(f, -r, "renew lease", name, err);
	return 0;
}

static int file_lease_ttl(struct loom_store *s, int64_t lease, int64_t *remaining,
			  struct loom_err *err)
{
	struct fstore *f = (struct fstore *)s;
	int64_t ttl = 0, exp = 0, left;
	char name[32];
	int r;

	/* op_begin sweeps: a lease read after it has not expired */
	if (op_begin(f, err) < 0)
		return -1;
	snprintf(name, sizeof(name), "%lld", (long long)lease);
	r = lease_read(f->leasefd, name, &ttl, &exp);
	lock_end(f);
	if (r != 1)
		return loom_err_set(err, LOOM_ERR_NOT_FOUND,
				    "store file:%s: lease %lld not found (expired or revoked)",
				    f->dir, (long long)lease);
	left = exp - now_ms(CLOCK_REALTIME);
	/* rounded down like etcd's; a clock stepped back cannot stretch it */
	*remaining = left <= 0 ? 0 : left / 1000 > ttl ? ttl : left / 1000;
	return 0;
}

static int file_lease_revoke(struct loom_store *s, int64_t lease, struct loom_err *err)
{
	struct fstore *f = (struct fstore *)s;
	int r;

	if (op_begin(f, err) < 0)
		return -1;
	if (!lease_exists(f, lease)) {
		lock_end(f);
		return loom_err_set(err, LOOM_ERR_NOT_FOUND, "store file:%s: lease %lld not found",
				    f->dir, (long long)lease);
	}
	r = lease_drop(f, lease, err);
	lock_end(f);
	return r;
}

/* ---- watch ---- */

/* The process's one inotify instance (inotify instances are per user, 128
 * by default: a simulated cluster of 50 nodes ran out when every watch
 * took its own).  Every file: watch of the process shares it; each holds a
 * reference on the inotify watch of its store directory (the kernel gives
 * one watch descriptor per inode, so the references are counted here).
 *
 * Whoever drains the inotify (any watch's next call) kicks every watch by
 * arming its timerfd to fire at once, so each watch's own fd turns
 * readable and its owner looks at the log, whichever watch read the
 * inotify.  A watch's fd is an epoll set of {the hub's inotify, its own
 * timerfd}; the timerfd also wakes it for the next lease expiry, when it
 * sweeps. */
struct fwatch;

static struct {
	pthread_mutex_t lock;
	pid_t pid; /* a forked child starts a hub of its own */
	int ifd;   /* -1 when no watch is open */
	struct hub_dir {
		int wd;
		unsigned refs;
	} * dirs;
	size_t n_dirs;
	struct fwatch **watches;
	size_t n_watches;
} hub = { .lock = PTHREAD_MUTEX_INITIALIZER, .ifd = -1 };

struct fwatch {
	struct loom_watch base;
	struct fstore *f; /* a handle of its own: sweeps, resyncs */
	char *prefix;
	size_t plen;
	int wd;        /* the hub's inotify watch of DIR, -1 = none */
	int epfd, tfd; /* the watch's pollable fd; its timer */
	int logfd;
	ino_t log_ino;
	uint64_t off;         /* next byte of the log to read */
	int64_t next;         /* next revision to deliver */
	struct loom_event *q; /* pending events, q[qhead..qn) */
	size_t qhead, qn, qcap;
	struct loom_strset known; /* keys delivered as present: for resync */
	int64_t next_sweep;       /* CLOCK_REALTIME ms of the next lease expiry, 0 = none */
	int64_t last_scan;        /* CLOCK_MONOTONIC ms of the last look at the leases */
};

/* Under hub.lock: after a fork, the parent's hub is not ours. */
static void hub_check_pid(void)
{
	if (hub.pid == getpid())
		return;
	if (hub.ifd >= 0)
		close(hub.ifd);
	hub.ifd = -1;
	free(hub.dirs);
	free(hub.watches);
	hub.dirs = NULL;
	hub.watches = NULL;
	hub.n_dirs = hub.n_watches = 0;
	hub.pid = getpid();
}

static int hub_join(struct fwatch *w, const char *dir)
{
	struct fwatch **ws;
	struct hub_dir *ds;
	size_t i;
	int e = 0;

	pthread_mutex_lock(&hub.lock);
	hub_check_pid();
	if (hub.ifd < 0 && (hub.ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0) {
		e = errno;
		goto out;
	}
	ws = realloc(hub.watches, (hub.n_watches + 1) * sizeof(*ws));
	ds = ws ? realloc(hub.dirs, (hub.n_dirs + 1) * sizeof(*ds)) : NULL;
	if (ws)
		hub.watches = ws;
	if (ds)
		hub.dirs = ds;
	if (!ws || !ds) {
		e = ENOMEM;
		goto out;
	}
	w->wd = inotify_add_watch(hub.ifd, dir, IN_MODIFY | IN_MOVED_TO | IN_CREATE);
	if (w->wd < 0) {
		e = errno;
		goto out;
	}
	for (i = 0; i < hub.n_dirs && hub.dirs[i].wd != w->wd; i++) {
	}
	if (i == hub.n_dirs)
		hub.dirs[hub.n_dirs++] = (struct hub_dir){ .wd = w->wd };
	hub.dirs[i].refs++;
	hub.watches[hub.n_watches++] = w;
out:
	if (e && hub.n_watches == 0 && hub.ifd >= 0) {
		close(hub.ifd);
		hub.ifd = -1;
	}
	pthread_mutex_unlock(&hub.lock);
	return -e;
}

static void hub_leave(struct fwatch *w)
{
	size_t i;

	pthread_mutex_lock(&hub.lock);
	hub_check_pid();
	for (i = 0; i < hub.n_watches; i++)
		if (hub.watches[i] == w) {
			hub.watches[i] = hub.watches[--hub.n_watches];
			break;
		}
	for (i = 0; w->wd >= 0 && i < hub.n_dirs; i++)
		if (hub.dirs[i].wd == w->wd) {
			if (--hub.dirs[i].refs == 0) {
				inotify_rm_watch(hub.ifd, w->wd);
				hub.dirs[i] = hub.dirs[--hub.n_dirs];
			}
			break;
		}
	w->wd = -1;
	if (hub.n_watches == 0 && hub.ifd >= 0) {
		close(hub.ifd);
		hub.ifd = -1;
	}
	pthread_mutex_unlock(&hub.lock);
}

/* Read what the inotify holds; when it held anything, kick every watch.
 * An overflow (IN_Q_OVERFLOW) needs nothing more: every watch re-reads
 * the log from where it is. */
static void hub_drain(void)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;
	size_t i;

	pthread_mutex_lock(&hub.lock);
	hub_check_pid();
	while (hub.ifd >= 0 && read(hub.ifd, buf, sizeof(buf)) > 0)
		any = true;
	for (i = 0; any && i < hub.n_watches; i++)
		loom_store_timerfd_in(hub.watches[i]->tfd, 0);
	pthread_mutex_unlock(&hub.lock);
}

/* Take ownership of ev's members into the queue. */
static int queue_push(struct fwatch *w, struct loom_event *ev)
{
	if (ev->type != LOOM_EV_PUT)
		loom_strset_del(&w->known, ev->kv.key);
	else if (loom_strset_put(&w->known, ev->kv.key, 0) < 0)
		goto oom;
	if (w->qhead == w->qn)
		w->qhead = w->qn = 0;
	if (w->qn == w->qcap) {
		size_t c = w->qcap ? w->qcap * 2 : 16;
		struct loom_event *g = realloc(w->q, c * sizeof(*g));

		if (!g)
			goto oom;
		w->q = g;
		w->qcap = c;
	}
	w->q[w->qn++] = *ev;
	return 0;
oom:
	loom_kv_clear(&ev->kv);
	return -1;
}

/* History before w->next is gone: deliver the present state instead. */
static int watch_resync(struct fwatch *w, struct loom_err *err)
{
	struct loom_kv *kvs = NULL;
	size_t n = 0, i, j;
	int64_t rev;
	struct loom_strset old = w->known;

	if (file_list(&w->f->base, w->prefix, &kvs, &n, &rev, err) < 0)
		return -1;
	memset(&w->known, 0, sizeof(w->known));
	/* keys delivered before and gone now: both lists are sorted */
	for (i = j = 0; i < old.n; i++) {
		struct loom_event ev = { .type = LOOM_EV_DELETE };

		while (j < n && strcmp(kvs[j].key, old.keys[i]) < 0)
			j++;
		if (j < n && strcmp(kvs[j].key, old.keys[i]) == 0)
			continue;
		ev.kv.key = old.keys[i];
		old.keys[i] = NULL;
		ev.kv.value = strdup("");
		ev.kv.mod_revision = rev;
		if (!ev.kv.value) {
			loom_kv_clear(&ev.kv);
			goto oom;
		}
		if (queue_push(w, &ev) < 0)
			goto oom;
	}
	for (i = 0; i < n; i++) {
		struct loom_event ev = { .type = LOOM_EV_PUT, .kv = kvs[i] };

		memset(&kvs[i], 0, sizeof(kvs[i]));
		if (queue_push(w, &ev) < 0)
			goto oom;
	}
	loom_kvs_free(kvs, n);
	loom_strset_clear(&old);
	w->next = rev + 1;
	return 0;
oom:
	loom_kvs_free(kvs, n);
	loom_strset_clear(&old);
	return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
}

/* At most this much of the log is read per wakeup: more than the largest
 * record (a 1 MiB value and its key), so every record fits in one read. */
#define WATCH_READ_MAX (4u * 1024 * 1024)

/* Read what the log holds past w->off into the queue. */
static int watch_fill(struct fwatch *w, struct loom_err *err)
{
	struct fstore *f = w->f;
	_cleanup_free_ unsigned char *buf = NULL;
	struct stat st;
	uint64_t avail;
	ssize_t n;
	size_t pos;

	if (fstatat(f->dirfd, "log", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0; /* not created yet: nothing happened */
	if (w->logfd < 0 || st.st_ino != w->log_ino) {
		int fd = openat(f->dirfd, "log", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		int64_t first;

		if (fd < 0)
			return 0;
		if (fstat(fd, &st) < 0 || (first = log_first(fd)) == 0) {
			close(fd); /* a header being written: look again on the next event */
			return 0;
		}
		if (w->logfd >= 0)
			close(w->logfd);
		w->logfd = fd;
		w->log_ino = st.st_ino;
		w->off = LOG_HDR;
		if (w->next < first && watch_resync(w, err) < 0)
			return -1;
	} else if (fstat(w->logfd, &st) < 0) {
		return loom_err_errno(err, LOOM_ERR_STORE, errno,
				      "store file:%s: cannot stat the log", f->dir);
	}
	if ((uint64_t)st.st_size < w->off)
		w->off = LOG_HDR; /* a torn tail was cut: records may now differ */
	if ((uint64_t)st.st_size == w->off)
		return 0;
	/* Read what was appended, in bounded chunks: the log is outside input
	 * and a concurrent writer may have grown it far past the compaction size. */
	avail = (uint64_t)st.st_size - w->off;
	if (avail > WATCH_READ_MAX)
		avail = WATCH_READ_MAX;
	buf = malloc((size_t)avail);
	if (!buf)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	n = read_at(w->logfd, buf, (size_t)avail, w->off);
	if (n < 0)
		return loom_err_errno(err, LOOM_ERR_STORE, (int)-n,
				      "store file:%s: cannot read the log", f->dir);
	for (pos = 0; pos < (size_t)n;) {
		struct rec r;
		size_t len = rec_check(buf + pos, (size_t)n - pos, &r);

		/* incomplete: still being written, or torn (then cut and
		 * rewritten by the next writer): wait for more */
		if (len == 0)
			break;
		pos += len;
		w->off += len;
		if (r.rev < w->next)
			continue;
		w->next = r.rev + 1;
		if (r.klen >= w->plen && memcmp(r.key, w->prefix, w->plen) == 0) {
			struct loom_event ev;

			if (rec_to_event(&r, &ev) < 0 || queue_push(w, &ev) < 0)
				return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
		}
	}
	return 0;
}

/* The earliest expiry (CLOCK_REALTIME ms) among the store's leases, 0 when
 * there is none.  Read without the lock: a hint, like leases_expired. */
static int64_t leases_next_expiry(int leasefd)
{
	int fd = openat(leasefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int64_t best = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		int64_t ttl = 0, exp = 0;

		if (de->d_name[0] == '.')
			continue;
		if (lease_read(leasefd, de->d_name, &ttl, &exp) != 1)
			exp = 1; /* garbage counts as expired: sweep it now */
		if (best == 0 || exp < best)
			best = exp;
	}
	closedir(d);
	return best;
}

/* One non-blocking step: the next queued event (1), or nothing now (0).
 * Leaves the watch's timer armed for its next lease expiry. */
static int file_watch_next(struct loom_watch *base, struct loom_event *ev, struct loom_err *err)
{
	struct fwatch *w = (struct fwatch *)base;
	int64_t now, mono, wake;
	uint64_t ticks;
	bool scan;

	if (w->qhead < w->qn) {
		*ev = w->q[w->qhead++];
		return 1;
	}
	hub_drain();
	while (read(w->tfd, &ticks, sizeof(ticks)) > 0) {
	}
	if (watch_fill(w, err) < 0)
		return -1;
	now = now_ms(CLOCK_REALTIME);
	mono = now_ms(CLOCK_MONOTONIC);
	/* The leases are rescanned when one is due, and otherwise at most
	 * every LEASE_SCAN_MS however many events arrive: a lease granted or
	 * renewed by another process moves the next expiry (a renewal only
	 * later: the timer then fires early, finds nothing, and rearms). */
	scan = (w->next_sweep && now >= w->next_sweep) || mono - w->last_scan >= LEASE_SCAN_MS;
	if (scan) {
		w->last_scan = mono;
		w->next_sweep = leases_next_expiry(w->f->leasefd);
		if (w->next_sweep && w->next_sweep <= now) {
			/* sweep under the lock; its deletes go to the log: read them */
			if (op_begin(w->f, err) < 0)
				return -1;
			lock_end(w->f);
			if (watch_fill(w, err) < 0)
				return -1;
			w->next_sweep = leases_next_expiry(w->f->leasefd);
		}
	}
	wake = w->next_sweep ? w->next_sweep - now + 5 : INT64_MAX;
	if (!scan && w->last_scan + LEASE_SCAN_MS - mono < wake)
		wake = w->last_scan + LEASE_SCAN_MS - mono;
	if (wake != INT64_MAX)
		loom_store_timerfd_in(w->tfd, (long)wake);
	if (w->qhead < w->qn) {
		*ev = w->q[w->qhead++];
		return 1;
	}
	return 0;
}

static int file_watch_fd(const struct loom_watch *base)
{
	return ((const struct fwatch *)base)->epfd;
}

static void file_watch_close(struct loom_watch *base)
{
	struct fwatch *w = (struct fwatch *)base;
	size_t i;

	if (!w)
		return;
	hub_leave(w);
	for (i = w->qhead; i < w->qn; i++)
		loom_kv_clear(&w->q[i].kv);
	free(w->q);
	loom_strset_clear(&w->known);
	loom_closep(&w->epfd);
	loom_closep(&w->tfd);
	loom_closep(&w->logfd);
	file_close(&w->f->base);
	free(w->prefix);
	free(w);
}

static int file_watch(struct loom_store *s, const char *prefix, int64_t from,
		      struct loom_watch **out, struct loom_err *err)
{
	struct fstore *f = (struct fstore *)s;
	struct loom_store *own = NULL;
	struct epoll_event ee = { .events = EPOLLIN };
	struct fwatch *w;
	int r;

	if (file_open(f->dir, &own, err) < 0)
		return -1;
	w = calloc(1, sizeof(*w));
	if (!w) {
		file_close(own);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	}
	w->f = (struct fstore *)own;
	w->logfd = -1;
	w->wd = -1;
	w->plen = strlen(prefix);
	w->prefix = strdup(prefix);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (!w->prefix || w->epfd < 0 || w->tfd < 0 ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->tfd, &ee) < 0) {
		loom_err_errno(err, LOOM_ERR_STORE, w->prefix ? errno : ENOMEM,
			       "store file:%s: cannot set up a watch", f->dir);
		goto fail;
	}
	/* inotify before the start revision is fixed: no change slips between */
	r = hub_join(w, f->dir);
	if (r < 0) {
		loom_err_errno(err, LOOM_ERR_STORE, -r, "store file:%s: cannot watch", f->dir);
		goto fail;
	}
	/* the hub's fd lives while any watch does, and this one is in it */
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, hub.ifd, &ee) < 0) {
		loom_err_errno(err, LOOM_ERR_STORE, errno, "store file:%s: cannot watch", f->dir);
		goto fail;
	}
	if (from == 0) {
		if (lock_begin(w->f, err) < 0)
			goto fail;
		from = w->f->rev + 1;
		lock_end(w->f);
	}
	w->next = from;
	if (watch_fill(w, err) < 0)
		goto fail;
	/* a first step soon: sweeps and anything already queued */
	loom_store_timerfd_in(w->tfd, 0);
	*out = &w->base;
	return 0;
fail:
	file_watch_close(&w->base);
	return -1;
}

const struct loom_store_ops loom_store_file_ops = {
	.scheme = "file",
	LOOM_STORE_KV_OPS(file),
	LOOM_STORE_WATCH_OPS(file),
};
