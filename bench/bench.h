/* What the benchmark drivers share: the interrupt flag, a monotonic clock,
 * removing a scratch tree, die(), allocation and formatting that cannot
 * fail silently, and sorting samples.
 *
 * Header-only (each bench is one .c file, one binary) and libc only: a
 * bench measures plugins through the same exec path whatever they link.
 * Before including, define BENCH_NAME ("ipam_bench"), the prefix of every
 * message; the bench defines bench_cleanup(), which die() runs. */
#ifndef LOOM_BENCH_H
#define LOOM_BENCH_H

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench.h"
#endif

/* Set by SIGINT/SIGTERM: loops stop, the bench cleans up and exits. */
static volatile sig_atomic_t interrupted;

/* Undoes what the bench made (scratch dirs, namespaces); die() calls it. */
static void bench_cleanup(void);

static inline void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove the tree at `root` (if set), saying so when that fails; `root`
 * is cleared so a second call does nothing. */
static inline void rm_scratch(char *root)
{
	if (root[0] && nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, BENCH_NAME ": failed to remove %s: %s\n", root, strerror(errno));
	root[0] = '\0';
}

static inline void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(BENCH_NAME ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	bench_cleanup();
	exit(1);
}

static inline void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p)
		die("out of memory");
	return p;
}

/* snprintf that refuses to truncate: a cut path would point elsewhere. */
static inline void fmt(char *buf, size_t len, const char *f, ...)
	__attribute__((format(printf, 3, 4)));
static inline void fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;
	int r;

	va_start(ap, f);
	r = vsnprintf(buf, len, f, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= len)
		die("internal: string too long for its buffer");
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#endif
