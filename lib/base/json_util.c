#include "base/json_util.h"

const char *loom_json_kind(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

json_t *loom_json_member(const json_t *o, const char *key)
{
	json_t *j = o && json_is_object(o) ? json_object_get(o, key) : NULL;

	return j && !json_is_null(j) ? j : NULL;
}
