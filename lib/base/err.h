/* Error context shared by every layer.
 *
 * Library functions that can fail for a reason a person must read take a
 * `struct loom_err *` and return -1 after filling it (code = a CNI error
 * code, msg = a sentence naming the field, address or file involved).
 * Functions without an error context return -errno.  Only a binary's main
 * turns a loom_err into output (CNI error JSON or a log line). */
#ifndef LOOM_ERR_H
#define LOOM_ERR_H

#include <stddef.h>

/* CNI spec error codes (SPEC.md "Error") and loom's own (100+). */
enum loom_code {
	LOOM_OK = 0,
	LOOM_ERR_INCOMPATIBLE_VERSION = 1,
	LOOM_ERR_UNSUPPORTED_FIELD = 2,
	LOOM_ERR_UNKNOWN_CONTAINER = 3,
	LOOM_ERR_INVALID_ENV = 4,
	LOOM_ERR_IO = 5,
	LOOM_ERR_DECODE = 6,
	LOOM_ERR_INVALID_CONFIG = 7,
	LOOM_ERR_TRY_AGAIN = 11,
	LOOM_ERR_UNAVAILABLE = 50, /* STATUS: cannot service ADD */
	LOOM_ERR_LIMITED_CONNECTIVITY = 51,
	LOOM_ERR_INTERNAL = 100,
	LOOM_ERR_IPAM_EXHAUSTED = 101, /* no free address in a range set */
	LOOM_ERR_IP_UNAVAILABLE = 102, /* a requested address is taken or outside every range */
	LOOM_ERR_STORE = 103,          /* the on-disk store cannot be read or written */
	LOOM_ERR_DELEGATE = 104,  /* a delegated plugin failed, timed out or answered garbage */
	LOOM_ERR_NOT_FOUND = 105, /* CHECK: the allocation or object is missing */
	LOOM_ERR_DUPLICATE = 106, /* ADD: this container/interface already holds an address */
};

#define LOOM_ERR_MSG_MAX 512

struct loom_err {
	int code;                       /* enum loom_code */
	char msg[LOOM_ERR_MSG_MAX];     /* what went wrong, for a person */
	char details[LOOM_ERR_MSG_MAX]; /* optional: the underlying cause */
};

/* Fill `e` (when not NULL) and return -1, so callers can write
 * `return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "ipam.subnet: ...");` */
int loom_err_set(struct loom_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same, and put strerror(errnum) (errnum > 0) into details. */
int loom_err_errno(struct loom_err *e, int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prefix the message with "PREFIX: " (used when a nested parser's error must
 * name its place in the outer document). */
void loom_err_prefix(struct loom_err *e, const char *prefix);

void loom_err_clear(struct loom_err *e);

#endif
