/*
 * send_bench.c: sending throughput with the outbox bookkeeping included
 * (issue 6): N digests queued in the outbox, then delivered over SMTP by
 * the daemon's own delivery step (cycle_deliver: outbox reads, the "smtp"
 * channel, per-message sent marks and logs) to a local sink.
 *
 * Usage: send_bench -c CONF -n N [-k PAPERS] [-B | -b]
 *
 * CONF: a paperwatch config with `state` (a fresh database) and `smtp`
 * (host, port, tls = "none", from); bench/run.sh writes it.  Each of the N
 * messages goes to its own recipient (userNNNNN@example.org) and holds a
 * digest of PAPERS (default 10) synthetic papers built by mail_build
 * (multipart/alternative, text + HTML, quoted-printable), as a real
 * digest mail does.
 *
 * Phases, both timed with CLOCK_MONOTONIC:
 *   queue:   per message, in its own transaction as cycle.c does for a
 *            digest: store_digest_new + store_outbox_add (mail_build is
 *            done before, untimed);
 *   deliver: cycle_deliver() called until the outbox has nothing pending
 *            (it reads the ids of up to CYCLE_OUTBOX_IDS due messages at
 *            once, then loads them CYCLE_OUTBOX_BATCH at a time and
 *            hands them to one SMTP session, a new one every
 *            SMTP_SESSION_MAX messages; each sent mark is its own
 *            transaction and drops that message's body).
 * With -B, the reference instead: a bare libESMTP loop (no outbox, no
 * paperwatch code in the send path): one session carrying the same N
 * messages (the same bytes, envelope recipient per message), timed from
 * smtp_start_session to its return, with TCP_NODELAY set on libESMTP's
 * socket at its CONNECT event as paperwatch's channel does (but without
 * the channel's TCP_CORK around each body, which needs a message
 * callback): the floor of a plain libESMTP loop here.  -b: the same loop
 * with libESMTP's defaults
 * (Nagle on: each message larger than libESMTP's 2 KiB write buffer then
 * waits for a 40 ms delayed ACK on loopback).
 * The peak RSS of the deliver phase alone is VmHWM after a reset
 * (/proc/self/clear_refs "5") at its start, so it shows whether memory
 * grows with N.  Output: one line of key=value pairs (bench/run.sh reads
 * it); exit status 0 when all N were sent, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libesmtp.h>

#include "daemon/conf.h"
#include "daemon/cycle.h"
#include "daemon/log.h"
#include "daemon/mail.h"
#include "daemon/store.h"
#include "feeds/util.h"

static const char *const words[] = {
	"diffusion", "transformer", "attention", "language", "model",
	"learning", "graph", "neural", "network", "reinforcement", "policy",
	"benchmark", "retrieval", "generation", "video", "image", "robust",
	"efficient", "sparse", "mixture", "experts", "training", "inference",
	"latent", "representation", "contrastive", "self-supervised", "data",
	"optimization", "gradient", "scaling", "alignment", "reasoning",
	"multimodal", "segmentation", "detection", "tokenizer", "quantization",
};
#define N_WORDS	(sizeof(words) / sizeof(words[0]))

static unsigned long rng = 1;

static const char *
word(void)
{
	rng = rng * 6364136223846793005UL + 1442695040888963407UL;
	return words[(rng >> 33) % N_WORDS];
}

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A /proc/self/status value in kB, -1 when absent. */
static long
status_kib(const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* CPU seconds (user + sys) of this process so far. */
static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void
reset_hwm(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");

	if (f != NULL) {
		fputs("5", f);
		fclose(f);
	}
}

/* The text and HTML parts of a digest of k papers (deterministic). */
static void
make_digest(int k, struct buf *text, struct buf *html)
{
	buf_adds(html, "<!DOCTYPE html><html><body><h1>Papers for "
	    "2025-02-10</h1>\n<ol>\n");
	buf_adds(text, "Papers for 2025-02-10\n\n");
	for (int p = 0; p < k; p++) {
		struct buf title, summ;

		buf_init(&title);
		buf_init(&summ);
		for (int w = 0; w < 9; w++)
			buf_printf(&title, "%s%s", w ? " " : "", word());
		for (int w = 0; w < 60; w++)
			buf_printf(&summ, "%s%s", w ? " " : "", word());
		buf_printf(text, "%d. %s\n   Alice Example, Bob Exampl\xc3\xa9, "
		    "Chen Li, et al.\n   %s ...\n   https://arxiv.org/abs/"
		    "2502.%05d  (score 7, hits: %s, %s)\n\n", p + 1,
		    buf_str(&title), buf_str(&summ), 10000 + p, word(), word());
		buf_printf(html, "<li><p><a href=\"https://arxiv.org/abs/2502."
		    "%05d\"><b>%s</b></a><br><i>Alice Example, Bob Exampl"
		    "\xc3\xa9, Chen Li, et al.</i></p><p>%s &hellip;</p><p>"
		    "<a href=\"https://arxiv.org/pdf/2502.%05d\">PDF</a> "
		    "&middot; score 7 &middot; <mark>%s</mark></p></li>\n",
		    10000 + p, buf_str(&title), buf_str(&summ), 10000 + p,
		    word());
		buf_release(&title);
		buf_release(&summ);
	}
	buf_adds(html, "</ol></body></html>\n");
}

static int
bare_ok(smtp_message_t m)
{
	const smtp_status_t *t = smtp_message_transfer_status(m);

	return t != NULL && t->code / 100 == 2;
}

static void
count_ok(smtp_message_t m, void *arg)
{
	*(long *)arg += bare_ok(m);
}

/* TCP_NODELAY on every TCP socket of ours connected to port. */
static void
nodelay(int port)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		int one = 1, p = -1;

		if (*end != '\0' || fd < 3 || fd == dirfd(d) ||
		    getpeername((int)fd, (struct sockaddr *)&ss, &sl) == -1)
			continue;
		if (ss.ss_family == AF_INET)
			p = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			p = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		if (p == port)
			setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
	}
	closedir(d);
}

static void
on_event(smtp_session_t s, int event, void *arg, ...)
{
	(void)s;
	if (event == SMTP_EV_CONNECT)
		nodelay(*(int *)arg);
}

/* The -B/-b reference: one libESMTP session, n messages, nothing else. */
static int
bare(const struct conf *c, long n, const char *body, size_t len, int nd)
{
	int port = c->smtp.port;
	smtp_session_t s = smtp_create_session();
	char hp[300], from[256], (*rcpt)[40] = calloc((size_t)n, 40);
	char *sender = mail_addr_spec(c->smtp.from);
	double t0, c0, t;
	long ok = 0;

	if (s == NULL || rcpt == NULL || sender == NULL)
		return 1;
	snprintf(from, sizeof(from), "%s", sender);
	free(sender);
	snprintf(hp, sizeof(hp), "%s:%d", c->smtp.host, c->smtp.port);
	smtp_set_server(s, hp);
	smtp_set_hostname(s, "bench.example.org");
	if (nd)
		smtp_set_eventcb(s, on_event, &port);
	for (long i = 0; i < n; i++) {
		smtp_message_t m = smtp_add_message(s);

		snprintf(rcpt[i], 40, "user%05ld@example.org", i);
		smtp_set_reverse_path(m, from);
		smtp_add_recipient(m, rcpt[i]);
		smtp_set_message_str(m, (void *)body);
	}
	reset_hwm();
	c0 = cpu_s();
	t0 = now_mono();
	smtp_start_session(s);
	t = now_mono() - t0;
	smtp_enumerate_messages(s, count_ok, &ok);
	printf("mode=%s n=%ld msg_bytes=%zu deliver_s=%.4f "
	    "deliver_cpu_s=%.4f msg_per_s=%.1f sent=%ld hwm_deliver_kib=%ld\n",
	    nd ? "bare-nodelay" : "bare-default", n, len, t, cpu_s() - c0, (double)ok / t, ok, status_kib("VmHWM"));
	smtp_destroy_session(s);
	free(rcpt);
	return ok == n ? 0 : 1;
}

static void usage(void);

static long
num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		usage();
	return v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: send_bench -c CONF -n N [-k PAPERS] [-B | -b]\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	const char *conf_path = NULL;
	struct cycle_stats stats = { 0 };
	struct buf errs, text, html, msg;
	struct conf *c;
	struct store *st;
	struct cycle *cy;
	long n = 0, k = 10, rss_queued, hwm_deliver, rss_end;
	long long now = (long long)time(NULL), pending, retrying, dead, sent;
	double t0, c0, t_queue, t_deliver, cpu_deliver, bytes = 0;
	char err[512];
	int ch, calls = 0, bare_mode = 0;

	while ((ch = getopt(argc, argv, "c:n:k:Bb")) != -1) {
		switch (ch) {
		case 'B':
			bare_mode = 2;
			break;
		case 'b':
			bare_mode = 1;
			break;
		case 'c':
			conf_path = optarg;
			break;
		case 'n':
			n = num(optarg);
			break;
		case 'k':
			k = num(optarg);
			break;
		default:
			usage();
		}
	}
	if (conf_path == NULL || n <= 0 || n > 10000000 || k < 1 || k > 1000)
		usage();
	buf_init(&errs);
	if ((c = conf_load(conf_path, &errs)) == NULL) {
		fprintf(stderr, "%s", buf_str(&errs));
		return 78;
	}
	buf_release(&errs);
	signal(SIGPIPE, SIG_IGN);
	if (c->log_level > 0)		/* as main.c does: -1 = unset */
		log_set_level((enum log_level)c->log_level);
	if ((st = store_open(c->state, err, sizeof(err))) == NULL) {
		fprintf(stderr, "send_bench: %s\n", err);
		return 1;
	}

	buf_init(&text);
	buf_init(&html);
	buf_init(&msg);
	make_digest((int)k, &text, &html);
	if (bare_mode) {
		struct mail_spec m = {
			.from = c->smtp.from, .to = "user00000@example.org",
			.subject = "Papers for 2025-02-10 \xe2\x80\x94 bench",
			.text = buf_str(&text), .html = buf_str(&html),
			.message_id = "d1.user00000@bench.example.org",
			.date = now, .list_id = "bench.paperwatch.example.org",
		};
		int rc;

		if (mail_build(&m, &msg, err, sizeof(err)) == -1) {
			fprintf(stderr, "send_bench: %s\n", err);
			return 1;
		}
		rc = bare(c, n, buf_str(&msg), msg.len, bare_mode == 2);
		buf_release(&text);
		buf_release(&html);
		buf_release(&msg);
		store_close(st);
		conf_free(c);
		return rc;
	}

	t0 = now_mono();
	for (long i = 0; i < n; i++) {
		char to[64], mid[96], sub[32];
		const char *paper = "2502.10000";
		struct mail_spec m = {
			.from = c->smtp.from, .to = to,
			.subject = "Papers for 2025-02-10 \xe2\x80\x94 bench",
			.text = buf_str(&text), .html = buf_str(&html),
			.message_id = mid, .date = now,
			.list_id = "bench.paperwatch.example.org",
		};
		long long d;

		snprintf(to, sizeof(to), "user%05ld@example.org", i);
		snprintf(mid, sizeof(mid), "d%ld.user%05ld@bench.example.org",
		    i + 1, i);
		snprintf(sub, sizeof(sub), "bench%05ld", i);
		buf_reset(&msg);
		if (mail_build(&m, &msg, err, sizeof(err)) == -1) {
			fprintf(stderr, "send_bench: %s\n", err);
			return 1;
		}
		bytes += (double)msg.len;
		if (store_begin(st, err, sizeof(err)) == -1 ||
		    (d = store_digest_new(st, sub, "2025-02-10", now, &paper,
		    1, err, sizeof(err))) == -1 ||
		    store_outbox_add(st, d, sub, "smtp", to, m.subject,
		    msg.data, msg.len, now, err, sizeof(err)) == -1 ||
		    store_commit(st, err, sizeof(err)) == -1) {
			fprintf(stderr, "send_bench: queue: %s\n", err);
			return 1;
		}
	}
	t_queue = now_mono() - t0;
	buf_release(&text);
	buf_release(&html);
	buf_release(&msg);

	if ((cy = cycle_new(c, st, err, sizeof(err))) == NULL) {
		fprintf(stderr, "send_bench: %s\n", err);
		return 1;
	}
	rss_queued = status_kib("VmRSS");
	reset_hwm();
	c0 = cpu_s();
	t0 = now_mono();
	for (;;) {
		size_t before = stats.sent;

		cycle_deliver(cy, now, &stats);
		calls++;
		store_outbox_counts(st, &pending, &retrying, &dead, &sent);
		if (pending == 0 || stats.sent == before)
			break;
	}
	t_deliver = now_mono() - t0;
	cpu_deliver = cpu_s() - c0;
	hwm_deliver = status_kib("VmHWM");
	rss_end = status_kib("VmRSS");
	printf("mode=paperwatch n=%ld papers=%ld msg_bytes=%.0f queue_s=%.4f queue_per_s=%.0f "
	    "deliver_s=%.4f deliver_cpu_s=%.4f msg_per_s=%.1f sent=%zu retrying=%zu dead=%zu "
	    "pending=%lld calls=%d rss_queued_kib=%ld hwm_deliver_kib=%ld "
	    "rss_end_kib=%ld\n", n, k, bytes / (double)n, t_queue,
	    (double)n / t_queue, t_deliver, cpu_deliver, (double)stats.sent / t_deliver,
	    stats.sent, stats.retrying, stats.dead, pending, calls,
	    rss_queued, hwm_deliver, rss_end);
	cycle_free(cy);
	store_close(st);
	conf_free(c);
	return stats.sent == (size_t)n ? 0 : 1;
}
