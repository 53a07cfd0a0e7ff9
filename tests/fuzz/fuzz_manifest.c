/* Fuzz the manifest parser, and the validator on whatever it accepts:
 * every failure must say why, every object must have its origin, and
 * validating a validated object again must succeed (defaults are stable). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "model/k8s_validate.h"
#include "model/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loom_manifest m = { 0 };
	struct loom_err err = { 0 };
	json_t *obj;
	size_t i;

	if (loom_manifest_parse((const char *)data, size, &m, &err) < 0) {
		if (err.code == LOOM_OK || !err.msg[0] || m.objects)
			abort();
		return 0;
	}
	if (json_array_size(m.objects) != json_array_size(m.origins))
		abort();
	json_array_foreach(m.objects, i, obj) {
		if (!json_is_object(obj))
			abort();
		if (loom_k8s_validate(obj, NULL, &err) < 0) {
			if (err.code != LOOM_ERR_INVALID_CONFIG || !err.msg[0])
				abort();
			continue;
		}
		if (loom_k8s_validate(obj, NULL, &err) < 0)
			abort();
	}
	loom_manifest_free(&m);
	return 0;
}
