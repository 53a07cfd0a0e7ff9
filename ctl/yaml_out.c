/* JSON → YAML with libyaml's emitter, in the shape loom_manifest_parse()
 * types back to the same JSON: a string that would read back as a number,
 * bool or null ("80", "true", "") is double-quoted. */
#include <inttypes.h>
#include <string.h>

#include <yaml.h>

#include "ctl.h"
#include "model/manifest.h"

static int emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	return yaml_emitter_emit(e, ev) ? 0 : -1;
}

static int emit_scalar(yaml_emitter_t *e, const char *text, size_t len, bool force_quote)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)len,
					  !force_quote, 1,
					  force_quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
						      : YAML_ANY_SCALAR_STYLE))
		return -1;
	return emit(e, &ev);
}

static bool reads_as_non_string(const char *text, size_t len)
{
	json_t *typed = loom_manifest_plain_scalar(text, len);

	json_decref(typed);
	return typed != NULL;
}

static int emit_node(yaml_emitter_t *e, const json_t *j)
{
	yaml_event_t ev;
	char buf[64];
	const char *k;
	json_t *v;
	size_t i;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							 YAML_BLOCK_MAPPING_STYLE) ||
		    emit(e, &ev) < 0)
			return -1;
		json_object_foreach((json_t *)j, k, v)
			if (emit_scalar(e, k, strlen(k), reads_as_non_string(k, strlen(k))) < 0 ||
			    emit_node(e, v) < 0)
				return -1;
		return yaml_mapping_end_event_initialize(&ev) ? emit(e, &ev) : -1;
	case JSON_ARRAY:
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							  YAML_BLOCK_SEQUENCE_STYLE) ||
		    emit(e, &ev) < 0)
			return -1;
		json_array_foreach(j, i, v)
			if (emit_node(e, v) < 0)
				return -1;
		return yaml_sequence_end_event_initialize(&ev) ? emit(e, &ev) : -1;
	case JSON_STRING:
		return emit_scalar(e, json_string_value(j), json_string_length(j),
				   reads_as_non_string(json_string_value(j),
						       json_string_length(j)));
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		return emit_scalar(e, buf, strlen(buf), false);
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(j));
		if (!strpbrk(buf, ".eEn")) /* 3.0 must not come back as the integer 3 */
			strcat(buf, ".0");
		return emit_scalar(e, buf, strlen(buf), false);
	case JSON_TRUE:
		return emit_scalar(e, "true", 4, false);
	case JSON_FALSE:
		return emit_scalar(e, "false", 5, false);
	default:
		return emit_scalar(e, "null", 4, false);
	}
}

int ctl_yaml_emit(FILE *f, const json_t *j, struct loom_err *err)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	int r = -1;

	if (!yaml_emitter_initialize(&e))
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	yaml_emitter_set_output_file(&e, f);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || emit(&e, &ev) < 0 ||
	    !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || emit(&e, &ev) < 0 ||
	    emit_node(&e, j) < 0 || !yaml_document_end_event_initialize(&ev, 1) ||
	    emit(&e, &ev) < 0 || !yaml_stream_end_event_initialize(&ev) || emit(&e, &ev) < 0) {
		loom_err_set(err, LOOM_ERR_IO, "writing YAML: %s",
			     e.problem ? e.problem : "emitter error");
		goto out;
	}
	r = 0;
out:
	yaml_emitter_delete(&e);
	return r;
}
