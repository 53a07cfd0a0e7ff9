/* The node's sysctls loomd owns: those the mode's entry of the mode table
 * lists (model/mode.h).  Keys that depend on the host (a module loaded)
 * carry a hint, said once. */
#include "daemon.h"

#include <string.h>

#include "kernel/nl.h"

void loomd_sysctls(const struct loom_mode *m)
{
	static const char *said; /* the hint last said: once per process */
	const struct loom_sysctl *s;
	const char *failed = NULL; /* a hint whose keys are missing this time */
	int r;

	for (s = m->sysctls; s && s->key; s++) {
		if (s->hint && failed && strcmp(s->hint, failed) == 0)
			continue;
		r = loom_sysctl_write(s->key, s->value);
		if (r == 0)
			continue;
		if (s->hint)
			failed = s->hint;
		if (s->hint && said && strcmp(s->hint, said) == 0)
			continue;
		if (s->hint)
			said = s->hint;
		loomd_log("cannot set %s=%s: %s%s%s%s, ignoring", s->key, s->value, strerror(-r),
			  s->hint ? " (" : "", s->hint ? s->hint : "", s->hint ? ")" : "");
	}
}
