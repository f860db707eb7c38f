/*
 * test_conf.c: the config file: a full valid config, and every kind of
 * error reported as FILE:LINE: message (all of them, not the first).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/conf.h"

static char dir[] = "/tmp/pw-test-conf-XXXXXX";

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
write_file(const char *name, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

/* Load text as a config; returns it (or NULL) and the errors. */
static struct conf *
load(const char *text, struct buf *errs)
{
	char *path = write_file("t.conf", text, 0600);
	struct conf *c;

	buf_init(errs);
	c = conf_load(path, errs);
	free(path);
	return c;
}

static void
test_full_config(void **state)
{
	char *pw = write_file("smtp.pass", "s3cret\n", 0600);
	char *url = write_file("slack.url", "https://hooks.example/T/B/x\n",
	    0600);
	char *text = xasprintf(
	    "state = \"state.db\";\n"
	    "user_agent = \"pw/1 (mailto:a@example.org)\";\n"
	    "log_level = \"debug\";\n"
	    "max_response_size = 1000000;\n"
	    "stale_after = \"3d\";\n"
	    "smtp = { host = \"smtp.example.org\"; port = 2525;\n"
	    "  tls = \"starttls\"; user = \"u\"; password_file = \"%s\";\n"
	    "  from = \"Digests <d@example.org>\"; timeout = \"30s\"; };\n"
	    "sources = (\n"
	    "  { name = \"cv\"; type = \"arxiv-rss\"; categories = [\"cs.CV\"];\n"
	    "    announce = [\"new\"]; interval = \"1h\"; },\n"
	    "  { name = \"hf\"; type = \"hf-daily\"; },\n"
	    "  { name = \"q\"; type = \"arxiv-api\"; query = \"cat:cs.CV\";\n"
	    "    max_results = 300; },\n"
	    "  { name = \"demo\"; type = \"feed\"; url = \"file://feeds/x.xml\"; }\n"
	    ");\n"
	    "subscriptions = (\n"
	    "  { name = \"video\"; query = \"\\\"video generation\\\" NOT survey\";\n"
	    "    keywords = [\"rope\"]; exclude = \"retracted\";\n"
	    "    sources = [\"cv\", \"hf\"]; schedule = \"daily 08:00\";\n"
	    "    timezone = \"Europe/Berlin\"; max_papers = 30; min_score = 1.5;\n"
	    "    email = [\"alice@example.org\"]; mbox = \"v.mbox\";\n"
	    "    webhook = ( { format = \"slack\"; url_file = \"%s\"; },\n"
	    "                { format = \"ntfy\"; url = \"https://ntfy.sh/t\"; } ); }\n"
	    ");\n", pw, url);
	struct buf errs;
	struct conf *c = load(text, &errs);
	char *want;

	(void)state;
	if (c == NULL)
		fail_msg("%s", buf_str(&errs));
	want = xasprintf("%s/state.db", dir);
	assert_string_equal(c->state, want);
	free(want);
	assert_int_equal(c->log_level, 7);
	assert_int_equal(c->max_response_size, 1000000);
	assert_int_equal(c->stale_after, 3 * 86400);
	assert_int_equal(c->fetch_timeout, 60);
	assert_string_equal(c->smtp.host, "smtp.example.org");
	assert_int_equal(c->smtp.port, 2525);
	assert_string_equal(c->smtp.password, "s3cret");
	assert_int_equal(c->smtp.timeout, 30);
	assert_true(c->smtp.tls_verify);
	assert_int_equal(c->n_sources, 4);
	assert_int_equal(c->sources[0].interval, 3600);
	assert_int_equal(c->sources[0].announce.n, 1);
	assert_int_equal(c->sources[1].announce.n, 2);	/* default new, cross */
	assert_int_equal(c->sources[2].max_results, 300);
	assert_int_equal(c->sources[1].max_results, 100);
	want = xasprintf("file://%s/feeds/x.xml", dir);
	assert_string_equal(c->sources[3].url, want);
	free(want);
	assert_int_equal(c->n_subs, 1);
	assert_string_equal(c->subs[0].exclude.v[0], "retracted");
	assert_true(c->subs[0].min_score > 1.49 && c->subs[0].min_score < 1.51);
	assert_int_equal(c->subs[0].n_webhooks, 2);
	assert_string_equal(c->subs[0].webhooks[0].url,
	    "https://hooks.example/T/B/x");
	assert_true(conf_sub_reads(&c->subs[0], "hf"));
	assert_false(conf_sub_reads(&c->subs[0], "q"));
	assert_non_null(conf_find_source(c, "demo"));
	assert_false(c->password_warning);
	conf_free(c);
	buf_release(&errs);
	free(text);
	free(pw);
	free(url);
}

struct err_case {
	const char	*text;
	const char	*want;		/* substring of the errors */
};

#define UA "user_agent = \"pw (mailto:a@b.org)\";\n"
#define SRC "sources = ( { name = \"s\"; type = \"hf-daily\"; } );\n"
#define SUB(x) "subscriptions = ( { name = \"x\"; mbox = \"/tmp/m\"; " x " } );\n"

static const struct err_case err_cases[] = {
	{ UA SRC SUB("keywords = [\"a\"];") "colour = 1;\n",
	    "t.conf:4: unknown setting 'colour' in the top level" },
	{ UA "sources = ( { name = \"s\"; type = \"arxv\"; url = \"file:///x\"; } );\n"
	    SUB("keywords = [\"a\"];"),
	    "t.conf:2: source 's': unknown type 'arxv' (expected arxiv-api, "
	    "arxiv-rss, hf-daily, feed)" },
	{ UA SRC "subscriptions = ( { name = \"video\"; mbox = \"/tmp/m\";\n"
	    "  query = \"(a OR b\"; } );\n",
	    "t.conf:4: subscription 'video': query: unbalanced '(' at column 1" },
	{ UA SRC SUB("keywords = [\"a\"]; max_papers = \"ten\";"),
	    "t.conf:3: 'max_papers' in subscription must be an integer" },
	{ SRC SUB("keywords = [\"a\"];"),
	    "t.conf:0: the top level: missing required setting 'user_agent'" },
	{ "user_agent = \"paperwatch\";\n" SRC SUB("keywords = [\"a\"];"),
	    "t.conf:1: 'user_agent' must hold a contact address" },
	{ UA SRC SUB("keywords = [\"a\"]; sources = [\"nope\"];"),
	    "t.conf:3: subscription 'x': unknown source 'nope'" },
	{ UA SRC SUB("keywords = [\"a\"]; schedule = \"daily 25:00\";"),
	    "t.conf:3: subscription 'x': schedule:" },
	{ UA SRC SUB("keywords = [\"a\"]; subject = \"{{#d}} {{date}}\";"),
	    "t.conf:3: subscription 'x': subject:1: unclosed section at tag "
	    "'{{#d}}'" },
	{ UA SRC SUB("keywords = [\"a\"]; timezone = \"Europe/Berln\";"),
	    "t.conf:3: subscription 'x': unknown time zone 'Europe/Berln'" },
	{ UA SRC SUB("keywords = [\"a\"]; email = [\"bob\"];"),
	    "subscription 'x': 'bob' is not one email address" },
	/* what mail_build would refuse, every cycle: refused here instead */
	{ UA SRC SUB("keywords = [\"a\"]; email = [\"a@example.org, b@example.org\"];"),
	    "subscription 'x': 'a@example.org, b@example.org' is not one email address" },
	{ UA SRC SUB("keywords = [\"a\"]; email = [\"j\xc3\xbcrgen@example.de\"];"),
	    "is not one email address" },
	{ UA SRC SUB("keywords = [\"a\"];") "smtp = { host = \"localhost\"; tls = \"none\"; from = \"a@b.org (Papers)\"; };\n",
	    "t.conf:4: smtp: 'from' must be one address" },
	{ UA SRC SUB("keywords = [\"a\"];") "smtp = { host = \"localhost\"; tls = \"none\"; from = \"a@b.org\";\n"
	    "  reply_to = \"x@y.org, z@y.org\"; };\n",
	    "t.conf:5: smtp: 'reply_to' must be one address" },
	{ UA SRC SUB("keywords = [\"a\"];") "smtp = { host = \"localhost\"; tls = \"none\"; from = \"a@b.org\";\n"
	    "  list_unsubscribe = \"ftp://x.org/u\"; };\n",
	    "t.conf:5: smtp: 'list_unsubscribe' must be an address or a mailto:" },
	/* plain text (and AUTH) only to a relay on this machine */
	{ UA SRC SUB("keywords = [\"a\"];") "smtp = { host = \"smtp.example.org\"; tls = \"none\";\n"
	    "  from = \"a@b.org\"; };\n",
	    "t.conf:4: smtp: tls = \"none\" is only for a relay on this machine" },
	{ UA SRC SUB("keywords = [\"a\"];") "smtp = { host = \"::1\"; tls = \"none\"; from = \"a@b.org\"; };\n",
	    "libESMTP cannot connect to an IPv6 address literal" },
	{ UA SRC SUB("keywords = [\"a\"]; email = [\"bob@example.org\"];"),
	    "subscription 'x': 'email' needs an smtp = { host = ...; from = ...; } group" },
	{ UA SRC "subscriptions = ( { name = \"x\"; keywords = [\"a\"]; } );\n",
	    "t.conf:3: subscription 'x': nowhere to deliver" },
	{ UA SRC SUB(""), "subscription 'x': needs 'query' or 'keywords'" },
	{ UA SRC SUB("keywords = [\"llm\", \"$$\"];"),
	    "t.conf:3: subscription 'x': keywords: '$$':" },
	{ UA "sources = ( { name = \"s\"; type = \"feed\"; } );\n"
	    SUB("keywords = [\"a\"];"), "t.conf:2: source 's': feed needs 'url'" },
	{ UA "sources = ( { name = \"s\"; type = \"feed\"; url = \"ftp://x\"; } );\n"
	    SUB("keywords = [\"a\"];"),
	    "url must start with http://, https:// or file://" },
	{ UA "sources = ( { name = \"s\"; type = \"hf-daily\"; },\n"
	    "  { name = \"s\"; type = \"hf-daily\"; } );\n" SUB("keywords = [\"a\"];"),
	    "t.conf:3: source 's' defined twice (first at line 2)" },
	{ UA SRC SUB("keywords = [\"a\"]; webhook = { format = \"irc\"; url = \"https://x\"; };"),
	    "unknown webhook format 'irc'" },
	{ UA SRC SUB("keywords = [\"a\"]; webhook = { format = \"slack\"; };"),
	    "webhook needs 'url' or 'url_file'" },
	{ UA SRC SUB("keywords = [\"a\"]; webhook = { format = \"matrix\"; token = \"t\"; url = \"https://m.org/_matrix/client/v3/rooms/!r:m.org/SECRET\"; };"),
	    "matrix webhook: url must end in /rooms/ROOM/send/m.room.message" },
	{ UA SRC SUB("keywords = [\"a\"]; webhook = { format = \"ntfy\"; url = \"https://ntfy.sh/\"; };"),
	    "ntfy webhook: url must end in the topic" },
	{ UA SRC SUB("keywords = [\"a\"];") "smtp = { host = \"h\"; from = \"x\"; tls = \"ssl\"; };\n",
	    "t.conf:4: smtp: 'tls' must be \"starttls\" or \"none\"" },
	{ UA SRC SUB("keywords = [\"a\"];") "smtp = { host = \"h\"; from = \"a@b\"; user = \"u\"; };\n",
	    "smtp: 'user' is set but no password" },
	{ UA SRC SUB("keywords = [\"a\"];") "smtp = { host = \"h\"; from = \"a@b\"; user = \"u\";\n"
	    "  password_file = \"/nonexistent/pw\"; };\n",
	    "t.conf:5: cannot open '/nonexistent/pw'" },
	{ UA SRC SUB("keywords = [\"a\"];") "stale_after = \"soon\";\n",
	    "t.conf:4: 'stale_after': invalid duration" },
	{ UA SRC SUB("keywords = [\"a\"];") "x = [ \"a\", 1 ];\n",
	    "t.conf:4: mismatched element type in array" },
	{ UA SRC SUB("keywords = [\"a\"]; announce = [\"new\"];"),
	    "t.conf:3: unknown setting 'announce' in subscription" },
	{ UA "sources = ( { name = \"s\"; type = \"arxiv-rss\"; categories = [\"cs.CV\"];\n"
	    "  announce = [\"old\"]; } );\n" SUB("keywords = [\"a\"];"),
	    "t.conf:3: source 's': unknown announce type 'old'" },
};

static void
test_errors_with_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		struct buf errs;
		struct conf *c = load(err_cases[i].text, &errs);

		if (c != NULL)
			fail_msg("case %zu accepted", i);
		if (strstr(buf_str(&errs), err_cases[i].want) == NULL)
			fail_msg("case %zu: want '%s' in:\n%s", i,
			    err_cases[i].want, buf_str(&errs));
		buf_release(&errs);
	}
}

static void
test_all_errors_reported(void **state)
{
	struct buf errs;
	struct conf *c = load(UA
	    "sources = ( { name = \"a\"; type = \"x\"; url = \"file:///x\"; } );\n"
	    "subscriptions = ( { name = \"s\"; query = \"(\"; mbox = \"/m\";\n"
	    "  bogus = 1; } );\n", &errs);
	int lines = 0;

	(void)state;
	assert_null(c);
	for (const char *p = buf_str(&errs); *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 3);
	assert_non_null(strstr(buf_str(&errs), "t.conf:2:"));
	assert_non_null(strstr(buf_str(&errs), "t.conf:3:"));
	assert_non_null(strstr(buf_str(&errs), "t.conf:4:"));
	buf_release(&errs);
}

static void
test_missing_file(void **state)
{
	struct buf errs;
	struct conf *c;

	(void)state;
	buf_init(&errs);
	c = conf_load("/nonexistent/paperwatch.conf", &errs);
	assert_null(c);
	assert_non_null(strstr(buf_str(&errs),
	    "/nonexistent/paperwatch.conf:0: cannot read the config file"));
	buf_release(&errs);
}

static void
test_password_world_readable(void **state)
{
	char *path = write_file("w.conf", UA SRC SUB("keywords = [\"a\"];")
	    "smtp = { host = \"h\"; from = \"a@b.org\"; user = \"u\";\n"
	    "  password = \"hunter2\"; };\n", 0644);
	struct buf errs;
	struct conf *c;

	(void)state;
	buf_init(&errs);
	c = conf_load(path, &errs);
	if (c == NULL)
		fail_msg("%s", buf_str(&errs));
	assert_true(c->password_warning);
	assert_string_equal(c->smtp.password, "hunter2");
	conf_free(c);
	buf_release(&errs);
	free(path);
}

static void
test_credentials_directory(void **state)
{
	char *cred = xasprintf("%s/creds", dir);
	char *f;
	struct buf errs;
	struct conf *c;

	(void)state;
	mkdir(cred, 0700);
	f = xasprintf("%s/smtp-password", cred);
	free(write_file("creds/smtp-password", "from-credential\n", 0600));
	free(write_file("creds/hook", "https://hooks.example/x\n", 0600));
	setenv("CREDENTIALS_DIRECTORY", cred, 1);
	c = load(UA SRC SUB("keywords = [\"a\"]; webhook = { format = \"json\";"
	    " url_file = \"credential:hook\"; };")
	    "smtp = { host = \"h\"; from = \"a@b.org\"; user = \"u\"; };\n",
	    &errs);
	unsetenv("CREDENTIALS_DIRECTORY");
	if (c == NULL)
		fail_msg("%s", buf_str(&errs));
	assert_string_equal(c->smtp.password, "from-credential");
	assert_string_equal(c->subs[0].webhooks[0].url,
	    "https://hooks.example/x");
	conf_free(c);
	/* a bare list_unsubscribe address becomes its mailto: URI */
	c = load(UA SRC SUB("keywords = [\"a\"]; email = [\"Bob <bob@b.org>\"];")
	    "smtp = { host = \"127.0.0.1\"; tls = \"none\"; from = \"a@b.org\";\n"
	    "  list_unsubscribe = \"unsubscribe@b.org\"; };\n", &errs);
	if (c == NULL)
		fail_msg("%s", buf_str(&errs));
	assert_string_equal(c->smtp.list_unsubscribe, "mailto:unsubscribe@b.org");
	conf_free(c);
	buf_release(&errs);
	free(f);
	free(cred);
}

static void
test_durations(void **state)
{
	(void)state;
	assert_int_equal(conf_parse_duration("90"), 90);
	assert_int_equal(conf_parse_duration("90s"), 90);
	assert_int_equal(conf_parse_duration("15m"), 900);
	assert_int_equal(conf_parse_duration("1h"), 3600);
	assert_int_equal(conf_parse_duration("2d"), 172800);
	assert_int_equal(conf_parse_duration("2w"), -1);
	assert_int_equal(conf_parse_duration("-1"), -1);
	assert_int_equal(conf_parse_duration(""), -1);
	assert_int_equal(conf_parse_duration("99999999999999999999"), -1);
}

/*
 * conf_load_fd reads the snapshot, not the file, but names the file in
 * errors and resolves relative paths from it (what `run`'s workers do).
 */
static void
test_load_from_snapshot(void **state)
{
	const char *good = UA
	    "sources = ( { name = \"a\"; type = \"feed\"; "
	    "url = \"file:///x\"; } );\n"
	    "subscriptions = ( { name = \"s\"; keywords = [\"x\"]; "
	    "mbox = \"out.mbox\"; } );\n";
	const char *bad = UA "sources = ( { name = \"a\"; } );\n";
	char *path = write_file("snap.conf", "this is not a config ;;;\n", 0600);
	char tmpl[] = "/tmp/pw-snap-XXXXXX";
	int fd = mkstemp(tmpl);
	struct buf errs;
	struct conf *c;

	(void)state;
	assert_true(fd >= 0);
	unlink(tmpl);
	assert_int_equal(write(fd, good, strlen(good)), (ssize_t)strlen(good));
	buf_init(&errs);
	c = conf_load_fd(path, fd, &errs);	/* the file itself is invalid */
	assert_non_null(c);
	assert_string_equal(buf_str(&errs), "");
	assert_int_equal(c->n_subs, 1);
	assert_string_equal(c->path, path);
	conf_free(c);
	/* read again from offset 0: the same fd serves every worker */
	c = conf_load_fd(path, fd, &errs);
	assert_non_null(c);
	conf_free(c);

	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, bad, strlen(bad), 0), (ssize_t)strlen(bad));
	assert_null(conf_load_fd(path, fd, &errs));
	assert_non_null(strstr(buf_str(&errs), "snap.conf:2:"));
	buf_release(&errs);
	close(fd);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_errors_with_lines),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_password_world_readable),
		cmocka_unit_test(test_credentials_directory),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_load_from_snapshot),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
