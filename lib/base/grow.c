/* Buffer growth by doubling (grow.h). */
#include "base/grow.h"

#include <errno.h>
#include <stdlib.h>

int loom_grow(char **data, size_t *cap, size_t need, size_t first)
{
	size_t c = *cap ? *cap : first;
	char *d;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	d = realloc(*data, c);
	if (!d)
		return -ENOMEM;
	*data = d;
	*cap = c;
	return 0;
}
