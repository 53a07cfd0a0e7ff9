/* Filling a struct loom_err.  Every function accepts a NULL context so a
 * caller that does not care about the message can pass NULL. */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void err_vset(struct loom_err *e, int code, const char *fmt, va_list ap)
{
	e->code = code;
	e->details[0] = '\0';
	/* A message longer than the buffer is cut, never an error: the start
	 * names the field, which is the part a person needs most. */
	if (vsnprintf(e->msg, sizeof(e->msg), fmt, ap) < 0)
		e->msg[0] = '\0';
}

/* err_vset over a function's own "fmt, ..." arguments. */
#define ERR_SET_VARGS(e, code, fmt)          \
	do {                                 \
		va_list ap_;                 \
		va_start(ap_, fmt);          \
		err_vset(e, code, fmt, ap_); \
		va_end(ap_);                 \
	} while (0)

int loom_err_set(struct loom_err *e, int code, const char *fmt, ...)
{
	if (e)
		ERR_SET_VARGS(e, code, fmt);
	return -1;
}

int loom_err_errno(struct loom_err *e, int code, int errnum, const char *fmt, ...)
{
	if (!e)
		return -1;
	ERR_SET_VARGS(e, code, fmt);
	if (errnum > 0) {
		/* strerror_r's GNU form may return a static string instead of
		 * filling the buffer, so copy from whatever it hands back. */
		char buf[128];
		const char *s = strerror_r(errnum, buf, sizeof(buf));

		snprintf(e->details, sizeof(e->details), "%s", s ? s : "unknown error");
	}
	return -1;
}

void loom_err_prefix(struct loom_err *e, const char *prefix)
{
	size_t plen, mlen, cap = sizeof(e->msg) - 1;

	if (!e || !prefix || !prefix[0])
		return;
	plen = strlen(prefix) + 2; /* "PREFIX: " */
	if (plen > cap)
		plen = cap;
	mlen = strlen(e->msg);
	if (mlen > cap - plen)
		mlen = cap - plen;
	/* msg and prefix may not overlap with a printf, so shift in place. */
	memmove(e->msg + plen, e->msg, mlen);
	e->msg[plen + mlen] = '\0';
	memcpy(e->msg, prefix, plen - 2);
	e->msg[plen - 2] = ':';
	e->msg[plen - 1] = ' ';
}

void loom_err_clear(struct loom_err *e)
{
	if (!e)
		return;
	e->code = LOOM_OK;
	e->msg[0] = '\0';
	e->details[0] = '\0';
}
