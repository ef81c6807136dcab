/* test_jarena.c -- jansson's allocations from the arena only in the window and only for its thread; frees of arena and malloc'd memory both safe. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "src/base/jarena.h"

static void *
other_thread(void *arg)
{
	json_t	*o = json_object();

	*(int *)arg = jarena_owns(o);
	json_decref(o);
	return NULL;
}

static void
test_window(void **state)
{
	json_t		*before, *in, *after, *v;
	json_error_t	 e;
	char		*s;
	pthread_t	 th;
	int		 owned = -1;

	(void)state;
	before = json_pack("{s:s}", "a", "made before the arena");
	assert_non_null(before);
	assert_false(jarena_owns(before));
	assert_int_equal(jarena_begin((size_t)4 << 20), 0);
	in = json_loads("{\"rows\": [{\"id\": \"x\", \"v\": 1.5}, "
	    "{\"id\": \"y\", \"v\": -2}], \"s\": \"text\"}", 0, &e);
	assert_non_null(in);
	assert_true(jarena_owns(in));
	v = json_array_get(json_object_get(in, "rows"), 1);
	assert_true(jarena_owns(v));
	assert_string_equal(json_string_value(json_object_get(v, "id")), "y");
	assert_int_equal(json_integer_value(json_object_get(v, "v")), -2);
	/* another thread in the window: malloc */
	assert_int_equal(pthread_create(&th, NULL, other_thread, &owned), 0);
	pthread_join(th, NULL);
	assert_int_equal(owned, 0);
	/* json_dumps' text from the arena, released with jarena_free */
	s = json_dumps(in, JSON_COMPACT);
	assert_non_null(s);
	assert_true(jarena_owns(s));
	jarena_free(s);
	jarena_end();
	after = json_object();
	assert_false(jarena_owns(after));
	/* objects of every origin mix and free normally */
	assert_int_equal(json_object_set(after, "in", in), 0);
	assert_int_equal(json_object_set(after, "before", before), 0);
	json_decref(in);
	json_decref(before);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    after, "in"), "s")), "text");
	json_decref(after);
	/* a request past the arena's end: malloc */
	assert_int_equal(jarena_begin(1), 0);	/* the arena stays, as it was */
	{
		char	*big = calloc(1, (size_t)5 << 20);
		assert_non_null(big);
		memset(big, 'a', ((size_t)5 << 20) - 1);
		v = json_string(big);	/* 5 MB: more than the arena holds */
		free(big);
	}
	assert_non_null(v);
	assert_false(jarena_owns(json_string_value(v)));
	json_decref(v);
	jarena_end();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
