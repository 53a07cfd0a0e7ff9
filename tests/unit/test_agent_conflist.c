/* loomd's conflist (agent/conflist.c): the text a runtime reads, the
 * --write-conflist option, and the write that replaces only its own file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conflist.h"
#include "test_main.h"

static json_t *format_json(const char *net, const char *mode, const char *run, const char *st)
{
	char *text = loomd_conflist_format(net, loom_mode_by_name(mode), run, st);
	json_t *j;

	assert_non_null(text);
	assert_int_equal(text[strlen(text) - 1], '\n');
	j = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(j);
	return j;
}

static void test_conflist_vxlan_defaults(void **state)
{
	json_t *j = format_json("default", "vxlan", "/run/loom", "/run/loom/endpoints");
	json_t *plugins = json_object_get(j, "plugins"), *mode, *pm;

	(void)state;
	assert_string_equal(json_string_value(json_object_get(j, "cniVersion")), "1.0.0");
	/* the plugin reads <runDir>/<name>.env: the name is the Network's */
	assert_string_equal(json_string_value(json_object_get(j, "name")), "default");
	assert_int_equal(json_array_size(plugins), 2);
	mode = json_array_get(plugins, 0);
	pm = json_array_get(plugins, 1);
	assert_string_equal(json_string_value(json_object_get(mode, "type")), "loom-vxlan");
	/* defaults are left to the plugin */
	assert_null(json_object_get(mode, "runDir"));
	assert_null(json_object_get(mode, "stateDir"));
	assert_string_equal(json_string_value(json_object_get(pm, "type")), "portmap");
	assert_true(
		json_is_true(json_object_get(json_object_get(pm, "capabilities"), "portMappings")));
	json_decref(j);
}

static void test_conflist_modes_and_dirs(void **state)
{
	json_t *j = format_json("blue", "bgp", "/tmp/r", "/tmp/s");
	json_t *mode = json_array_get(json_object_get(j, "plugins"), 0);

	(void)state;
	assert_string_equal(json_string_value(json_object_get(mode, "type")), "loom-bgp");
	assert_string_equal(json_string_value(json_object_get(mode, "runDir")), "/tmp/r");
	assert_string_equal(json_string_value(json_object_get(mode, "stateDir")), "/tmp/s");
	json_decref(j);
	assert_string_equal(loomd_conflist_plugin(loom_mode_by_name("vxlan")), "loom-vxlan");
	assert_string_equal(loomd_conflist_plugin(loom_mode_by_name("bridge")), "loom-vxlan");
	assert_string_equal(loomd_conflist_plugin(loom_mode_by_name("bgp")), "loom-bgp");
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = calloc(1, 65536);

	assert_non_null(f);
	assert_non_null(buf);
	assert_true(fread(buf, 1, 65535, f) > 0);
	fclose(f);
	return buf;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_conflist_write(void **state)
{
	char tmpl[] = "/tmp/loom-conflist.XXXXXX", dir[64], path[128], other[128], *got;
	struct loom_err err = { 0 };
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	/* the folder itself is created, not its parents */
	snprintf(dir, sizeof(dir), "%s/net.d", tmpl);
	snprintf(path, sizeof(path), "%s/10-loom.conflist", dir);
	snprintf(other, sizeof(other), "%s/05-other.conflist", dir);
	assert_int_equal(loomd_conflist_write(dir, "{\"a\":1}\n", &err), 1);
	got = slurp(path);
	assert_string_equal(got, "{\"a\":1}\n");
	free(got);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	/* someone else's file stays as it is; unchanged text is not rewritten */
	f = fopen(other, "we");
	assert_non_null(f);
	fputs("other", f);
	fclose(f);
	assert_int_equal(loomd_conflist_write(dir, "{\"a\":1}\n", &err), 0);
	assert_int_equal(loomd_conflist_write(dir, "{\"a\":2}\n", &err), 1);
	got = slurp(path);
	assert_string_equal(got, "{\"a\":2}\n");
	free(got);
	got = slurp(other);
	assert_string_equal(got, "other");
	free(got);
	/* no temp file left behind */
	assert_int_equal(count_entries(dir), 2);

	/* a folder that cannot be made: an error naming it */
	snprintf(dir, sizeof(dir), "%s/missing/net.d", tmpl);
	assert_int_equal(loomd_conflist_write(dir, "{}\n", &err), -1);
	assert_int_equal(err.code, LOOM_ERR_IO);
	assert_non_null(strstr(err.msg, "missing/net.d"));

	unlink(path);
	unlink(other);
	snprintf(dir, sizeof(dir), "%s/net.d", tmpl);
	rmdir(dir);
	rmdir(tmpl);
}

static void test_conflist_option(void **state)
{
	char a0[] = "loomd", a1[] = "--node", a2[] = "n1", a3[] = "--address", a4[] = "192.0.2.1",
	     a5[] = "--write-conflist", a6[] = "/etc/cni/net.d", r6[] = "net.d";
	char *argv[] = { a0, a1, a2, a3, a4, a5, a6, NULL };
	char *rel[] = { a0, a1, a2, a3, a4, a5, r6, NULL };
	struct loomd_config c;
	struct loom_err err = { 0 };

	(void)state;
	assert_int_equal(loomd_config_parse(7, argv, NULL, &c, &err), 0);
	assert_string_equal(c.conflist_dir, "/etc/cni/net.d");
	assert_int_equal(loomd_config_parse(5, argv, NULL, &c, &err), 0);
	assert_string_equal(c.conflist_dir, "");
	assert_int_equal(loomd_config_parse(7, rel, NULL, &c, &err), -1);
	assert_non_null(strstr(err.msg, "--write-conflist"));
}

LOOM_TEST_MAIN(cmocka_unit_test(test_conflist_vxlan_defaults),
	       cmocka_unit_test(test_conflist_modes_and_dirs),
	       cmocka_unit_test(test_conflist_write), cmocka_unit_test(test_conflist_option))
