/* The on-disk address store (layout and compatibility rules in store.h).
 *
 * Every operation runs under flock(LOCK_EX) on "lock", the same lock
 * host-local takes, so loom and host-local processes can share one store.
 * All paths are resolved relative to the directory's fd: the directory is
 * opened once and a rename of a parent cannot redirect later writes. */
#include "ipam_store.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file_replace.h"

#define LINE_BREAK "\r\n" /* host-local's separator between ID and ifname */
#define LAST_PREFIX "last_reserved_ip."
#define TMP_DIR ".loom-tmp"
#define DIR_MODE 0755 /* what host-local creates */
#define PRIVATE_DIR_MODE 0700
#define FILE_MODE 0600

static int store_err(struct loom_err *err, int e, const char *what, const char *path)
{
	return loom_err_errno(err, LOOM_ERR_STORE, e, "%s %s: %s", what, path, strerror(e));
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read a regular file of at most `max` bytes into buf (NUL-terminated; buf
 * holds max + 1).  -EFBIG when larger, -EINVAL when not a regular file:
 * what lies in the store is outside input.  O_NONBLOCK so a FIFO planted
 * under an address's name cannot hang us. */
static ssize_t read_small(int dirfd, const char *name, char *buf, size_t max)
{
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd, e;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	for (;;) {
		n = read(fd, buf + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			close(fd);
			return -EFBIG; /* grew since fstat */
		}
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

static void trim(char **s, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)(*s)[0])) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
	(*s)[*len] = '\0';
}

int loom_ipam_store_open(struct loom_ipam_store *s, const char *data_dir, const char *network,
			 struct loom_err *err)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->dirfd = s->lockfd = -1;
	s->idx.fd = -1;
	if (snprintf(s->path, sizeof(s->path), "%s/%s", data_dir, network) >= (int)sizeof(s->path))
		return loom_err_set(err, LOOM_ERR_STORE, "store path %s/%s is too long", data_dir,
				    network);
	/* The directory exists on every call but the first: open first,
	 * create only when missing. */
	s->dirfd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0 && errno == ENOENT) {
		/* Each missing component 0755 (umask applies, as for host-local). */
		rc = loom_mkdir_p(s->path, DIR_MODE);
		if (rc < 0)
			return store_err(err, -rc, "cannot create store directory", s->path);
		s->dirfd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (s->dirfd < 0)
		return store_err(err, errno, "cannot open store directory", s->path);
	/* host-local opens the lock read-only too: flock needs no write access,
	 * and a read-only store can still be inspected by CHECK. */
	s->lockfd =
		openat(s->dirfd, "lock", O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, FILE_MODE);
	if (s->lockfd < 0) {
		rc = errno;
		loom_ipam_store_close(s);
		return store_err(err, rc, "cannot open the lock file in", s->path);
	}
	while ((rc = flock(s->lockfd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (rc < 0) {
		rc = errno;
		loom_ipam_store_close(s);
		return store_err(err, rc, "cannot lock", s->path);
	}
	return 0;
}

void loom_ipam_store_close(struct loom_ipam_store *s)
{
	if (!s)
		return;
	loom_index_close(&s->idx);
	/* Closing the last fd of the open file description drops the flock. */
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->lockfd = s->dirfd = -1;
}

static int ensure_tmp_dir(struct loom_ipam_store *s)
{
	if (s->have_tmp_dir)
		return 0;
	if (mkdirat(s->dirfd, TMP_DIR, PRIVATE_DIR_MODE) < 0 && errno != EEXIST)
		return -errno;
	s->have_tmp_dir = true;
	return 0;
}

/* Create a temp file in .loom-tmp, making the directory on first use. */
static int open_tmp(struct loom_ipam_store *s, const char *tmp)
{
	int fd, rc;

	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		    FILE_MODE);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	rc = ensure_tmp_dir(s);
	if (rc < 0)
		return rc;
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		    FILE_MODE);
	return fd >= 0 ? fd : -errno;
}

/* Fallback for filesystems without O_TMPFILE: a named temp file in
 * .loom-tmp (never an address's name, so no one reads it as a reservation),
 * hard-linked to the address's name.  link() fails with EEXIST exactly like
 * O_EXCL, so it is still create-or-fail, and the content is already there. */
static int reserve_named(struct loom_ipam_store *s, const char *name, const char *content,
			 size_t len, struct loom_err *err)
{
	static const char tmp[] = TMP_DIR "/reserve";
	int fd, rc, e;

	fd = open_tmp(s, tmp);
	if (fd < 0)
		return store_err(err, -fd, "cannot create a temp file in", s->path);
	rc = write_all(fd, content, len);
	close(fd);
	if (rc < 0) {
		unlinkat(s->dirfd, tmp, 0);
		return store_err(err, -rc, "cannot write a temp file in", s->path);
	}
	rc = linkat(s->dirfd, tmp, s->dirfd, name, 0);
	e = errno;
	unlinkat(s->dirfd, tmp, 0);
	if (rc == 0)
		return 1;
	if (e == EEXIST)
		return 0;
	return store_err(err, e, "cannot reserve", name);
}

int loom_ipam_store_reserve(struct loom_ipam_store *s, const struct loom_ip *ip, const char *id,
			    const char *ifname, struct loom_err *err)
{
	char name[LOOM_IP_STRLEN], content[LOOM_IPAM_STORE_ID_MAX + IFNAMSIZ + 4];
	char proc[64];
	int fd, rc, e;
	int len;

	loom_ip_fmt(ip, name);
	len = snprintf(content, sizeof(content), "%s" LINE_BREAK "%s", id, ifname);
	if (len < 0 || (size_t)len >= sizeof(content))
		return loom_err_set(err, LOOM_ERR_INTERNAL, "container ID or ifname too long");
	if (s->before_reserve && (rc = s->before_reserve(s, ip, s->before_reserve_arg)) < 0)
		return store_err(err, -rc, "cannot write the index in", s->path);
	if (s->no_tmpfile)
		return reserve_named(s, name, content, (size_t)len, err);

	/* The reservation must appear with its content or not at all: host-local
	 * creates the file with O_EXCL and then writes, so a kill in between
	 * leaves an empty file that no container ID matches and no DEL
	 * releases.  An unnamed O_TMPFILE is written first, then linked under
	 * the address's name; linkat fails with EEXIST when the address is
	 * taken, which makes it the create-or-fail step.
	 *
	 * No fsync (docs/durability.md): once linkat returns, the page cache
	 * holds the name and its content, and every later reader sees both,
	 * whatever becomes of this process (kill -9, OOM).  Only a machine
	 * crash loses them, and a machine crash kills every pod the store
	 * speaks of: what it can leave is stale reservations, which GC and
	 * loomd's sweep at start (sweep.h) release. */
	fd = openat(s->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, FILE_MODE);
	if (fd < 0) {
		e = errno;
		if (e == EOPNOTSUPP || e == EISDIR || e == EINVAL) {
			s->no_tmpfile = true;
			return reserve_named(s, name, content, (size_t)len, err);
		}
		return store_err(err, e, "cannot create a file in", s->path);
	}
	rc = write_all(fd, content, (size_t)len);
	if (rc < 0) {
		close(fd);
		return store_err(err, -rc, "cannot write a reservation in", s->path);
	}
	/* Linking an O_TMPFILE by fd needs either CAP_DAC_READ_SEARCH
	 * (AT_EMPTY_PATH) or the /proc/self/fd magic link, which any user may
	 * follow for its own fds. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	rc = linkat(AT_FDCWD, proc, s->dirfd, name, AT_SYMLINK_FOLLOW);
	e = errno;
	close(fd);
	if (rc == 0)
		return 1;
	if (e == EEXIST)
		return 0;
	if (e == ENOENT) { /* no /proc mounted */
		s->no_tmpfile = true;
		return reserve_named(s, name, content, (size_t)len, err);
	}
	return store_err(err, e, "cannot reserve", name);
}

bool loom_ipam_store_exists(struct loom_ipam_store *s, const struct loom_ip *ip)
{
	char name[LOOM_IP_STRLEN];
	struct stat st;

	loom_ip_fmt(ip, name);
	/* Anything under the name blocks the reservation, so anything counts;
	 * an error other than ENOENT is "maybe": let reserve decide. */
	return fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
}

/* Parse an address file as host-local compares it: the whole content,
 * whitespace-trimmed, is "<id>\r\n<ifname>" or (old versions) "<id>". */
static void parse_holder(char *buf, size_t len, struct loom_holder *h)
{
	char *sep;

	memset(h, 0, sizeof(*h));
	if (strlen(buf) != len)
		return; /* NUL bytes: garbage */
	trim(&buf, &len);
	if (len == 0)
		return;
	sep = strstr(buf, LINE_BREAK);
	if (!sep) {
		if (len >= sizeof(h->id))
			return;
		memcpy(h->id, buf, len + 1);
		h->legacy = true;
		h->valid = true;
		return;
	}
	*sep = '\0';
	if (strlen(buf) >= sizeof(h->id) || strlen(sep + 2) >= sizeof(h->ifname))
		return;
	snprintf(h->id, sizeof(h->id), "%s", buf);
	snprintf(h->ifname, sizeof(h->ifname), "%s", sep + 2);
	h->valid = true;
}

static int holder_by_name(struct loom_ipam_store *s, const char *name, struct loom_holder *h)
{
	char buf[LOOM_IPAM_STORE_FILE_MAX + 1];
	ssize_t n;

	memset(h, 0, sizeof(*h));
	n = read_small(s->dirfd, name, buf, LOOM_IPAM_STORE_FILE_MAX);
	if (n == -ENOENT)
		return -ENOENT;
	if (n < 0)
		return 0; /* exists, but unreadable or oversized: held by no one we know */
	parse_holder(buf, (size_t)n, h);
	return 0;
}

int loom_ipam_store_holder(struct loom_ipam_store *s, const struct loom_ip *ip,
			   struct loom_holder *h)
{
	char name[LOOM_IP_STRLEN];

	return holder_by_name(s, loom_ip_fmt(ip, name), h);
}

bool loom_holder_is(const struct loom_holder *h, const char *id, const char *ifname, bool legacy_ok)
{
	if (!h->valid || strcmp(h->id, id) != 0)
		return false;
	return h->legacy ? legacy_ok : strcmp(h->ifname, ifname) == 0;
}

int loom_ipam_store_release_name(struct loom_ipam_store *s, const char *name)
{
	if (unlinkat(s->dirfd, name, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

int loom_ipam_store_release(struct loom_ipam_store *s, const struct loom_ip *ip)
{
	char name[LOOM_IP_STRLEN];

	return loom_ipam_store_release_name(s, loom_ip_fmt(ip, name));
}

int loom_ipam_store_last_get(struct loom_ipam_store *s, size_t set, struct loom_ip *out)
{
	char name[64], buf[LOOM_IP_STRLEN + 16], *p = buf;
	ssize_t n;
	size_t len;

	snprintf(name, sizeof(name), LAST_PREFIX "%zu", set);
	n = read_small(s->dirfd, name, buf, sizeof(buf) - 1);
	if (n < 0)
		return (int)n;
	len = (size_t)n;
	trim(&p, &len);
	return loom_ip_parse(p, out);
}

int loom_ipam_store_last_set(struct loom_ipam_store *s, size_t set, const struct loom_ip *ip)
{
	char name[64], addr[LOOM_IP_STRLEN];
	struct stat st;
	size_t len;
	int fd, rc = 0;

	snprintf(name, sizeof(name), LAST_PREFIX "%zu", set);
	/* Overwritten in place, as host-local does: a new inode (temp +
	 * rename) costs more than the rest of the hint's upkeep together, and
	 * a torn or lost hint is tolerated by every reader (host-local parses
	 * it as a nil IP and starts over; so do we).  O_CREAT only when it is
	 * missing; O_NONBLOCK so a FIFO planted here fails with ENXIO. */
	fd = openat(s->dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		fd = openat(s->dirfd, name,
			    O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, FILE_MODE);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	loom_ip_fmt(ip, addr);
	len = strlen(addr);
	/* Write, then cut any longer old content, rather than O_TRUNC: ext4
	 * treats truncate-to-zero-then-write as a replace and starts writeback
	 * on close (auto_da_alloc), which we do not need for a hint. */
	while (rc == 0) {
		ssize_t n = pwrite(fd, addr, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		rc = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
		break;
	}
	if (rc == 0 && (size_t)st.st_size > len && ftruncate(fd, (off_t)len) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* ---- per-attachment index (index.c) ---- */

int loom_ipam_store_index_get(struct loom_ipam_store *s, const char *id, const char *ifname,
			      struct loom_ip *ips, size_t max)
{
	int rc = loom_index_open(&s->idx, s->dirfd, false);

	if (rc < 0)
		return rc;
	rc = loom_index_get(&s->idx, id, ifname, ips, max);
	return rc == -E2BIG ? -ENOENT : rc;
}

int loom_ipam_store_index_put(struct loom_ipam_store *s, const char *id, const char *ifname,
			      const struct loom_ip *ips, size_t n)
{
	return loom_index_put(&s->idx, s->dirfd, id, ifname, ips, n);
}

/* ---- walks ---- */

static bool address_name(const char *name, struct loom_ip *ip)
{
	if (name[0] == '.' || strcmp(name, "lock") == 0 ||
	    strncmp(name, LAST_PREFIX, strlen(LAST_PREFIX)) == 0)
		return false;
	return loom_ip_parse(name, ip) == 0;
}

static DIR *open_dir_copy(int fd)
{
	DIR *d;
	int copy = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (copy < 0)
		return NULL;
	d = fdopendir(copy);
	if (!d)
		close(copy);
	return d;
}

static bool regular_entry(int dirfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type == DT_REG)
		return true;
	if (de->d_type != DT_UNKNOWN)
		return false;
	return fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int loom_ipam_store_walk(struct loom_ipam_store *s, bool read_holders, loom_ipam_store_walk_fn fn,
			 void *user)
{
	struct loom_holder h;
	struct dirent *de;
	struct loom_ip ip;
	DIR *d = open_dir_copy(s->dirfd);
	int rc = 0;

	if (!d)
		return -errno;
	for (;;) {
		errno = 0; /* readdir reports errors only through errno */
		de = readdir(d);
		if (!de) {
			rc = errno ? -errno : 0;
			break;
		}
		if (!address_name(de->d_name, &ip) || !regular_entry(s->dirfd, de))
			continue;
		memset(&h, 0, sizeof(h));
		if (read_holders && holder_by_name(s, de->d_name, &h) == -ENOENT)
			continue; /* released under our feet: only a non-locking writer does that */
		rc = fn(s, de->d_name, &ip, &h, user);
		if (rc != 0)
			break;
	}
	closedir(d);
	return rc;
}

struct index_walk {
	struct loom_ipam_store *s;
	loom_ipam_store_index_walk_fn fn;
	void *user;
};

static int index_walk_one(const char *id, const char *ifname, void *user)
{
	struct index_walk *w = user;

	return w->fn(w->s, id, ifname, w->user);
}

int loom_ipam_store_index_walk(struct loom_ipam_store *s, loom_ipam_store_index_walk_fn fn,
			       void *user)
{
	struct index_walk w = { .s = s, .fn = fn, .user = user };
	int rc = loom_index_open(&s->idx, s->dirfd, false);

	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	return loom_index_walk(&s->idx, index_walk_one, &w);
}

int loom_ipam_store_remove_temps(struct loom_ipam_store *s)
{
	struct dirent *de;
	int tmpfd, removed = 0, rc = 0;
	DIR *d;

	if (unlinkat(s->dirfd, LOOM_INDEX_TMP, 0) == 0)
		removed++;
	tmpfd = openat(s->dirfd, TMP_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (tmpfd < 0)
		return errno == ENOENT || errno == ENOTDIR ? removed : -errno;
	d = fdopendir(tmpfd);
	if (!d) {
		rc = -errno;
		close(tmpfd);
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

int loom_ipam_store_probe_writable(struct loom_ipam_store *s, struct loom_err *err)
{
	static const char probe[] = TMP_DIR "/probe";
	int fd;

	/* An unnamed O_TMPFILE vanishes on close; it needs the same write
	 * access to the directory as a reservation. */
	fd = openat(s->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, FILE_MODE);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return store_err(err, errno, "cannot create files in", s->path);
	fd = open_tmp(s, probe);
	if (fd < 0)
		return store_err(err, -fd, "cannot create files in", s->path);
	close(fd);
	unlinkat(s->dirfd, probe, 0);
	return 0;
}
