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

#include "ui/lazycurses.h"
#include "ui/locpanel.h"
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
	/* Typed digits: 1, 5 -> 15; then 7 would be 157 > 30: not taken,
	 * and said (it used to start a new 7 silently). */
	wg_slider_key(&s, '1');
	assert_int_equal(s.value, 1);
	wg_slider_key(&s, '5');
	assert_int_equal(s.value, 15);
	assert_string_equal(s.note, "");
	wg_slider_key(&s, '7');
	assert_int_equal(s.value, 15);
	assert_string_equal(s.note, "157 s is more than the 30 s maximum: "
	    "not taken");
	/* "3","1" is 31: refused, not 1; then "0" makes 30. */
	wg_slider_commit(&s);
	wg_slider_key(&s, '3');
	wg_slider_key(&s, '1');
	assert_int_equal(s.value, 3);
	assert_non_null(strstr(s.note, "31 s"));
	wg_slider_key(&s, '0');
	assert_int_equal(s.value, 30);
	assert_string_equal(s.note, "");
	/* Backspace drops a typed digit: 30 -> 3. */
	wg_slider_key(&s, WG_KEY_BACKSPACE);
	assert_int_equal(s.value, 3);
	/* An arrow ends the number: the next digit starts one. */
	wg_slider_key(&s, WG_KEY_RIGHT);
	assert_int_equal(s.value, 4);
	wg_slider_key(&s, '2');
	assert_int_equal(s.value, 2);
	wg_slider_commit(&s);
	wg_slider_key(&s, '0');			/* below min: not taken, said */
	assert_int_equal(s.value, 2);
	assert_non_null(strstr(s.note, "minimum"));
	wg_slider_key(&s, '5');			/* 05 -> 5 */
	assert_int_equal(s.value, 5);
	assert_string_equal(s.note, "");
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

/* The grid's headline: chunks heard by at least min_st stations at
 * min_snr dB or more; missing cells, NaN SNRs and weak ones do not
 * count. */
static void
test_coverage(void **state)
{
	enum { Y = WG_SPARK_OK, M = WG_SPARK_MISSING, Z = WG_SPARK_NONE };
	/* 4 stations x 5 chunks (stride 6: one spare column never read) */
	unsigned char	st[4 * 6] = {
	    Y, Y, Y, Y, M, Y,
	    Y, Y, M, Y, Y, Y,
	    Y, Y, Y, Y, Y, Y,
	    Y, M, Y, Z, Y, Y };
	double		snr[4 * 6] = {
	    20, 5, 20, 20, 20, 20,
	    20, 20, 20, NAN, 20, 20,
	    20, 20, 20, 6, 3, 20,
	    20, 20, 2, 20, 20, 20 };

	(void)state;
	/* chunk 0: 4 heard; 1: 2 (5 dB, missing); 2: 2 (missing, 2 dB);
	 * 3: 2 (NaN, not yet; one at 6 dB); 4: 2 (missing, 3 dB) */
	assert_int_equal(wg_coverage_count(st, snr, 4, 6, 5, 6, 3), 1);
	/* 6 dB itself counts ("above 6 dB" means at least) */
	assert_int_equal(wg_coverage_count(st, snr, 4, 6, 5, 6, 2), 5);
	assert_int_equal(wg_coverage_count(st, snr, 4, 6, 5, 6.01, 2), 4);
	assert_int_equal(wg_coverage_count(st, snr, 4, 6, 5, 0, 1), 5);
	assert_int_equal(wg_coverage_count(st, snr, 4, 6, 5, 6, 5), 0);
	/* nchunk beyond the stride is cut to it */
	assert_int_equal(wg_coverage_count(st, snr, 4, 6, 99, 6, 4), 2);
	assert_int_equal(wg_coverage_count(st, snr, 0, 6, 5, 6, 0), 5);
}

/* A waterfall row: the strongest bin of each cell on the ramp; cells
 * wider than bins repeat them; the peak's cell. */
static void
test_waterfall(void **state)
{
	float	db[8] = { -90, -90, -80, -90, -90, -90, -40, -90 };
	char	out[256];

	(void)state;
	/* ASCII " .:-=+*#%@": -90 -> " ", -80 -> (10/50*9 = 1.8) ":",
	 * -40 -> "@" */
	wg_waterfall_text(db, 8, 8, -90, -40, 0, out, sizeof out);
	assert_string_equal(out, "  :   @ ");
	/* 4 cells of 2 bins: the strongest of each pair */
	wg_waterfall_text(db, 8, 4, -90, -40, 0, out, sizeof out);
	assert_string_equal(out, " : @");
	/* 16 cells: each bin twice */
	wg_waterfall_text(db, 8, 16, -90, -40, 0, out, sizeof out);
	assert_string_equal(out, "    ::      @@  ");
	/* UTF-8 shades, clamped outside lo..hi */
	wg_waterfall_text(db, 8, 2, -100, -60, 1, out, sizeof out);
	assert_string_equal(out, "\xe2\x96\x92\xe2\x96\x88");
	/* a flat scale does not divide by zero */
	wg_waterfall_text(db, 8, 1, -50, -50, 0, out, sizeof out);
	assert_string_equal(out, " ");
	assert_int_equal(wg_waterfall_text(db, 8, 0, -90, -40, 0, out,
	    sizeof out), 0);
	/* -5000..5000 Hz in 64 cells: 0 Hz in cell 32, +750 Hz in 36, the
	 * edges in the first and last cell, outside -1 */
	assert_int_equal(wg_waterfall_cell(0, -5000, 5000, 64), 32);
	assert_int_equal(wg_waterfall_cell(750, -5000, 5000, 64), 36);
	assert_int_equal(wg_waterfall_cell(-5000, -5000, 5000, 64), 0);
	assert_int_equal(wg_waterfall_cell(5000, -5000, 5000, 64), 63);
	assert_int_equal(wg_waterfall_cell(5001, -5000, 5000, 64), -1);
	assert_int_equal(wg_waterfall_cell(NAN, -5000, 5000, 64), -1);
	assert_int_equal(wg_waterfall_cell(0, 10, 10, 64), -1);
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
/* ui/lazycurses.c: before newterm, the variables ui/ reads are the
 * library's and still unset; newterm (through its forwarder, which loads
 * the library as the console does) sets them, and ui/ sees the values it
 * set: the pointers lead to the variables ncurses writes, not to copies. */
static void
test_lazycurses(void **state)
{
	FILE	*out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	SCREEN	*scr;
	char	 err[256];

	(void)state;
	assert_non_null(out);
	assert_non_null(in);
	assert_int_equal(lazycurses_load(err, sizeof err), 0);
	assert_null(stdscr);
	assert_int_equal(LINES, 0);
	scr = newterm("vt100", out, in);
	assert_non_null(scr);
	assert_non_null(stdscr);
	assert_non_null(curscr);
	assert_int_equal(LINES, 24);	/* vt100's lines and columns */
	assert_int_equal(COLS, 80);
	assert_int_equal(wmove(stdscr, 23, 79), OK);
	assert_int_equal(wmove(stdscr, 24, 0), ERR);	/* below LINES */
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
}

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

/* ---- the localization panel (ui/locpanel.h) ---- */

#define SID	"6f1c2a34-0000-4000-8000-000000000001"

static json_t *
ev(const char *text)
{
	json_error_t	 e;
	json_t		*j = json_loads(text, 0, &e);

	if (j == NULL)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

/* Feed one event; returns locpanel_event's answer. */
static int
feed(struct locpanel *p, const char *name, const char *text)
{
	json_t	*j = ev(text);
	int	 r = locpanel_event(p, name, j);

	json_decref(j);
	return r;
}

static const char FIX_OK[] = "{\"session_id\":\"" SID "\", \"chunk_index\":2,"
    "\"ok\":true, \"latitude\":45.070123, \"longitude\":7.686944,"
    "\"ellipse\":{\"semi_major_m\":35.2, \"semi_minor_m\":12.4,"
    "\"orientation_deg\":41.3}, \"cep50_m\":18.2, \"cep95_m\":44.0,"
    "\"receivers\":[1,2,3,4,5,6,7], \"pairs_used\":21, \"pairs_rejected\":0,"
    "\"error_m\":23.4, \"residuals\":[], \"worst\":{\"websdr\":3,"
    "\"station\":\"Sim 3\", \"residual_us\":20.149}}";
static const char TDOA[] = "{\"session_id\":\"" SID "\", \"chunk_index\":2,"
    "\"pairs\":[{}, {}, {}], \"excluded\":[{\"websdr\":4, \"station\":"
    "\"Torino\", \"reason\":\"no GPS time\"}, {\"websdr\":5, \"station\":"
    "\"Sim 5\", \"reason\":\"SNR 2.1 dB < 6 dB\"}]}";

static void
all_fit(char lines[][LP_LINE], int n, int w)
{
	int	i;

	for (i = 0; i < n; i++)
		if (wg_text_cells(lines[i]) > w)
			fail_msg("line %d is %d cells > %d: \"%s\"", i,
			    wg_text_cells(lines[i]), w, lines[i]);
}

static void
test_locpanel_fix(void **state)
{
	struct locpanel	 p;
	char		 l[3][LP_LINE], t[256];
	int		 n;

	(void)state;
	assert_true(utf8_locale());
	locpanel_reset(&p, SID);
	n = locpanel_lines(&p, 0, 78, 3, 1, l);
	assert_int_equal(n, 1);
	assert_string_equal(l[0], "waiting for the first chunk's TDoA and "
	    "fix");
	assert_int_equal(feed(&p, "session:tdoa", TDOA), 1);
	assert_int_equal(feed(&p, "session:fix", FIX_OK), 1);
	locpanel_title(&p, 0, 10, 1, t, sizeof t);
	assert_string_equal(t, "Localization \xc2\xb7 chunk 3/10");
	n = locpanel_lines(&p, 0, 78, 3, 1, l);
	assert_int_equal(n, 3);
	assert_string_equal(l[0], "Fix 45.07012, 7.68694  ellipse "
	    "35\xc3\x97" "12 m @41\xc2\xb0  CEP50 18 m  CEP95 44 m  7 rx");
	assert_string_equal(l[1], "Error 23 m vs source  worst residual "
	    "Sim 3 +20.15 \xc2\xb5s  21 pairs");
	assert_string_equal(l[2], "2 excluded: Torino (no GPS time), Sim 5 "
	    "(SNR 2.1 dB < 6 dB)");

	/* 40 cells: parts that do not fit are left out whole (the ellipse,
	 * CEP95, the worst residual), smaller ones after them still fit. */
	n = locpanel_lines(&p, 0, 40, 3, 1, l);
	assert_int_equal(n, 3);
	all_fit(l, n, 40);
	assert_string_equal(l[0], "Fix 45.07012, 7.68694  CEP50 18 m  7 rx");
	assert_string_equal(l[1], "Error 23 m vs source  21 pairs");
	assert_string_equal(l[2], "2 excluded: Torino (no GPS time), "
	    "Sim 5\xe2\x80\xa6");

	/* ASCII (LANG=C): no multibyte glyph anywhere. */
	n = locpanel_lines(&p, 0, 78, 3, 0, l);
	assert_string_equal(l[0], "Fix 45.07012, 7.68694  ellipse 35x12 m "
	    "@41deg  CEP50 18 m  CEP95 44 m  7 rx");
	assert_non_null(strstr(l[1], "+20.15 us"));
	n = locpanel_lines(&p, 0, 30, 3, 0, l);
	all_fit(l, n, 30);
	assert_string_equal(l[2], "2 excluded: Torino (no GPS ti~");

	/* Two lines (a short terminal): the exclusions' count joins the
	 * line above when it fits. */
	n = locpanel_lines(&p, 0, 100, 2, 1, l);
	assert_int_equal(n, 2);
	assert_string_equal(l[1], "Error 23 m vs source  worst residual "
	    "Sim 3 +20.15 \xc2\xb5s  21 pairs  2 excluded");
	n = locpanel_lines(&p, 0, 78, 1, 1, l);
	assert_int_equal(n, 1);
	assert_int_equal(strncmp(l[0], "Fix 45.07012, 7.68694", 21), 0);
	/* Narrower than the fix itself: cut with an ellipsis. */
	n = locpanel_lines(&p, 0, 12, 3, 1, l);
	all_fit(l, n, 12);
	assert_string_equal(l[0], "Fix 45.0701\xe2\x80\xa6");

	/* An older chunk's TDoA never replaces a newer one's. */
	assert_int_equal(feed(&p, "session:tdoa", "{\"session_id\":\"" SID
	    "\", \"chunk_index\":1, \"pairs\":[], \"excluded\":[]}"), 1);
	assert_int_equal(p.nexcl, 2);
	/* A newer one with nothing excluded. */
	feed(&p, "session:tdoa", "{\"session_id\":\"" SID "\", "
	    "\"chunk_index\":3, \"pairs\":[{}], \"excluded\":[]}");
	n = locpanel_lines(&p, 0, 78, 3, 1, l);
	assert_string_equal(l[2], "TDoA: 1 pair, no receiver excluded");
}

static void
test_locpanel_nofix(void **state)
{
	struct locpanel	 p;
	char		 l[3][LP_LINE], t[256];
	int		 n;

	(void)state;
	assert_true(utf8_locale());
	locpanel_reset(&p, SID);
	feed(&p, "session:fix", "{\"session_id\":\"" SID "\", "
	    "\"chunk_index\":0, \"ok\":false, \"reason\":\"2 usable receivers, "
	    "3 are needed (see excluded)\", \"latitude\":null, "
	    "\"longitude\":null, \"cep50_m\":null, \"cep95_m\":null, "
	    "\"receivers\":[], \"pairs_used\":1, \"pairs_rejected\":0}");
	n = locpanel_lines(&p, 0, 78, 3, 1, l);
	assert_int_equal(n, 2);		/* no TDoA event yet */
	assert_string_equal(l[0], "No fix: 2 usable receivers, 3 are needed "
	    "(see excluded)");
	assert_string_equal(l[1], "1 pair");
	/* With the exclusions known and two lines: they explain the reason
	 * better than a pair count. */
	feed(&p, "session:tdoa", TDOA);
	n = locpanel_lines(&p, 0, 78, 2, 1, l);
	assert_int_equal(n, 2);
	assert_string_equal(l[1], "2 excluded: Torino (no GPS time), Sim 5 "
	    "(SNR 2.1 dB < 6 dB)");
	n = locpanel_lines(&p, 0, 78, 3, 1, l);
	assert_int_equal(n, 3);
	assert_string_equal(l[1], "1 pair");
	/* Never a position without ok, whatever else the event holds. */
	feed(&p, "session:fix", "{\"session_id\":\"" SID "\", "
	    "\"chunk_index\":1, \"latitude\":45.0, \"longitude\":7.0}");
	n = locpanel_lines(&p, 0, 78, 3, 1, l);
	assert_int_equal(n, 2);
	assert_string_equal(l[0], "No fix: no reason given");
	assert_int_equal(strncmp(l[1], "2 excluded: Torino", 18), 0);

	/* The session fix goes to its own place. */
	assert_false(p.final.seen);
	feed(&p, "session:fix", "{\"session_id\":\"" SID "\", \"final\":true,"
	    " \"ok\":false, \"reason\":\"no chunk has a fix\"}");
	assert_true(p.final.final);
	assert_false(p.fix.final);
	assert_true(p.final.seen);
	assert_string_equal(p.fix.reason, "no reason given");
	locpanel_title(&p, 1, 10, 1, t, sizeof t);
	assert_string_equal(t, "Session fix");
	feed(&p, "session:tdoa", TDOA);
	n = locpanel_lines(&p, 1, 78, 3, 1, l);
	assert_int_equal(n, 2);
	assert_string_equal(l[0], "No fix: no chunk has a fix");
	assert_string_equal(l[1], "2 excluded (last chunk): Torino (no GPS "
	    "time), Sim 5 (SNR 2.1 dB < 6 dB)");
	/* The session fix: its chunk fixes (chunks_used), then the pairs
	 * those used (pairs_used: pairs, as in a chunk fix). */
	feed(&p, "session:fix", "{\"session_id\":\"" SID "\", \"final\":true,"
	    " \"ok\":true, \"latitude\":45.05, \"longitude\":8.2, "
	    "\"pairs_used\":63, \"pairs_rejected\":0, \"chunks_used\":3, "
	    "\"chunks_rejected\":1}");
	n = locpanel_lines(&p, 1, 78, 3, 1, l);
	assert_int_equal(n, 3);
	assert_string_equal(l[0], "Fix 45.05000, 8.20000");
	assert_string_equal(l[1], "chunk fixes 3 used, 1 rejected  63 pairs");
	feed(&p, "session:fix", "{\"session_id\":\"" SID "\", \"final\":true,"
	    " \"ok\":true, \"pairs_used\":21, \"pairs_rejected\":2, "
	    "\"chunks_used\":1, \"chunks_rejected\":0}");
	locpanel_lines(&p, 1, 78, 3, 1, l);
	assert_string_equal(l[1], "1 chunk fix  pairs 21 used, 2 rejected");
	/* an event without chunks_used: pairs are pairs */
	feed(&p, "session:fix", "{\"session_id\":\"" SID "\", \"final\":true,"
	    " \"ok\":true, \"pairs_used\":1}");
	locpanel_lines(&p, 1, 78, 3, 1, l);
	assert_string_equal(l[1], "1 pair");
}

static void
test_locpanel_untrusted(void **state)
{
	struct locpanel	 p;
	char		 l[3][LP_LINE], big[4096];
	int		 n, i;
	size_t		 o;

	(void)state;
	assert_true(utf8_locale());
	locpanel_reset(&p, SID);
	/* Other sessions, other events, no session id: not ours. */
	assert_int_equal(feed(&p, "session:fix", "{\"session_id\":\"other\", "
	    "\"chunk_index\":0, \"ok\":true, \"latitude\":1, "
	    "\"longitude\":2}"), 0);
	assert_int_equal(feed(&p, "session:fix", "{\"chunk_index\":0, "
	    "\"ok\":true}"), 0);
	assert_int_equal(feed(&p, "session:measurement", "{\"session_id\":\""
	    SID "\"}"), 0);
	assert_false(p.fix.seen);
	/* Mistyped and out-of-range fields are absent, not 0. */
	feed(&p, "session:fix", "{\"session_id\":\"" SID "\", "
	    "\"chunk_index\":\"2\", \"ok\":true, \"latitude\":\"45\", "
	    "\"longitude\":7, \"ellipse\":{\"semi_major_m\":-3, "
	    "\"semi_minor_m\":1}, \"cep50_m\":\"x\", \"receivers\":3, "
	    "\"pairs_used\":-4, \"error_m\":null, \"worst\":{\"station\":"
	    "\"Sim 1\"}}");
	n = locpanel_lines(&p, 0, 78, 3, 1, l);
	assert_int_equal(n, 1);
	assert_string_equal(l[0], "Fix (no position given)");
	feed(&p, "session:fix", "{\"session_id\":\"" SID "\", \"ok\":true, "
	    "\"latitude\":91, \"longitude\":7, \"ellipse\":{\"semi_major_m\":"
	    "2500, \"semi_minor_m\":800}}");
	locpanel_lines(&p, 0, 78, 3, 1, l);
	assert_string_equal(l[0], "Fix (no position given)  ellipse "
	    "2.50\xc3\x97" "0.80 km");
	/* Control characters from outside are escaped, never sent. */
	feed(&p, "session:fix", "{\"session_id\":\"" SID "\", \"ok\":false, "
	    "\"reason\":\"bad\\u001b[2J\\nclock\\u0085\"}");
	feed(&p, "session:tdoa", "{\"session_id\":\"" SID "\", "
	    "\"chunk_index\":0, \"excluded\":[{\"websdr\":9, \"reason\":"
	    "\"x\\ty\"}, 5, {\"station\":\"A\\u0007\"}]}");
	n = locpanel_lines(&p, 0, 200, 3, 1, l);
	for (i = 0; i < n; i++)
		for (o = 0; l[i][o] != '\0'; o++)
			assert_true((unsigned char)l[i][o] >= 0x20 &&
			    (unsigned char)l[i][o] != 0x7f);
	assert_string_equal(l[0], "No fix: bad\\x1b[2J\\x0aclock\\u0085");
	assert_string_equal(l[1], "2 excluded: station 9 (x\\x09y), A\\x07 "
	    "(no reason given)");
	/* Many exclusions: the count is exact, the list cut to the width. */
	o = (size_t)snprintf(big, sizeof big, "{\"session_id\":\"" SID "\", "
	    "\"chunk_index\":5, \"excluded\":[");
	for (i = 0; i < 40; i++)
		o += (size_t)snprintf(big + o, sizeof big - o, "%s{\"websdr\":"
		    "%d, \"station\":\"Station %d\", \"reason\":\"no GPS "
		    "time\"}", i ? "," : "", i + 1, i + 1);
	snprintf(big + o, sizeof big - o, "]}");
	feed(&p, "session:tdoa", big);
	assert_int_equal(p.nexcl, 40);
	n = locpanel_lines(&p, 0, 78, 3, 1, l);
	all_fit(l, n, 78);
	assert_int_equal(strncmp(l[1], "40 excluded: Station 1 (no GPS time),"
	    " Station 2", 46), 0);
	assert_non_null(strstr(l[1], "\xe2\x80\xa6"));
	n = locpanel_lines(&p, 0, 2000, 3, 1, l);
	assert_non_null(strstr(l[1], "Station 16 (no GPS time), 24 more"));
}

static void
test_locpanel_dist(void **state)
{
	char	b[32];

	(void)state;
	locpanel_dist(8.44, b, sizeof b);
	assert_string_equal(b, "8.4 m");
	locpanel_dist(9.96, b, sizeof b);
	assert_string_equal(b, "10 m");
	locpanel_dist(999.4, b, sizeof b);
	assert_string_equal(b, "999 m");
	locpanel_dist(999.6, b, sizeof b);
	assert_string_equal(b, "1.00 km");
	locpanel_dist(1250, b, sizeof b);
	assert_string_equal(b, "1.25 km");
	locpanel_dist(12345, b, sizeof b);
	assert_string_equal(b, "12.3 km");
	locpanel_dist(154000, b, sizeof b);
	assert_string_equal(b, "154 km");
	locpanel_dist(NAN, b, sizeof b);
	assert_string_equal(b, "?");
	locpanel_dist(-1, b, sizeof b);
	assert_string_equal(b, "?");
}

/* Ctrl-U/K/W (and Alt-Backspace, mapped to Ctrl-W) in a field. */
static void
test_field_edit_keys(void **state)
{
	struct wg_field	f;

	(void)state;
	wg_field_init(&f, 64, "alpha beta  ");
	wg_field_key(&f, WG_KEY_END);
	wg_field_key(&f, WG_KEY_CTRL_W);	/* blanks, then the word */
	assert_string_equal(f.buf, "alpha ");
	assert_int_equal(f.cur, 6);
	wg_field_key(&f, WG_KEY_CTRL_W);
	assert_string_equal(f.buf, "");
	wg_field_set(&f, "Zürich Nord");
	wg_field_key(&f, WG_KEY_END);
	wg_field_key(&f, WG_KEY_LEFT);
	wg_field_key(&f, WG_KEY_LEFT);
	wg_field_key(&f, WG_KEY_LEFT);
	wg_field_key(&f, WG_KEY_LEFT);
	wg_field_key(&f, WG_KEY_CTRL_K);	/* to the end */
	assert_string_equal(f.buf, "Zürich ");
	wg_field_key(&f, WG_KEY_LEFT);
	wg_field_key(&f, WG_KEY_LEFT);
	wg_field_key(&f, WG_KEY_CTRL_W);	/* a word of UTF-8 */
	assert_string_equal(f.buf, "h ");
	assert_int_equal(f.cur, 0);
	wg_field_set(&f, "abc def");
	wg_field_key(&f, WG_KEY_HOME);
	wg_field_key(&f, WG_KEY_RIGHT);
	wg_field_key(&f, WG_KEY_RIGHT);
	wg_field_key(&f, WG_KEY_CTRL_U);	/* to the start only */
	assert_string_equal(f.buf, "c def");
	assert_int_equal(f.cur, 0);
}

/* UTF-8 typed in any locale is kept as UTF-8; raw bytes gathered. */
static void
test_utf8_bytes(void **state)
{
	struct wg_field	f;
	struct wg_u8	u;
	const char	*in = "Z\xc3\xbcrich \xe2\x82\xac \xf0\x9f\x93\xa1";
	int		i, k;

	(void)state;
	wg_field_init(&f, 64, "");
	memset(&u, 0, sizeof u);
	for (i = 0; in[i] != '\0'; i++)
		if ((k = wg_u8_feed(&u, (unsigned char)in[i])) >= 0)
			wg_field_key(&f, k);
	assert_string_equal(f.buf, in);
	/* a C1 code point is a control, not text; U+00FC is text */
	assert_false(wg_key_is_text(0x85));
	assert_true(wg_key_is_text(0xfc));
	/* invalid: a stray continuation, an overlong "/", a surrogate */
	memset(&u, 0, sizeof u);
	assert_int_equal(wg_u8_feed(&u, 0x80), -1);
	assert_int_equal(wg_u8_feed(&u, 0xc0), -1);
	assert_int_equal(wg_u8_feed(&u, 0xaf), -1);
	assert_int_equal(wg_u8_feed(&u, 0xed), -1);
	assert_int_equal(wg_u8_feed(&u, 0xa0), -1);
	assert_int_equal(wg_u8_feed(&u, 0x80), -1);
	/* a sequence cut short: the next byte starts anew */
	assert_int_equal(wg_u8_feed(&u, 0xc3), -1);
	assert_int_equal(wg_u8_feed(&u, 'a'), 'a');
	assert_int_equal(wg_u8_feed(&u, 0xc3), -1);
	assert_int_equal(wg_u8_feed(&u, 0xbc), 0xfc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_is_text),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_field),
		cmocka_unit_test(test_slider),
		cmocka_unit_test(test_field_edit_keys),
		cmocka_unit_test(test_utf8_bytes),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_bar),
		cmocka_unit_test(test_spark),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_lazycurses),
		cmocka_unit_test(test_draw),
		cmocka_unit_test(test_locpanel_fix),
		cmocka_unit_test(test_locpanel_nofix),
		cmocka_unit_test(test_locpanel_untrusted),
		cmocka_unit_test(test_locpanel_dist),
		cmocka_unit_test(test_coverage),
		cmocka_unit_test(test_waterfall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
