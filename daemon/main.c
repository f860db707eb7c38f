/*
 * main.c: the command line, signals, sd_notify and the daemon loop.
 * Wiring only: the work is done by cycle.c and the modules below it.
 */
#define _GNU_SOURCE		/* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <systemd/sd-daemon.h>

#include "../feeds/fetch.h"
#include "../feeds/source.h"
#include "conf.h"
#include "cycle.h"
#include "digest.h"
#include "log.h"
#include "render.h"
#include "store.h"

#define DEFAULT_CONF	PW_SYSCONFDIR "/paperwatch/paperwatch.conf"
#define SUPERVISOR	"paperwatch-supervise"
#define MAX_FILE	(1024LL * 1024 * 1024)

static const char usage_text[] =
"usage: paperwatch [-v] [-q] COMMAND [OPTIONS]\n"
"\n"
"commands:\n"
"  run -c FILE [--one-process]  run as a daemon (foreground; systemd\n"
"                            Type=notify); idles in a small supervisor\n"
"  once -c FILE              one cycle: poll, match, make digests, deliver\n"
"       [--source-file SOURCE=FILE]...  read SOURCE from FILE, do not fetch\n"
"  check-config -c FILE      validate the config; FILE:LINE: errors, exit 78\n"
"  papers [--type T] FILE|URL   print the papers of a document as JSON Lines\n"
"  match -c FILE [--json] [FILE...]   show what each subscription would match\n"
"  preview -c FILE SUBSCRIPTION [--format F] [--source-file FILE]\n"
"                            print the digest that would be sent\n"
"  render -t TEMPLATE -d DATA.json [-p PARTIALS-DIR] [--escape E]\n"
"                            render a Mustache template with JSON data\n"
"  status -c FILE            sources, pending matches, outbox, dead letters\n"
"  outbox -c FILE retry ID|all | drop ID\n"
"\n"
"options: -c FILE (default " DEFAULT_CONF "), -v more logging, -q less,\n"
"         --version, --help.  Exit: 0 ok, 1 partial failure, 64 usage,\n"
"         78 config error.  See paperwatch(8) and paperwatch.conf(5).\n";

static int
usage(void)
{
	fputs(usage_text, stderr);
	return EX_USAGE;
}

static long long
now_s(void)
{
	return (long long)time(NULL);
}

/* config and state */

/*
 * The config from path, or from fd (a snapshot of path) when fd >= 0.
 * Errors go to stderr, or, when reloading, to the log as the reasons the
 * running daemon keeps its old config.
 */
static struct conf *
load_conf_fd(const char *path, int fd, bool reloading)
{
	struct buf errs;
	struct conf *c;

	buf_init(&errs);
	c = fd >= 0 ? conf_load_fd(path, fd, &errs) : conf_load(path, &errs);
	if (c == NULL && !reloading) {
		fputs(buf_str(&errs), stderr);
	} else if (c == NULL) {
		for (char *l = strtok(errs.data, "\n"); l;
		    l = strtok(NULL, "\n"))
			log_err("run: reload: %s", l);
		log_err("run: the new config is invalid: keeping the old one");
	}
	buf_release(&errs);
	if (c != NULL && c->log_level > 0 && log_get_level() == LOG_LVL_INFO)
		log_set_level((enum log_level)c->log_level);
	if (c != NULL && c->password_warning)
		log_warn("config: '%s' holds a password and is readable by "
		    "other users (chmod 600 it, or use password_file)", path);
	if (c != NULL && !c->smtp.tls_verify && c->smtp.host != NULL)
		log_warn("config: smtp tls_verify is off: the server's "
		    "certificate is not checked");
	return c;
}

static struct conf *
load_conf(const char *path, bool reloading)
{
	return load_conf_fd(path, -1, reloading);
}

/*
 * One process at a time polls, makes digests and delivers with a state
 * database: two at once would each send every message due (a `once` by
 * hand or by cron while `run` works, or two overlapping cron runs). An
 * exclusive flock(2) on STATE.lock, held for the round; a second process
 * waits for it, calling tick meanwhile, and gives up when *stop is set.
 * Returns the descriptor (close it to release), or -1 (logged, or stop).
 */
static int
state_lock(const char *state, volatile sig_atomic_t *stop,
    void (*tick)(void *), void *tick_arg)
{
	char *path = xasprintf("%s.lock", state);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	bool told = false;

	if (fd == -1) {
		log_err("cannot open the lock file '%s': %s", path,
		    strerror(errno));
		free(path);
		return -1;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };

		if (errno != EWOULDBLOCK && errno != EINTR) {
			log_err("cannot lock '%s': %s", path, strerror(errno));
			close(fd);
			fd = -1;
			break;
		}
		if (!told)
			log_notice("another paperwatch is polling or delivering "
			    "with '%s': waiting for it to finish", state);
		told = true;
		if (stop != NULL && *stop) {
			close(fd);
			fd = -1;
			break;
		}
		if (tick != NULL)
			tick(tick_arg);
		nanosleep(&ts, NULL);
	}
	free(path);
	return fd;
}

static struct store *
open_store(const struct conf *c)
{
	char err[512];
	struct store *st = store_open(c->state, err, sizeof(err));

	if (st == NULL)
		log_err("%s", err);
	return st;
}

/* papers */

struct print_ctx {
	struct buf	line;
	size_t		n;
};

static int
print_paper(struct paper *p, void *arg)
{
	struct print_ctx *pc = arg;

	buf_reset(&pc->line);
	paper_to_json(p, &pc->line);
	buf_addc(&pc->line, '\n');
	fwrite(pc->line.data, 1, pc->line.len, stdout);
	pc->n++;
	paper_free(p);
	return 0;
}

static int
stream_file(const char *path, struct source_stream *s, char *err,
    size_t errlen)
{
	char chunk[65536];
	int fd, saved;
	ssize_t n;

	if (strcmp(path, "-") == 0)
		fd = 0;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		saved = errno;
		snprintf(err, errlen, "cannot open '%s': %s", path,
		    strerror(saved));
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			snprintf(err, errlen, "cannot read '%s': %s", path,
			    strerror(saved));
			break;
		}
		if (source_stream_push(s, chunk, (size_t)n, err, errlen) == -1)
			break;
	}
	if (fd != 0)
		close(fd);
	if (n != 0)
		return -1;
	return source_stream_end(s, err, errlen);
}

static int
on_fetch_data(struct fetch_job *job, const char *buf, size_t len)
{
	return source_stream_push(job->arg, buf, len, job->err,
	    sizeof(job->err));
}

static int
stream_url(const char *url, struct source_stream *s, const char *ua,
    char *err, size_t errlen)
{
	struct fetch_opts o = { .user_agent = ua };
	struct fetch_job job = { .url = url, .last_modified = -1,
	    .on_data = on_fetch_data, .arg = s };
	struct fetch_job *jobs[1] = { &job };
	int rc = -1;

	fetch_global_init();
	fetch_run(&o, jobs, 1);
	if (job.status == FETCH_OK)
		rc = source_stream_end(s, err, errlen);
	else
		snprintf(err, errlen, "%s", job.err[0] ? job.err :
		    "fetch failed");
	fetch_job_release(&job);
	return rc;
}

static bool
is_url(const char *s)
{
	return str_istarts(s, "http://") || str_istarts(s, "https://") ||
	    str_istarts(s, "file://");
}

/* Parse a file or URL with type (NULL: sniffed), calling cb per paper. */
static int
read_source(const char *what, const struct source_type *type,
    source_paper_cb cb, void *arg, struct source_info *info, char *err,
    size_t errlen)
{
	struct source_stream *s = source_stream_new(type, cb, arg, info);
	int rc;

	if (is_url(what)) {
		source_stream_set_base(s, what);
		rc = stream_url(what, s, "paperwatch/" PW_VERSION
		    " (command line)", err, errlen);
	} else {
		rc = stream_file(what, s, err, errlen);
	}
	source_stream_free(s);
	return rc;
}

static const struct option papers_opts[] = {
	{ "type", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

static int
cmd_papers(int argc, char **argv)
{
	const struct source_type *type = NULL;
	struct print_ctx pc = { .n = 0 };
	struct source_info info;
	char err[512], safe[512];
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "t:", papers_opts, NULL)) != -1) {
		if (ch != 't')
			return usage();
		if ((type = source_find(optarg)) == NULL) {
			fprintf(stderr, "paperwatch: unknown type '%s' (expected "
			    "arxiv-api, arxiv-rss, hf-daily, feed)\n", optarg);
			return EX_USAGE;
		}
	}
	if (optind + 1 != argc)
		return usage();
	buf_init(&pc.line);
	source_info_init(&info);
	rc = read_source(argv[optind], type, print_paper, &pc, &info, err,
	    sizeof(err));
	fflush(stdout);
	if (info.n_warnings > 0)
		log_warn("papers: '%s': %s", argv[optind],
		    log_safe(info.warning, safe, sizeof(safe)));
	if (rc == -1)
		fprintf(stderr, "paperwatch: %s: %s\n", argv[optind],
		    log_safe(err, safe, sizeof(safe)));
	buf_release(&pc.line);
	source_info_release(&info);
	return rc == -1 ? 1 : 0;
}

/* Collect papers into a list (for match, preview and --source-file). */
static int
collect_paper(struct paper *p, void *arg)
{
	paper_list_push_take(arg, p);
	return 0;
}

static int
load_papers(const char *what, const struct source_type *type,
    const char *source, struct paper_list *pl)
{
	struct source_info info;
	char err[512], safe[512];
	size_t before = pl->n;
	int rc;

	source_info_init(&info);
	rc = read_source(what, type, collect_paper, pl, &info, err,
	    sizeof(err));
	source_info_release(&info);
	if (rc == -1) {
		log_err("%s: %s", what, log_safe(err, safe, sizeof(safe)));
		return -1;
	}
	for (size_t i = before; source != NULL && i < pl->n; i++)
		if (!strvec_contains(&pl->v[i]->sources, source))
			strvec_push(&pl->v[i]->sources, source);
	return 0;
}

/* check-config */

static int
cmd_check_config(const char *path)
{
	struct conf *c = load_conf(path, false);

	if (c == NULL)
		return EX_CONFIG;
	printf("%s: OK: %zu source%s, %zu subscription%s\n", path,
	    c->n_sources, c->n_sources == 1 ? "" : "s", c->n_subs,
	    c->n_subs == 1 ? "" : "s");
	conf_free(c);
	return 0;
}

/* once */

struct source_file {
	char	*source;
	char	*path;
};

static void
log_stats(const struct cycle_stats *s)
{
	log_notice("cycle: %zu sources ok, %zu failed; %zu papers fetched, "
	    "%zu new; %zu matches; %zu digests; %zu messages sent, %zu to "
	    "retry, %zu failed", s->sources_ok, s->sources_failed,
	    s->papers_fetched, s->papers_new, s->matches, s->digests, s->sent,
	    s->retrying, s->dead);
}

static int
ingest_files(struct cycle *cy, const struct conf *c,
    const struct source_file *sf, size_t n, long long now,
    struct cycle_stats *stats)
{
	int failed = 0;

	cycle_register(cy, now, stats);
	for (size_t i = 0; i < n; i++) {
		const struct conf_source *cs = conf_find_source(c,
		    sf[i].source);
		struct paper_list pl;
		char err[512];

		if (cs == NULL) {
			log_err("once: no source '%s' in the config",
			    sf[i].source);
			failed = 1;
			continue;
		}
		paper_list_init(&pl);
		if (load_papers(sf[i].path, source_find(cs->type), NULL,
		    &pl) == -1 || cycle_ingest(cy, cs->name, &pl, now, stats,
		    err, sizeof(err)) == -1) {
			failed = 1;
			stats->sources_failed++;
		} else {
			stats->sources_ok++;
			stats->papers_fetched += pl.n;
		}
		paper_list_release(&pl);
	}
	return failed;
}

static const struct option once_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "source-file", required_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 },
};

static int
cmd_once(int argc, char **argv, const char *conf_path)
{
	struct source_file sf[64];
	struct cycle_stats stats = { 0 };
	size_t n_sf = 0, unsent;
	struct conf *c;
	struct store *st;
	struct cycle *cy;
	char err[512];
	int ch, rc = 0, lock;
	long long now;

	while ((ch = getopt_long(argc, argv, "c:f:", once_opts, NULL)) != -1) {
		char *eq;

		if (ch == 'c') {
			conf_path = optarg;
		} else if (ch == 'f' && n_sf < 64 &&
		    (eq = strchr(optarg, '=')) != NULL) {
			*eq = '\0';
			sf[n_sf].source = optarg;
			sf[n_sf++].path = eq + 1;
		} else {
			return usage();
		}
	}
	if (optind != argc)
		return usage();
	if ((c = load_conf(conf_path, false)) == NULL)
		return EX_CONFIG;
	if ((st = open_store(c)) == NULL) {
		conf_free(c);
		return 1;
	}
	if ((cy = cycle_new(c, st, err, sizeof(err))) == NULL) {
		log_err("%s", err);
		store_close(st);
		conf_free(c);
		return EX_CONFIG;
	}
	if ((lock = state_lock(c->state, NULL, NULL, NULL)) == -1) {
		cycle_free(cy);
		store_close(st);
		conf_free(c);
		return 1;
	}
	now = now_s();
	fetch_global_init();
	if (n_sf > 0)
		rc |= ingest_files(cy, c, sf, n_sf, now, &stats);
	else if (cycle_poll(cy, true, now, &stats) > 0)
		rc = 1;
	if (cycle_digests(cy, true, now, &stats) > 0)
		rc = 1;
	unsent = cycle_deliver(cy, now, &stats);
	{
		long long pending, retrying, dead, sent;

		/* "everything delivered": nothing left waiting in the outbox */
		store_outbox_counts(st, &pending, &retrying, &dead, &sent);
		if (unsent > 0 || pending > 0 || stats.dead > 0)
			rc = 1;
	}
	log_stats(&stats);
	cycle_free(cy);
	store_close(st);
	close(lock);
	conf_free(c);
	fetch_global_cleanup();
	return rc;
}

/* match */

static void
print_match(const char *sub, const struct paper *p, double score,
    const char *const *hits, size_t n_hits, void *arg)
{
	bool json = *(bool *)arg;

	if (json) {
		json_t *o = json_object(), *h = json_array();
		char *s;

		for (size_t i = 0; i < n_hits; i++)
			json_array_append_new(h, json_string(hits[i]));
		json_object_set_new(o, "subscription", json_string(sub));
		json_object_set_new(o, "id", json_string(p->id));
		json_object_set_new(o, "score", json_real(score));
		json_object_set_new(o, "hits", h);
		s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s != NULL)
			puts(s);
		free(s);
		json_decref(o);
		return;
	}
	printf("%s\t%.2f\t%s\t%s\t[", sub, score, p->id,
	    p->title ? p->title : "");
	for (size_t i = 0; i < n_hits; i++)
		printf("%s%s", i ? ", " : "", hits[i]);
	printf("]\n");
}

static const struct option match_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 },
};

/* Fetch every configured source into pl, recording nothing. */
static int
fetch_all(const struct conf *c, struct paper_list *pl)
{
	int failed = 0;

	fetch_global_init();
	for (size_t i = 0; i < c->n_sources; i++) {
		char *url = cycle_source_url(&c->sources[i], 0);

		if (url == NULL ||
		    load_papers(url, source_find(c->sources[i].type),
		    c->sources[i].name, pl) == -1)
			failed = 1;
		free(url);
	}
	return failed;
}

static int
cmd_match(int argc, char **argv, const char *conf_path)
{
	struct paper_list pl;
	struct conf *c;
	struct cycle *cy;
	char err[512];
	bool json = false;
	int ch, rc = 0;

	while ((ch = getopt_long(argc, argv, "c:j", match_opts, NULL)) != -1) {
		if (ch == 'c')
			conf_path = optarg;
		else if (ch == 'j')
			json = true;
		else
			return usage();
	}
	if ((c = load_conf(conf_path, false)) == NULL)
		return EX_CONFIG;
	if ((cy = cycle_new(c, NULL, err, sizeof(err))) == NULL) {
		log_err("%s", err);
		conf_free(c);
		return EX_CONFIG;
	}
	paper_list_init(&pl);
	if (optind == argc)
		rc = fetch_all(c, &pl);
	for (int i = optind; i < argc; i++)
		if (load_papers(argv[i], NULL, NULL, &pl) == -1)
			rc = 1;
	cycle_match(cy, &pl, NULL, print_match, &json);
	paper_list_release(&pl);
	cycle_free(cy);
	conf_free(c);
	return rc;
}

/* preview */

static const struct option preview_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "format", required_argument, NULL, 'F' },
	{ "source-file", required_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 },
};

static int
cmd_preview(int argc, char **argv, const char *conf_path)
{
	const char *format = "markdown", *file = NULL;
	struct paper_list pl;
	struct strvec parts;
	struct conf *c;
	struct store *st = NULL;
	struct cycle *cy;
	char err[512];
	int ch, rc = 0;

	while ((ch = getopt_long(argc, argv, "c:F:f:", preview_opts, NULL))
	    != -1) {
		if (ch == 'c')
			conf_path = optarg;
		else if (ch == 'F')
			format = optarg;
		else if (ch == 'f')
			file = optarg;
		else
			return usage();
	}
	if (optind + 1 != argc)
		return usage();
	if ((c = load_conf(conf_path, false)) == NULL)
		return EX_CONFIG;
	if (file == NULL && (st = open_store(c)) == NULL) {
		conf_free(c);
		return 1;
	}
	if ((cy = cycle_new(c, st, err, sizeof(err))) == NULL) {
		log_err("%s", err);
		store_close(st);
		conf_free(c);
		return EX_CONFIG;
	}
	paper_list_init(&pl);
	strvec_init(&parts);
	if (file != NULL && load_papers(file, NULL, NULL, &pl) == -1)
		rc = 1;
	else if (cycle_preview(cy, argv[optind], format, file ? &pl : NULL,
	    now_s(), &parts, err, sizeof(err)) == -1) {
		log_err("preview: %s", err);
		rc = 1;
	}
	for (size_t i = 0; i < parts.n; i++)
		printf("%s%s", parts.v[i], str_ends(parts.v[i], "\n") ? "" :
		    "\n");
	strvec_release(&parts);
	paper_list_release(&pl);
	cycle_free(cy);
	store_close(st);
	conf_free(c);
	return rc;
}

/* render */

struct partial_dir {
	const char	*dir;
	struct strvec	 loaded;	/* keeps returned texts alive */
};

static const char *
partial_from_dir(const char *name, void *arg)
{
	struct partial_dir *pd = arg;
	struct buf b;
	char err[256], *path;

	if (pd->dir == NULL || strchr(name, '/') != NULL || name[0] == '.')
		return NULL;
	path = xasprintf("%s/%s.mustache", pd->dir, name);
	buf_init(&b);
	if (file_read_all(path, 16 << 20, &b, err, sizeof(err)) == -1) {
		free(path);
		buf_release(&b);
		return NULL;
	}
	free(path);
	strvec_push_take(&pd->loaded, buf_detach(&b));
	return pd->loaded.v[pd->loaded.n - 1];
}

static const struct option render_opts[] = {
	{ "template", required_argument, NULL, 't' },
	{ "data", required_argument, NULL, 'd' },
	{ "partials", required_argument, NULL, 'p' },
	{ "escape", required_argument, NULL, 'e' },
	{ NULL, 0, NULL, 0 },
};

static int
cmd_render(int argc, char **argv)
{
	const char *tpl = NULL, *data = NULL;
	struct partial_dir pd = { .dir = NULL };
	int ch, esc = RENDER_ESC_HTML, rc = 1;
	struct buf t, out;
	json_t *j = NULL;
	json_error_t je;
	char err[512];

	while ((ch = getopt_long(argc, argv, "t:d:p:e:", render_opts, NULL))
	    != -1) {
		if (ch == 't')
			tpl = optarg;
		else if (ch == 'd')
			data = optarg;
		else if (ch == 'p')
			pd.dir = optarg;
		else if (ch == 'e' && (esc = render_escape_parse(optarg)) < 0)
			return usage();
		else if (ch != 'e')
			return usage();
	}
	if (tpl == NULL || data == NULL || optind != argc)
		return usage();
	buf_init(&t);
	buf_init(&out);
	strvec_init(&pd.loaded);
	if (file_read_all(tpl, 16 << 20, &t, err, sizeof(err)) == -1) {
		fprintf(stderr, "paperwatch: %s\n", err);
		goto out;
	}
	if ((j = json_load_file(data, JSON_DECODE_ANY, &je)) == NULL) {
		fprintf(stderr, "paperwatch: %s:%d: %s\n", data, je.line,
		    je.text);
		goto out;
	}
	if (render_string(t.data, t.len, tpl, j, (enum render_escape)esc,
	    partial_from_dir, &pd, &out, err, sizeof(err)) == -1) {
		fprintf(stderr, "paperwatch: %s\n", err);
		goto out;
	}
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	rc = 0;
out:
	json_decref(j);
	buf_release(&t);
	buf_release(&out);
	strvec_release(&pd.loaded);
	return rc;
}

/* status and metrics */

static void
fmt_time(long long t, char *out, size_t outlen)
{
	if (t < 0)
		str_copy(out, outlen, "never");
	else
		time_format_rfc3339(t, out, outlen);
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static const char *
label(const char *v, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *v && o + 3 < outlen; v++) {
		if (*v == '\\' || *v == '"' || *v == '\n') {
			out[o++] = '\\';
			out[o++] = *v == '\n' ? 'n' : *v;
		} else {
			out[o++] = *v;
		}
	}
	out[o] = '\0';
	return out;
}

/* Stale: never polled successfully, or nothing new for stale_after. */
static bool
source_stale(const struct conf *c, const struct store_feed *f, long long now)
{
	long long since = f->last_new > 0 ? f->last_new : f->last_ok;

	return f->last_ok < 0 || now - since > c->stale_after;
}

/* Per-source metric families, each family one group (exposition format). */
static void
source_metrics(const struct conf *c, struct store *st, long long now,
    struct buf *b)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "paperwatch_source_papers_fetched_total", "counter",
		    "Papers fetched per source." },
		{ "paperwatch_source_last_success_seconds", "gauge",
		    "Unix time of the last successful poll." },
		{ "paperwatch_source_failures", "gauge",
		    "Failed polls in a row." },
		{ "paperwatch_source_stale", "gauge",
		    "1 when nothing new came for longer than stale_after." },
	};
	struct store_feed *f = xcalloc(c->n_sources + 1, sizeof(*f));
	char err[64], n[512];

	for (size_t i = 0; i < c->n_sources; i++)
		if (store_feed_get(st, c->sources[i].name, &f[i], err,
		    sizeof(err)) == -1)
			store_feed_init(&f[i]);
	for (size_t k = 0; k < sizeof(fam) / sizeof(fam[0]); k++) {
		buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", fam[k].name,
		    fam[k].help, fam[k].name, fam[k].type);
		for (size_t i = 0; i < c->n_sources; i++) {
			long long v[] = { f[i].n_total,
			    f[i].last_ok < 0 ? 0 : f[i].last_ok, f[i].fails,
			    source_stale(c, &f[i], now) };

			buf_printf(b, "%s{source=\"%s\"} %lld\n", fam[k].name,
			    label(c->sources[i].name, n, sizeof(n)), v[k]);
		}
	}
	for (size_t i = 0; i < c->n_sources; i++)
		store_feed_release(&f[i]);
	free(f);
}

static void
metrics_text(const struct conf *c, struct store *st, long long now,
    struct buf *b)
{
	long long pending, retrying, dead, sent;

	store_outbox_counts(st, &pending, &retrying, &dead, &sent);
	buf_adds(b, "# HELP paperwatch_papers_stored Papers in the state "
	    "database.\n# TYPE paperwatch_papers_stored gauge\n");
	buf_printf(b, "paperwatch_papers_stored %lld\n",
	    store_count_papers(st));
	buf_adds(b, "# HELP paperwatch_matches_pending Matches waiting for "
	    "a digest.\n# TYPE paperwatch_matches_pending gauge\n");
	buf_printf(b, "paperwatch_matches_pending %lld\n",
	    store_count_pending(st));
	buf_adds(b, "# HELP paperwatch_matches_total Matches recorded.\n"
	    "# TYPE paperwatch_matches_total counter\n");
	buf_printf(b, "paperwatch_matches_total %lld\n",
	    store_count_matches(st));
	buf_adds(b, "# HELP paperwatch_digests_total Digests made.\n"
	    "# TYPE paperwatch_digests_total counter\n");
	buf_printf(b, "paperwatch_digests_total %lld\n",
	    store_count_digests(st));
	buf_adds(b, "# HELP paperwatch_outbox_messages Outbox messages by "
	    "state.\n# TYPE paperwatch_outbox_messages gauge\n");
	buf_printf(b, "paperwatch_outbox_messages{state=\"pending\"} %lld\n"
	    "paperwatch_outbox_messages{state=\"retrying\"} %lld\n"
	    "paperwatch_outbox_messages{state=\"dead\"} %lld\n"
	    "paperwatch_outbox_messages{state=\"sent\"} %lld\n",
	    pending, retrying, dead, sent);
	source_metrics(c, st, now, b);
}

/* Write the metrics file atomically (textfile collector convention). */
static void
write_metrics(const struct conf *c, struct store *st, long long now)
{
	struct buf b;
	char *tmp;
	FILE *f;
	bool ok;

	if (c->metrics_file == NULL)
		return;
	buf_init(&b);
	metrics_text(c, st, now, &b);
	tmp = xasprintf("%s.%ld.tmp", c->metrics_file, (long)getpid());
	/* 0644 whatever the umask: node_exporter runs as another user */
	ok = (f = fopen(tmp, "w")) != NULL;
	if (ok) {
		ok = fchmod(fileno(f), 0644) == 0 &&
		    fwrite(b.data, 1, b.len, f) == b.len;
		ok = fclose(f) == 0 && ok;
	}
	if (!ok || rename(tmp, c->metrics_file) != 0) {
		log_warn("metrics: cannot write '%s': %s", c->metrics_file,
		    strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	buf_release(&b);
}

static void
status_sources(const struct conf *c, struct store *st, long long now)
{
	printf("sources:\n");
	for (size_t i = 0; i < c->n_sources; i++) {
		struct store_feed f;
		char ok[32], nw[32], fd[32], err[256], safe[200];
		bool stale;

		if (store_feed_get(st, c->sources[i].name, &f, err,
		    sizeof(err)) == -1)
			continue;
		fmt_time(f.last_ok, ok, sizeof(ok));
		fmt_time(f.last_new, nw, sizeof(nw));
		fmt_time(f.feed_date, fd, sizeof(fd));
		stale = source_stale(c, &f, now);
		printf("  %-20s %-9s last ok %s, last new %s, feed date %s, "
		    "%lld papers last time, %lld in all%s%s%s\n",
		    c->sources[i].name, c->sources[i].type, ok, nw, fd,
		    f.n_fetched, f.n_total, stale ? ", STALE" : "",
		    f.last_error ? ", error: " : "", f.last_error ?
		    log_safe(f.last_error, safe, sizeof(safe)) : "");
		store_feed_release(&f);
	}
}

static void
status_outbox(struct store *st, long long now)
{
	struct store_outbox_row *r;
	long long pending, retrying, dead, sent;
	size_t n;
	char err[256], safe[200], when[32];

	store_outbox_counts(st, &pending, &retrying, &dead, &sent);
	printf("outbox: %lld pending (%lld retrying), %lld dead, %lld sent\n",
	    pending, retrying, dead, sent);
	if (store_outbox_list(st, &r, &n, err, sizeof(err)) == -1)
		return;
	for (size_t i = 0; i < n; i++) {
		bool pend = strcmp(r[i].state, "pending") == 0;

		fmt_time(r[i].next_attempt, when, sizeof(when));
		printf("  %lld\t%s\t%s\t%s\t%s\tattempts %d\t%s%s%s\n", r[i].id,
		    r[i].state, r[i].sub, r[i].channel, r[i].dest,
		    r[i].attempts, pend ? (r[i].next_attempt <= now ? "due now" :
		    when) : "", pend && r[i].last_error ? "\t" : "",
		    r[i].last_error ? log_safe(r[i].last_error, safe,
		    sizeof(safe)) : "");
	}
	store_outbox_rows_free(r, n);
}

static int
cmd_status(const char *conf_path)
{
	struct conf *c = load_conf(conf_path, false);
	struct store *st;
	long long now = now_s();
	struct buf b;

	if (c == NULL)
		return EX_CONFIG;
	if ((st = open_store(c)) == NULL) {
		conf_free(c);
		return 1;
	}
	printf("state: %s\npapers: %lld stored, %lld matches pending\n",
	    c->state, store_count_papers(st), store_count_pending(st));
	status_sources(c, st, now);
	status_outbox(st, now);
	buf_init(&b);
	metrics_text(c, st, now, &b);
	printf("metrics:\n%s", buf_str(&b));
	buf_release(&b);
	store_close(st);
	conf_free(c);
	return 0;
}

static int
cmd_outbox(int argc, char **argv, const char *conf_path)
{
	struct conf *c;
	struct store *st;
	char err[256], *end;
	long long id = -1;
	int rc = 0;

	if (argc != 3 || (strcmp(argv[1], "retry") != 0 &&
	    strcmp(argv[1], "drop") != 0))
		return usage();
	if (strcmp(argv[2], "all") != 0 || strcmp(argv[1], "drop") == 0) {
		errno = 0;
		id = strtoll(argv[2], &end, 10);
		if (errno || *end || id < 0) {
			fprintf(stderr, "paperwatch: '%s' is not a message id\n",
			    argv[2]);
			return EX_USAGE;
		}
	}
	if ((c = load_conf(conf_path, false)) == NULL)
		return EX_CONFIG;
	if ((st = open_store(c)) == NULL) {
		conf_free(c);
		return 1;
	}
	if ((strcmp(argv[1], "retry") == 0 ?
	    store_outbox_retry(st, id, now_s(), err, sizeof(err)) :
	    store_outbox_drop(st, id, err, sizeof(err))) == -1) {
		fprintf(stderr, "paperwatch: %s\n", err);
		rc = 1;
	}
	store_close(st);
	conf_free(c);
	return rc;
}

/* run: the daemon loop */

static volatile sig_atomic_t got_term, got_hup;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void
watchdog_ping(void *arg)
{
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

/*
 * A worker of `run` (see daemon/supervise/supervise.c) reports on this
 * pipe instead of sd_notify: only the supervisor, systemd's main PID,
 * may notify.
 */
static int worker_fd = -1;

static void worker_say(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
worker_say(const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (worker_fd < 0 || n < 0 || (size_t)n >= sizeof(line) - 1)
		return;
	line[n++] = '\n';
	(void)!write(worker_fd, line, (size_t)n);
}

/* The cycle's progress hook in a worker: the supervisor's watchdog. */
static void
worker_tick(void *arg)
{
	static double last;
	double now = time_mono();

	(void)arg;
	if (now - last >= 1.0) {
		last = now;
		worker_say("tick");
	}
}

struct daemon {
	const char	*conf_path;
	struct conf	*conf;
	struct store	*st;
	struct cycle	*cy;
	uint64_t	 watchdog_usec;
	long long	 last_poll;
};

static void
notify_status(struct daemon *d)
{
	long long pending, retrying, dead, sent;
	char when[32];

	store_outbox_counts(d->st, &pending, &retrying, &dead, &sent);
	if (worker_fd >= 0) {
		worker_say("status %lld %lld", pending, dead);
		return;
	}
	fmt_time(d->last_poll, when, sizeof(when));
	sd_notifyf(0, "STATUS=last poll %s; %lld messages pending, %lld dead",
	    when, pending, dead);
}

/* SIGHUP: build the new config and cycle completely, then swap. */
static void
reload(struct daemon *d)
{
	struct conf *c;
	struct cycle *cy;
	char err[512];

	sd_notify(0, "RELOADING=1");
	log_notice("run: reloading '%s'", d->conf_path);
	if ((c = load_conf(d->conf_path, true)) == NULL) {
		/* the errors are logged */
	} else if (strcmp(c->state, d->conf->state) != 0) {
		log_err("run: reload: 'state' cannot change while running "
		    "(restart instead): keeping the old config");
		conf_free(c);
	} else if ((cy = cycle_new(c, d->st, err, sizeof(err))) == NULL) {
		log_err("run: reload: %s: keeping the old config", err);
		conf_free(c);
	} else {
		cycle_set_hooks(cy, &got_term, d->watchdog_usec ? watchdog_ping :
		    NULL, NULL);
		cycle_free(d->cy);
		conf_free(d->conf);
		d->conf = c;
		d->cy = cy;
		log_notice("run: config reloaded: %zu sources, %zu "
		    "subscriptions", c->n_sources, c->n_subs);
	}
	sd_notify(0, "READY=1");
}

static void
one_round(struct daemon *d)
{
	struct cycle_stats stats = { 0 };
	long long now;
	int lock;

	if ((lock = state_lock(d->conf->state, &got_term, worker_fd >= 0 ?
	    worker_tick : d->watchdog_usec ? watchdog_ping : NULL, NULL)) == -1)
		return;
	now = now_s();
	cycle_poll(d->cy, false, now, &stats);
	if (stats.sources_ok + stats.sources_failed > 0)
		d->last_poll = now;
	if (!got_term)
		cycle_digests(d->cy, false, now, &stats);
	if (!got_term)
		cycle_deliver(d->cy, now, &stats);
	close(lock);
	if (got_term)
		return;
	if (stats.sources_ok + stats.sources_failed + stats.digests +
	    stats.sent + stats.retrying + stats.dead > 0)
		log_stats(&stats);
	write_metrics(d->conf, d->st, now);
	notify_status(d);
	/* going idle: hand caches and freed heap back to the system */
	store_release_memory(d->st);
	malloc_trim(0);
}

/* Sleep until due (seconds from now) or a signal; pings the watchdog. */
static void
sleep_until(struct daemon *d, long long due)
{
	while (!got_term && !got_hup) {
		long long now = now_s(), ms;

		if (now >= due)
			return;
		ms = (due - now) * 1000;
		if (d->watchdog_usec > 0 &&
		    ms > (long long)(d->watchdog_usec / 2000))
			ms = (long long)(d->watchdog_usec / 2000);
		if (ms > 60000)
			ms = 60000;	/* re-read the clock: suspend, jumps */
		poll(NULL, 0, (int)ms);
		if (d->watchdog_usec > 0)
			sd_notify(0, "WATCHDOG=1");
	}
}

/* Where paperwatch-supervise is: beside the binary (the build tree), in
 * ../libexec/paperwatch (an install moved from its PREFIX), or where
 * `make install` put it. */
static char *
find_supervisor(const char *exe)
{
	char *dir = xstrdup(exe), *slash = strrchr(dir, '/');
	const char *rel[] = { "", "/../libexec/paperwatch" };
	char *path;

	if (slash != NULL) {
		*slash = '\0';
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			path = xasprintf("%s%s/" SUPERVISOR, dir, rel[i]);
			if (access(path, X_OK) == 0) {
				free(dir);
				return path;
			}
			free(path);
		}
	}
	free(dir);
	path = xstrdup(PW_LIBEXECDIR "/" SUPERVISOR);
	if (access(path, X_OK) == 0)
		return path;
	free(path);
	return NULL;
}

/* The config file's text in a memfd: what `run` validates and keeps. */
static int
conf_snapshot(const char *path, char *err, size_t errlen)
{
	struct buf b;
	int fd;

	buf_init(&b);
	if (file_read_all(path, 16 * 1024 * 1024, &b, err, errlen) == -1) {
		buf_release(&b);
		return -1;
	}
	if ((fd = memfd_create("paperwatch.conf", MFD_CLOEXEC)) == -1 ||
	    write(fd, b.data, b.len) != (ssize_t)b.len) {
		snprintf(err, errlen, "%s: config snapshot: %s", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	buf_release(&b);
	return fd;
}

static const char *cli_flag;		/* -v or -q, passed on to workers */

/*
 * Hand the process over to paperwatch-supervise, which idles with libc
 * alone and runs a worker (`paperwatch _worker`) each time work is due.
 * Returns only if that cannot be done (then `run` works in one process).
 */
static void
exec_supervisor(const char *conf_path, int conf_fd)
{
	char exe[4096], fdstr[16], *sup;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *argv[6];
	int argc = 0;

	if (n <= 0) {
		log_warn("run: cannot find my own binary (%s): running in one "
		    "process", strerror(errno));
		return;
	}
	exe[n] = '\0';
	if ((sup = find_supervisor(exe)) == NULL) {
		log_warn("run: %s not found beside '%s' nor in %s: running in "
		    "one process", SUPERVISOR, exe, PW_LIBEXECDIR);
		return;
	}
	snprintf(fdstr, sizeof(fdstr), "%d", conf_fd);
	argv[argc++] = sup;
	argv[argc++] = exe;
	argv[argc++] = (char *)conf_path;
	argv[argc++] = fdstr;
	if (cli_flag != NULL)
		argv[argc++] = (char *)cli_flag;
	argv[argc] = NULL;
	if (fcntl(conf_fd, F_SETFD, 0) == 0)	/* the supervisor keeps it */
		execv(sup, argv);
	log_warn("run: cannot start '%s': %s: running in one process", sup,
	    strerror(errno));
	(void)fcntl(conf_fd, F_SETFD, FD_CLOEXEC);
	free(sup);
}

/* The daemon in this one process: the loop the workers split up. */
static int
run_one_process(struct daemon *d)
{
	if (sd_watchdog_enabled(0, &d->watchdog_usec) <= 0)
		d->watchdog_usec = 0;
	install_signals();
	cycle_set_hooks(d->cy, &got_term, d->watchdog_usec ? watchdog_ping :
	    NULL, NULL);
	fetch_global_init();
	sd_notify(0, "READY=1\nSTATUS=starting");
	while (!got_term) {
		if (got_hup) {
			got_hup = 0;
			reload(d);
		}
		one_round(d);
		if (got_term)
			break;
		sleep_until(d, cycle_next_due(d->cy, now_s()));
	}
	sd_notify(0, "STOPPING=1");
	log_notice("run: stopping");
	cycle_free(d->cy);
	store_close(d->st);
	conf_free(d->conf);
	fetch_global_cleanup();
	return 0;
}

static int
cmd_run(int argc, char **argv, const char *conf_path)
{
	static const struct option longopts[] = {
		{ "one-process", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct daemon d = { .conf_path = conf_path, .last_poll = -1 };
	bool one_process = false;
	char err[512];
	int ch, conf_fd = -1;

	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (ch == 'c')
			d.conf_path = optarg;
		else if (ch == 'P')
			one_process = true;
		else
			return usage();
	}
	if (optind != argc)
		return usage();
	/* what is validated is what the workers will read */
	if (!one_process &&
	    (conf_fd = conf_snapshot(d.conf_path, err, sizeof(err))) == -1) {
		fprintf(stderr, "paperwatch: %s\n", err);
		return EX_CONFIG;
	}
	if ((d.conf = load_conf_fd(d.conf_path, conf_fd, false)) == NULL)
		return EX_CONFIG;
	if ((d.st = open_store(d.conf)) == NULL) {
		conf_free(d.conf);
		return 1;
	}
	if ((d.cy = cycle_new(d.conf, d.st, err, sizeof(err))) == NULL) {
		log_err("%s", err);
		store_close(d.st);
		conf_free(d.conf);
		return EX_CONFIG;
	}
	log_notice("run: started: %zu sources, %zu subscriptions, state '%s'",
	    d.conf->n_sources, d.conf->n_subs, d.conf->state);
	if (!one_process) {
		cycle_free(d.cy);
		store_close(d.st);
		conf_free(d.conf);
		exec_supervisor(d.conf_path, conf_fd);
		close(conf_fd);
		/* still here: the same daemon in this one process */
		if ((d.conf = load_conf(d.conf_path, false)) == NULL ||
		    (d.st = open_store(d.conf)) == NULL ||
		    (d.cy = cycle_new(d.conf, d.st, err, sizeof(err))) ==
		    NULL) {
			log_err("run: the config or the state changed "
			    "meanwhile: start again");
			store_close(d.st);
			conf_free(d.conf);
			return 1;
		}
	}
	return run_one_process(&d);
}

/*
 * _worker CONF_FD STATUS_FD NEW_FD SPACING: one round for the supervisor,
 * on the config snapshot in CONF_FD (or the SIGHUP candidate in NEW_FD,
 * if valid), reporting on STATUS_FD; SPACING is when the previous worker
 * ended (CLOCK_MONOTONIC), for the per-host spacing of requests.
 */
static int
cmd_worker(int argc, char **argv, const char *conf_path)
{
	struct daemon d = { .conf_path = conf_path, .last_poll = -1 };
	int conf_fd, new_fd;
	double spacing_from;
	char err[512], *end;

	if (argc != 5)
		return usage();
	errno = 0;
	conf_fd = (int)strtol(argv[1], &end, 10);
	worker_fd = (int)strtol(argv[2], &end, 10);
	new_fd = (int)strtol(argv[3], &end, 10);
	spacing_from = strtod(argv[4], &end);
	if (errno != 0 || conf_fd < 0 || worker_fd < 0)
		return usage();
	(void)fcntl(conf_fd, F_SETFD, FD_CLOEXEC);
	(void)fcntl(worker_fd, F_SETFD, FD_CLOEXEC);
	if (new_fd >= 0)
		(void)fcntl(new_fd, F_SETFD, FD_CLOEXEC);
	install_signals();
	signal(SIGHUP, SIG_IGN);		/* the supervisor's business */

	if (new_fd >= 0) {
		struct conf *c = load_conf_fd(conf_path, new_fd, true);
		struct conf *old;
		struct buf scratch;

		buf_init(&scratch);
		old = conf_load_fd(conf_path, conf_fd, &scratch);
		buf_release(&scratch);

		/* c == NULL: the errors are logged */
		if (c != NULL && old != NULL &&
		    strcmp(c->state, old->state) != 0) {
			log_err("run: reload: 'state' cannot change while "
			    "running (restart instead): keeping the old config");
			conf_free(c);
			c = NULL;
		} else if (c != NULL && (d.st = open_store(c)) != NULL &&
		    (d.cy = cycle_new(c, d.st, err, sizeof(err))) == NULL) {
			log_err("run: reload: %s: keeping the old config", err);
			store_close(d.st);
			d.st = NULL;
			conf_free(c);
			c = NULL;
		}
		if (c != NULL) {
			log_notice("run: config reloaded: %zu sources, %zu "
			    "subscriptions", c->n_sources, c->n_subs);
			conf_free(old);
			d.conf = c;
		} else if ((d.conf = old) != NULL && old->log_level > 0 &&
		    cli_flag == NULL) {
			log_set_level((enum log_level)old->log_level);
		}
		worker_say(c != NULL ? "reload ok" : "reload refused");
	}
	if (d.conf == NULL) {
		struct buf errs;

		buf_init(&errs);
		d.conf = conf_load_fd(conf_path, conf_fd, &errs);
		if (d.conf == NULL) {
			fputs(buf_str(&errs), stderr);
			buf_release(&errs);
			return EX_CONFIG;
		}
		buf_release(&errs);
		if (d.conf->log_level > 0 && log_get_level() == LOG_LVL_INFO)
			log_set_level((enum log_level)d.conf->log_level);
	}
	if (d.st == NULL && (d.st = open_store(d.conf)) == NULL) {
		conf_free(d.conf);
		return 1;
	}
	if (d.cy == NULL &&
	    (d.cy = cycle_new(d.conf, d.st, err, sizeof(err))) == NULL) {
		log_err("%s", err);
		store_close(d.st);
		conf_free(d.conf);
		return EX_CONFIG;
	}
	cycle_set_hooks(d.cy, &got_term, worker_tick, NULL);
	fetch_global_init();
	if (spacing_from > 0)
		fetch_assume_requests_at(spacing_from);
	one_round(&d);
	if (d.last_poll >= 0)
		worker_say("polled %lld", d.last_poll);
	if (!got_term)
		worker_say("next %lld", cycle_next_due(d.cy, now_s()));
	cycle_free(d.cy);
	store_close(d.st);
	conf_free(d.conf);
	fetch_global_cleanup();
	return 0;
}

/* main */

int
main(int argc, char **argv)
{
	const char *conf_path = DEFAULT_CONF, *cmd;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("paperwatch %s\n", PW_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strcmp(argv[i], "-v") == 0) {
			log_set_level(LOG_LVL_DEBUG);
			cli_flag = "-v";
		} else if (strcmp(argv[i], "-q") == 0) {
			log_set_level(LOG_LVL_WARN);
			cli_flag = "-q";
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			conf_path = argv[++i];
		} else {
			return usage();
		}
	}
	if (i >= argc)
		return usage();
	cmd = argv[i];
	argc -= i;
	argv += i;
	optind = 1;
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(cmd, "once") == 0)
		return cmd_once(argc, argv, conf_path);
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc, argv, conf_path);
	if (strcmp(cmd, "_worker") == 0)	/* started by paperwatch-supervise */
		return cmd_worker(argc, argv, conf_path);
	if (strcmp(cmd, "papers") == 0)
		return cmd_papers(argc, argv);
	if (strcmp(cmd, "match") == 0)
		return cmd_match(argc, argv, conf_path);
	if (strcmp(cmd, "preview") == 0)
		return cmd_preview(argc, argv, conf_path);
	if (strcmp(cmd, "render") == 0)
		return cmd_render(argc, argv);
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "check-config") == 0 ||
	    strcmp(cmd, "outbox") == 0) {
		int ch;

		while ((ch = getopt(argc, argv, "+c:")) != -1) {
			if (ch != 'c')
				return usage();
			conf_path = optarg;
		}
		if (strcmp(cmd, "outbox") == 0)
			return cmd_outbox(argc - optind + 1,
			    argv + optind - 1, conf_path);
		if (optind != argc)
			return usage();
		return strcmp(cmd, "status") == 0 ? cmd_status(conf_path) :
		    cmd_check_config(conf_path);
	}
	fprintf(stderr, "paperwatch: unknown command '%s'\n", cmd);
	return usage();
}
