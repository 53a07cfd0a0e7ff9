/* The on-disk address store (layout and compatibility rules in store.h).
 *
 * Every operation runs under flock(LOCK_EX) on "lock", the same lock
 * host-local takes, so loom and host-local processes can share one store.
 * All paths are resolved relative to the directory's fd: the directory is
 * opened once and a rename of a parent cannot redirect later writes. */
#include "store.h"

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

#define LINE_BREAK "\r\n"            /* host-local's separator between ID and ifname */
#define LAST_PREFIX "last_reserved_ip."
#define TMP_DIR ".loom-tmp"
#define INDEX_DIR ".loom-by-id"
#define INDEX_HEADER "loom-ipam-index 1\n"
#define INDEX_TRAILER "end\n"
#define INDEX_FILE_MAX 4096
#define DIR_MODE 0755                /* what host-local creates */
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

/* mkdir -p, each missing component 0755 (umask applies, as for host-local). */
static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t i, len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, DIR_MODE) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

int loom_store_open(struct loom_store *s, const char *data_dir, const char *network,
		    struct loom_err *err)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->dirfd = s->lockfd = s->idxfd = -1;
	if (snprintf(s->path, sizeof(s->path), "%s/%s", data_dir, network) >= (int)sizeof(s->path))
		return loom_err_set(err, LOOM_ERR_STORE, "store path %s/%s is too long", data_dir,
				    network);
	/* The directory exists on every call but the first: open first,
	 * create only when missing. */
	s->dirfd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0 && errno == ENOENT) {
		rc = mkdir_p(s->path);
		if (rc < 0)
			return store_err(err, -rc, "cannot create store directory", s->path);
		s->dirfd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (s->dirfd < 0)
		return store_err(err, errno, "cannot open store directory", s->path);
	/* host-local opens the lock read-only too: flock needs no write access,
	 * and a read-only store can still be inspected by CHECK. */
	s->lockfd = openat(s->dirfd, "lock", O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, FILE_MODE);
	if (s->lockfd < 0) {
		rc = errno;
		loom_store_close(s);
		return store_err(err, rc, "cannot open the lock file in", s->path);
	}
	while ((rc = flock(s->lockfd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (rc < 0) {
		rc = errno;
		loom_store_close(s);
		return store_err(err, rc, "cannot lock", s->path);
	}
	return 0;
}

int loom_store_commit(struct loom_store *s, struct loom_err *err)
{
	if (!s->dirty)
		return 0;
	/* The reservation's content was fdatasync'ed before its link; this
	 * makes the links (and unlinks) themselves survive a crash, once per
	 * operation rather than once per file. */
	if (fsync(s->dirfd) < 0)
		return store_err(err, errno, "cannot sync", s->path);
	s->dirty = false;
	return 0;
}

void loom_store_close(struct loom_store *s)
{
	if (!s)
		return;
	if (s->idxfd >= 0)
		close(s->idxfd);
	/* Closing the last fd of the open file description drops the flock. */
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->idxfd = s->lockfd = s->dirfd = -1;
}

static int ensure_tmp_dir(struct loom_store *s)
{
	if (s->have_tmp_dir)
		return 0;
	if (mkdirat(s->dirfd, TMP_DIR, PRIVATE_DIR_MODE) < 0 && errno != EEXIST)
		return -errno;
	s->have_tmp_dir = true;
	return 0;
}

/* Create a temp file in .loom-tmp, making the directory on first use. */
static int open_tmp(struct loom_store *s, const char *tmp)
{
	int fd, rc;

	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, FILE_MODE);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	rc = ensure_tmp_dir(s);
	if (rc < 0)
		return rc;
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, FILE_MODE);
	return fd >= 0 ? fd : -errno;
}

/* Fallback for filesystems without O_TMPFILE: a named temp file in
 * .loom-tmp (never an address's name, so no one reads it as a reservation),
 * hard-linked to the address's name.  link() fails with EEXIST exactly like
 * O_EXCL, so it is still create-or-fail, and the content is already there. */
static int reserve_named(struct loom_store *s, const char *name, const char *content,
			 size_t len, struct loom_err *err)
{
	static const char tmp[] = TMP_DIR "/reserve";
	int fd, rc, e;

	fd = open_tmp(s, tmp);
	if (fd < 0)
		return store_err(err, -fd, "cannot create a temp file in", s->path);
	rc = write_all(fd, content, len);
	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc < 0) {
		unlinkat(s->dirfd, tmp, 0);
		return store_err(err, -rc, "cannot write a temp file in", s->path);
	}
	rc = linkat(s->dirfd, tmp, s->dirfd, name, 0);
	e = errno;
	unlinkat(s->dirfd, tmp, 0);
	if (rc == 0) {
		s->dirty = true;
		return 1;
	}
	if (e == EEXIST)
		return 0;
	return store_err(err, e, "cannot reserve", name);
}

int loom_store_reserve(struct loom_store *s, const struct loom_ip *ip, const char *id,
		       const char *ifname, struct loom_err *err)
{
	char name[LOOM_IP_STRLEN], content[LOOM_STORE_ID_MAX + IFNAMSIZ + 4];
	char proc[64];
	int fd, rc, e;
	int len;

	loom_ip_fmt(ip, name);
	len = snprintf(content, sizeof(content), "%s" LINE_BREAK "%s", id, ifname);
	if (len < 0 || (size_t)len >= sizeof(content))
		return loom_err_set(err, LOOM_ERR_INTERNAL, "container ID or ifname too long");
	if (s->no_tmpfile)
		return reserve_named(s, name, content, (size_t)len, err);

	/* The reservation must appear with its content or not at all: host-local
	 * creates the file with O_EXCL and then writes, so a crash in between
	 * leaves an empty file that no container ID matches and no DEL
	 * releases.  An unnamed O_TMPFILE is written and synced first, then
	 * linked under the address's name; linkat fails with EEXIST when the
	 * address is taken, which makes it the create-or-fail step. */
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
	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
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
	if (rc == 0) {
		s->dirty = true;
		return 1;
	}
	if (e == EEXIST)
		return 0;
	if (e == ENOENT) { /* no /proc mounted */
		s->no_tmpfile = true;
		return reserve_named(s, name, content, (size_t)len, err);
	}
	return store_err(err, e, "cannot reserve", name);
}

bool loom_store_exists(struct loom_store *s, const struct loom_ip *ip)
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

static int holder_by_name(struct loom_store *s, const char *name, struct loom_holder *h)
{
	char buf[LOOM_STORE_FILE_MAX + 1];
	ssize_t n;

	memset(h, 0, sizeof(*h));
	n = read_small(s->dirfd, name, buf, LOOM_STORE_FILE_MAX);
	if (n == -ENOENT)
		return -ENOENT;
	if (n < 0)
		return 0; /* exists, but unreadable or oversized: held by no one we know */
	parse_holder(buf, (size_t)n, h);
	return 0;
}

int loom_store_holder(struct loom_store *s, const struct loom_ip *ip, struct loom_holder *h)
{
	char name[LOOM_IP_STRLEN];

	return holder_by_name(s, loom_ip_fmt(ip, name), h);
}

bool loom_holder_is(const struct loom_holder *h, const char *id, const char *ifname,
		    bool legacy_ok)
{
	if (!h->valid || strcmp(h->id, id) != 0)
		return false;
	return h->legacy ? legacy_ok : strcmp(h->ifname, ifname) == 0;
}

int loom_store_release_name(struct loom_store *s, const char *name)
{
	if (unlinkat(s->dirfd, name, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	s->dirty = true;
	return 0;
}

int loom_store_release(struct loom_store *s, const struct loom_ip *ip)
{
	char name[LOOM_IP_STRLEN];

	return loom_store_release_name(s, loom_ip_fmt(ip, name));
}

int loom_store_last_get(struct loom_store *s, size_t set, struct loom_ip *out)
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

int loom_store_last_set(struct loom_store *s, size_t set, const struct loom_ip *ip)
{
	char name[64], tmp[96], addr[LOOM_IP_STRLEN];
	int fd, rc;

	snprintf(name, sizeof(name), LAST_PREFIX "%zu", set);
	snprintf(tmp, sizeof(tmp), TMP_DIR "/%s", name);
	fd = open_tmp(s, tmp);
	if (fd < 0)
		return fd;
	loom_ip_fmt(ip, addr);
	rc = write_all(fd, addr, strlen(addr));
	close(fd);
	/* Rename so a reader never sees a half-written hint; no fsync: losing
	 * it in a crash only costs host-local's round-robin one step. */
	if (rc == 0 && renameat(s->dirfd, tmp, s->dirfd, name) < 0)
		rc = -errno;
	if (rc < 0)
		unlinkat(s->dirfd, tmp, 0);
	return rc;
}

/* ---- per-attachment index ---- */

static int index_name(const char *id, const char *ifname, char *buf, size_t len)
{
	/* '@' separates: container IDs never contain it (the spec's charset),
	 * interface names may, so the first '@' is the separator. */
	if (!id[0] || !ifname[0] || strchr(id, '/') || strchr(id, '@') || strchr(ifname, '/') ||
	    id[0] == '.')
		return -EINVAL;
	if (strlen(id) + 1 + strlen(ifname) > NAME_MAX ||
	    snprintf(buf, len, "%s@%s", id, ifname) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static int open_index(struct loom_store *s, bool create)
{
	if (s->idxfd >= 0)
		return 0;
	s->idxfd = openat(s->dirfd, INDEX_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (s->idxfd < 0 && errno == ENOENT && create) {
		if (mkdirat(s->dirfd, INDEX_DIR, PRIVATE_DIR_MODE) < 0 && errno != EEXIST)
			return -errno;
		s->idxfd = openat(s->dirfd, INDEX_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	}
	return s->idxfd < 0 ? -errno : 0;
}

int loom_store_index_get(struct loom_store *s, const char *id, const char *ifname,
			 struct loom_ip *ips, size_t max)
{
	char name[NAME_MAX + 1], buf[INDEX_FILE_MAX + 1], *line, *save = NULL;
	size_t n = 0;
	ssize_t len;
	bool ended = false;
	int rc;

	rc = index_name(id, ifname, name, sizeof(name));
	if (rc < 0)
		return -ENOENT;
	rc = open_index(s, false);
	if (rc < 0)
		return rc;
	len = read_small(s->idxfd, name, buf, INDEX_FILE_MAX);
	if (len < 0)
		return len == -ENOENT || len == -EFBIG || len == -EINVAL ? -ENOENT : (int)len;
	/* Written without fsync, so after a crash it may be empty or cut
	 * short: without its header and trailer it is not trusted at all. */
	if ((size_t)len != strlen(buf) || strncmp(buf, INDEX_HEADER, strlen(INDEX_HEADER)) != 0)
		return -ENOENT;
	for (line = strtok_r(buf + strlen(INDEX_HEADER), "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (ended)
			return -ENOENT;
		if (strcmp(line, "end") == 0) {
			ended = true;
			continue;
		}
		if (n == max || loom_ip_parse(line, &ips[n]) < 0)
			return -ENOENT;
		n++;
	}
	return ended ? (int)n : -ENOENT;
}

int loom_store_index_put(struct loom_store *s, const char *id, const char *ifname,
			 const struct loom_ip *ips, size_t n)
{
	static const char tmp[] = ".tmp"; /* never an index name: those contain '@' */
	char name[NAME_MAX + 1], buf[INDEX_FILE_MAX], addr[LOOM_IP_STRLEN];
	size_t len, i;
	int fd, rc;

	rc = index_name(id, ifname, name, sizeof(name));
	if (rc < 0)
		return rc;
	if (n == 0) {
		rc = open_index(s, false);
		if (rc == -ENOENT)
			return 0;
		if (rc < 0)
			return rc;
		return unlinkat(s->idxfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	}
	rc = open_index(s, true);
	if (rc < 0)
		return rc;
	len = (size_t)snprintf(buf, sizeof(buf), INDEX_HEADER);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s\n", loom_ip_fmt(&ips[i], addr));
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, INDEX_TRAILER);
	if (len >= sizeof(buf))
		return -E2BIG;

	fd = openat(s->idxfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, FILE_MODE);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, buf, len);
	close(fd);
	/* No fsync: the index is a hint, verified on every read, and one lost
	 * or cut short only sends DEL to the full scan. */
	if (rc == 0 && renameat(s->idxfd, tmp, s->idxfd, name) < 0)
		rc = -errno;
	if (rc < 0)
		unlinkat(s->idxfd, tmp, 0);
	return rc;
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

int loom_store_walk(struct loom_store *s, bool read_holders, loom_store_walk_fn fn, void *user)
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

int loom_store_index_walk(struct loom_store *s, loom_store_index_walk_fn fn, void *user)
{
	char id[NAME_MAX + 1], *at;
	struct dirent *de;
	DIR *d;
	int rc = open_index(s, false);

	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	d = open_dir_copy(s->idxfd);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(id, sizeof(id), "%s", de->d_name);
		at = strchr(id, '@');
		if (!at)
			continue;
		*at = '\0';
		rc = fn(s, id, at + 1, user);
		if (rc != 0)
			break;
	}
	closedir(d);
	return rc;
}

int loom_store_probe_writable(struct loom_store *s, struct loom_err *err)
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
