/* The rollback stack of a failed ADD: every step that changes something
 * pushes how to take it back, and a failure unwinds newest first, so the
 * state after a failed ADD is the state before it. */
#include "pod/pod.h"

#include <stdio.h>
#include <string.h>

void loom_pod_undo_init(struct loom_pod_undo *u)
{
	u->n = 0;
}

int loom_pod_undo_push(struct loom_pod_undo *u, loom_pod_undo_fn fn, void *arg, const char *what,
		       struct loom_err *err)
{
	if (u->n >= LOOM_POD_UNDO_MAX)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "too many steps to undo (%s)", what);
	u->s[u->n].fn = fn;
	u->s[u->n].arg = arg;
	u->s[u->n].what = what;
	u->n++;
	return 0;
}

void loom_pod_undo_run(struct loom_pod_undo *u, struct loom_err *err)
{
	while (u->n > 0) {
		struct loom_err why;
		int r;

		loom_err_clear(&why);
		u->n--;
		r = u->s[u->n].fn(u->s[u->n].arg, &why);
		if (r < 0 && err) {
			size_t used = strlen(err->details);

			/* The person needs to know what was left behind. */
			snprintf(err->details + used, sizeof(err->details) - used,
				 "%srollback could not %s: %s", used ? "; " : "", u->s[u->n].what,
				 why.msg[0] ? why.msg
				 : r == -1  ? "unknown error"
					    : strerror(-r));
		}
	}
}

void loom_pod_undo_commit(struct loom_pod_undo *u)
{
	u->n = 0;
}
