/* test_widgets.c -- the console's widgets: their state, keys and the text
 * they draw (no terminal needed), and drawing into an ncurses pad. */

#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curses.h>

#include "ui/widgets.h"

static int
utf8_locale(void)
{
	return setlocale(LC_ALL, "C.UTF-8") != NULL;
}

static void
type(struct wg_field *f, const char *s)
{
	for (; *s != '\0'; s++)
		wg_field_key(f, (unsigned char)*s);
}

static void
test_key_is_text(void **state)
{
	(void)state;
	assert_true(wg_key_is_text('a'));
	assert_true(wg_key_is_text(0xe8));	/* è */
	assert_false(wg_key_is_text('\n'));
	assert_false(wg_key_is_text(27));
	assert_false(wg_key_is_text(0x7f));
	assert_false(wg_key_is_text(WG_KEY_LEFT));
	assert_false(wg_key_is_text(0x85));	/* C1 control */
}

static void
test_fit(void **state)
{
	char	out[64];

	(void)state;
	assert_true(utf8_locale());
	wg_fit("abc", 5, 0, 1, out, sizeof out);
	assert_string_equal(out, "abc  ");
	wg_fit("abc", 5, 1, 1, out, sizeof out);
	assert_string_equal(out, "  abc");
	wg_fit("abcdef", 4, 0, 1, out, sizeof out);
	assert_string_equal(out, "abc\xe2\x80\xa6");
	wg_fit("abcdef", 4, 0, 0, out, sizeof out);
	assert_string_equal(out, "abc~");
	/* Multibyte: cells, not bytes. "Torino è" is 8 cells. */
	assert_int_equal(wg_text_cells("Torino \xc3\xa8"), 8);
	wg_fit("Torino \xc3\xa8", 8, 0, 1, out, sizeof out);
	assert_string_equal(out, "Torino \xc3\xa8");
	wg_fit("\xc3\xa8\xc3\xa8\xc3\xa8", 2, 0, 1, out, sizeof out);
	assert_string_equal(out, "\xc3\xa8\xe2\x80\xa6");
	/* A double-width character that does not fit is not split. */
	wg_fit("a\xe6\x97\xa5" "b", 3, 0, 0, out, sizeof out);
	assert_string_equal(out, "a ~");
	/* Tiny output buffer: cut, still terminated. */
	wg_fit("abcdef", 6, 0, 0, out, 4);
	assert_string_equal(out, "abc");
	wg_fit("abc", 0, 0, 0, out, sizeof out);
	assert_string_equal(out, "");
}

static void
test_field(void **state)
{
	struct wg_field	f;
	char		view[64];
	int		cx;

	(void)state;
	assert_true(utf8_locale());
	wg_field_init(&f, 10, "");
	type(&f, "hello");
	assert_string_equal(f.buf, "hello");
	assert_int_equal(f.cur, 5);
	wg_field_key(&f, WG_KEY_LEFT);
	wg_field_key(&f, WG_KEY_LEFT);
	wg_field_key(&f, 'X');
	assert_string_equal(f.buf, "helXlo");
	wg_field_key(&f, WG_KEY_BACKSPACE);
	assert_string_equal(f.buf, "hello");
	wg_field_key(&f, WG_KEY_DELETE);
	assert_string_equal(f.buf, "helo");
	wg_field_key(&f, WG_KEY_HOME);
	wg_field_key(&f, WG_KEY_BACKSPACE);	/* nothing before */
	assert_string_equal(f.buf, "helo");
	wg_field_key(&f, WG_KEY_END);
	/* A code point goes in as UTF-8; Backspace removes all its bytes. */
	wg_field_key(&f, 0xe8);
	assert_string_equal(f.buf, "helo\xc3\xa8");
	wg_field_key(&f, WG_KEY_BACKSPACE);
	assert_string_equal(f.buf, "helo");
	/* The byte limit holds. */
	type(&f, "123456789");
	assert_int_equal(f.len, 10);
	assert_string_equal(f.buf, "helo123456");
	wg_field_key(&f, WG_KEY_CTRL_U);
	assert_string_equal(f.buf, "");
	assert_int_equal(f.cur, 0);
	/* Keys that are not for a field are refused. */
	assert_int_equal(wg_field_key(&f, WG_KEY_ENTER), 0);
	assert_int_equal(wg_field_key(&f, WG_KEY_TAB), 0);

	/* The view scrolls to keep the cursor visible. */
	wg_field_init(&f, 100, "abcdefghij");
	wg_field_view(&f, 5, view, sizeof view, &cx);
	assert_string_equal(view, "ghij");
	assert_int_equal(cx, 4);
	wg_field_key(&f, WG_KEY_HOME);
	wg_field_view(&f, 5, view, sizeof view, &cx);
	assert_string_equal(view, "abcde");
	assert_int_equal(cx, 0);
}

static void
test_slider(void **state)
{
	struct wg_slider	s;
	char			out[256];

	(void)state;
	assert_true(utf8_locale());
	wg_slider_init(&s, 1, 30, 10);
	wg_slider_key(&s, WG_KEY_RIGHT);
	assert_int_equal(s.value, 11);
	wg_slider_key(&s, WG_KEY_LEFT);
	wg_slider_key(&s, WG_KEY_LEFT);
	assert_int_equal(s.value, 9);
	wg_slider_key(&s, WG_KEY_HOME);
	wg_slider_key(&s, WG_KEY_LEFT);
	assert_int_equal(s.value, 1);		/* clamped */
	wg_slider_key(&s, WG_KEY_END);
	wg_slider_key(&s, WG_KEY_RIGHT);
	assert_int_equal(s.value, 30);
	/* Typed digits: 1, 5 -> 15; then 7 would be 157 > 30: a new 7. */
	wg_slider_key(&s, '1');
	assert_int_equal(s.value, 1);
	wg_slider_key(&s, '5');
	assert_int_equal(s.value, 15);
	wg_slider_key(&s, '7');
	assert_int_equal(s.value, 7);
	wg_slider_key(&s, WG_KEY_BACKSPACE);
	assert_int_equal(s.value, 7);		/* typed 0 < min: kept */
	wg_slider_commit(&s);
	wg_slider_key(&s, '0');			/* below min: not taken */
	assert_int_equal(s.value, 7);
	wg_slider_key(&s, '5');			/* 05 -> 5 */
	assert_int_equal(s.value, 5);
	assert_int_equal(wg_slider_key(&s, 'x'), 0);

	/* The track: knob at the value's place. */
	wg_slider_init(&s, 1, 30, 1);
	wg_slider_text(&s, 11, 0, out, sizeof out);
	assert_string_equal(out, "O----------");
	wg_slider_init(&s, 1, 30, 30);
	wg_slider_text(&s, 11, 0, out, sizeof out);
	assert_string_equal(out, "==========O");
	wg_slider_init(&s, 1, 31, 16);
	wg_slider_text(&s, 11, 0, out, sizeof out);
	assert_string_equal(out, "=====O-----");
	wg_slider_text(&s, 11, 1, out, sizeof out);
	assert_int_equal(wg_text_cells(out), 11);
	assert_non_null(strstr(out, "\xe2\x97\x8f"));
}

static void
test_list(void **state)
{
	const char	*items[] = { "Unknown", "Beacon Torino", "Radio Milano",
	    "beacon Roma" };
	struct wg_list	 l;

	(void)state;
	wg_list_init(&l, items, 4);
	assert_int_equal(l.nmatch, 4);
	assert_int_equal(wg_list_selected(&l), 0);
	wg_list_key(&l, WG_KEY_DOWN, 10);
	assert_int_equal(wg_list_selected(&l), 1);
	/* Filter, case-insensitive; the selection stays when it matches. */
	wg_list_key(&l, 'B', 10);
	wg_list_key(&l, 'e', 10);
	assert_string_equal(l.filter, "Be");
	assert_int_equal(l.nmatch, 2);
	assert_int_equal(l.match[0], 1);
	assert_int_equal(l.match[1], 3);
	assert_int_equal(wg_list_selected(&l), 1);
	wg_list_key(&l, WG_KEY_DOWN, 10);
	assert_int_equal(wg_list_selected(&l), 3);
	wg_list_key(&l, WG_KEY_DOWN, 10);	/* at the end: stays */
	assert_int_equal(wg_list_selected(&l), 3);
	wg_list_key(&l, 'z', 10);		/* no match */
	assert_int_equal(l.nmatch, 0);
	assert_int_equal(wg_list_selected(&l), -1);
	wg_list_key(&l, WG_KEY_BACKSPACE, 10);
	assert_int_equal(l.nmatch, 2);
	assert_true(wg_list_selected(&l) >= 0);
	wg_list_key(&l, WG_KEY_CTRL_U, 10);
	assert_int_equal(l.nmatch, 4);
	wg_list_key(&l, WG_KEY_END, 10);
	assert_int_equal(wg_list_selected(&l), 3);
	wg_list_key(&l, WG_KEY_PGUP, 2);
	assert_int_equal(wg_list_selected(&l), 1);
	wg_list_select(&l, 2);
	assert_int_equal(wg_list_selected(&l), 2);

	/* Scrolling keeps the selection within the rows shown. */
	wg_list_key(&l, WG_KEY_END, 2);
	wg_list_scroll(&l, 2);
	assert_int_equal(l.top, 2);
	wg_list_key(&l, WG_KEY_HOME, 2);
	wg_list_scroll(&l, 2);
	assert_int_equal(l.top, 0);
}

static void
test_bar(void **state)
{
	char	out[256];

	(void)state;
	wg_bar_text(0, 10, 0, out, sizeof out);
	assert_string_equal(out, "..........");
	wg_bar_text(0.5, 10, 0, out, sizeof out);
	assert_string_equal(out, "#####.....");
	wg_bar_text(1, 10, 0, out, sizeof out);
	assert_string_equal(out, "##########");
	wg_bar_text(7, 4, 0, out, sizeof out);		/* clamped */
	assert_string_equal(out, "####");
	wg_bar_text(NAN, 4, 0, out, sizeof out);
	assert_string_equal(out, "....");
	/* UTF-8: 0.55 of 10 cells = 5 full + 4 eighths ("▌") + 4 light. */
	wg_bar_text(0.55, 10, 1, out, sizeof out);
	assert_string_equal(out, "\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88"
	    "\xe2\x96\x88\xe2\x96\x88\xe2\x96\x8c\xe2\x96\x91\xe2\x96\x91"
	    "\xe2\x96\x91\xe2\x96\x91");
	/* Moves smoothly: every eighth of a cell changes the text. */
	{
		char a[256], b[256];
		wg_bar_text(0.30, 10, 1, a, sizeof a);
		wg_bar_text(0.3125, 10, 1, b, sizeof b);
		assert_string_not_equal(a, b);
	}
}

static void
test_spark(void **state)
{
	double		v[6] = { 0, 10, 20, 5, 0, 0 };
	unsigned char	st[6] = { WG_SPARK_OK, WG_SPARK_OK, WG_SPARK_OK,
	    WG_SPARK_MISSING, WG_SPARK_NONE, WG_SPARK_OK };
	char		out[256];

	(void)state;
	/* ASCII levels " .:-=+*#": 0 -> ".", 10 -> "=" (mid, 3.5 -> 4),
	 * 20 -> "#", missing "x", not yet " ". */
	wg_spark_text(v, st, 5, 8, 0, 20, 0, out, sizeof out);
	assert_string_equal(out, ".=#x    ");
	/* Only the newest w values. */
	wg_spark_text(v, st, 6, 3, 0, 20, 0, out, sizeof out);
	assert_string_equal(out, "x .");
	wg_spark_text(v, st, 3, 3, 0, 20, 1, out, sizeof out);
	assert_string_equal(out, "\xe2\x96\x81\xe2\x96\x85\xe2\x96\x88");
	/* Flat range: the middle, not a division by zero. */
	wg_spark_text(v, st, 1, 1, 5, 5, 0, out, sizeof out);
	assert_string_equal(out, "=");
}

static const struct wg_col tcols[] = {
	{ "Station", 10, 20, 2, 0, 0 },
	{ "State", 10, 0, 1, 0, 0 },
	{ "SNR", 5, 0, 0, 1, 0 },
	{ "RSSI", 5, 0, 0, 1, 2 },
	{ "Trend", 6, 10, 1, 0, 1 },
};

static void
test_table(void **state)
{
	int		 w[5], shown, sum, i;
	char		 out[512];
	const char	*cells[5] = { "Torino", "streaming", "20.1", "-51",
	    "abc" };

	(void)state;
	/* Wide: everything, spare shared, maxima kept, full width used. */
	shown = wg_table_layout(tcols, 5, 80, w);
	assert_int_equal(shown, 5);
	assert_int_equal(w[0], 20);
	assert_int_equal(w[2], 5);
	assert_int_equal(w[3], 5);
	assert_true(w[4] <= 10);
	for (sum = 4, i = 0; i < 5; i++)
		sum += w[i];
	assert_int_equal(sum, 80);
	/* Exactly the minima: 10+10+5+5+6 + 4 gaps = 40. */
	shown = wg_table_layout(tcols, 5, 40, w);
	assert_int_equal(shown, 5);
	assert_int_equal(w[0], 10);
	/* Narrower: RSSI (prio 2) goes first, then Trend (prio 1). */
	shown = wg_table_layout(tcols, 5, 39, w);
	assert_int_equal(shown, 4);
	assert_int_equal(w[3], 0);
	assert_true(w[4] > 0);
	shown = wg_table_layout(tcols, 5, 30, w);
	assert_int_equal(shown, 3);
	assert_int_equal(w[4], 0);

	wg_table_layout(tcols, 5, 40, w);
	wg_table_line(tcols, 5, w, cells, 0, out, sizeof out);
	assert_string_equal(out,
	    "Torino     streaming   20.1   -51 abc   ");
	assert_int_equal(strlen(out), 40);
	wg_table_layout(tcols, 5, 30, w);
	wg_table_line(tcols, 5, w, cells, 0, out, sizeof out);
	assert_string_equal(out, "Torino       streaming    20.1");
}

/* Drawing: onto a pad of a terminal that writes to /dev/null; read the
 * cells back. */
static void
test_draw(void **state)
{
	FILE		*out = fopen("/dev/null", "w"), *in = fopen("/dev/null",
	    "r");
	SCREEN		*scr;
	WINDOW		*pad;
	struct wg_theme	 th;
	char		 line[128];

	(void)state;
	assert_non_null(out);
	assert_non_null(in);
	scr = newterm("vt100", out, in);
	assert_non_null(scr);
	pad = newpad(6, 20);
	assert_non_null(pad);
	memset(&th, 0, sizeof th);
	th.utf8 = 0;
	wg_put(pad, 0, 0, 8, 0, "hello world");
	mvwinnstr(pad, 0, 0, line, 8);
	assert_string_equal(line, "hello w~");
	wg_put(pad, 1, 2, 5, A_BOLD, "abc");
	assert_true((mvwinch(pad, 1, 2) & A_BOLD) != 0);
	assert_int_equal(mvwinch(pad, 1, 2) & A_CHARTEXT, 'a');
	wg_rule(pad, &th, 2, 0, 12, "Ev");
	mvwinnstr(pad, 2, 0, line, 12);
	assert_string_equal(line, "-- Ev ------");
	wg_box(pad, &th, 3, 0, 3, 5);
	mvwinnstr(pad, 3, 0, line, 5);
	assert_string_equal(line, "+---+");
	mvwinnstr(pad, 4, 0, line, 5);
	assert_string_equal(line, "|   |");
	delwin(pad);
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_is_text),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_field),
		cmocka_unit_test(test_slider),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_bar),
		cmocka_unit_test(test_spark),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_draw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
