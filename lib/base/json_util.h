/* Small jansson helpers shared by every config parser. */
#ifndef LOOM_JSON_UTIL_H
#define LOOM_JSON_UTIL_H

#include <jansson.h>

/* "an object", "a string", ...: for messages like "must be a string, not an array". */
const char *loom_json_kind(const json_t *j);

/* Member `key` of object `o`; absent, JSON null and a non-object `o` all
 * give NULL, as Go's decoder leaves the default in place for each. */
json_t *loom_json_member(const json_t *o, const char *key);

#endif
