/*
 * paperwatch-supervise: the idle half of `paperwatch run`.
 *
 * `paperwatch run` validates the config, checks the state database, and
 * then exec()s this program with the validated config text in a memfd.
 * This process keeps the PID that systemd watches, and between cycles it
 * is the only paperwatch process: it links only libc, so it idles at
 * about 1 MiB resident instead of the 15 MiB that the mapped pages of
 * libcurl, OpenSSL, libxml2, SQLite and libESMTP cost a process that
 * merely has them loaded.  When work is due it forks a worker
 * (`paperwatch _worker`), which polls, matches, renders and delivers
 * what is due, writes what it did on a pipe and exits.  A worker that
 * crashes is logged and retried with backoff; the daemon goes on.
 *
 * What the supervisor owns:
 * - the config snapshot: the text `run` validated, or the one the last
 *   valid SIGHUP brought.  Workers parse the snapshot, not the file, so
 *   an edit without SIGHUP changes nothing, as in any daemon.
 * - signals: SIGTERM/SIGINT are passed on to a running worker, which
 *   finishes the message in flight; SIGHUP makes the next worker try the
 *   file's current text and say whether it took it.
 * - sd_notify (READY, RELOADING, STOPPING, STATUS, WATCHDOG), written
 *   here by hand (the protocol of sd_notify(3): one datagram to
 *   $NOTIFY_SOCKET) because libsystemd would bring back the mapped pages
 *   this process exists to avoid.  The watchdog is pinged while idle and,
 *   while a worker runs, only when the worker reported progress since
 *   the last ping: a hung worker lets the watchdog fire.
 *
 * Worker protocol (one line each on the status pipe, all optional):
 *   reload ok | reload refused   the SIGHUP text was taken / refused
 *   tick                         progress (at most about once a second)
 *   polled EPOCH                 sources were polled at EPOCH
 *   status PENDING DEAD          outbox counts after the round
 *   next EPOCH                   when work is due again (last line)
 *
 * Usage (by `paperwatch run` only):
 *   paperwatch-supervise EXE CONF_PATH CONF_FD [FLAG...]
 * FLAGs (-v, -q) are passed on to each worker.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MIN	10		/* seconds after a failed worker */
#define BACKOFF_MAX	600
#define CONF_MAX	(16 * 1024 * 1024)	/* as libconfig would read */
#define MAX_FLAGS	8

static volatile sig_atomic_t got_term, got_hup;

static const char *exe, *conf_path;
static char *flags[MAX_FLAGS];
static int nflags;
static unsigned long long watchdog_usec;

/* logging, in the format of daemon/log.c */

static void log_msg(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
log_msg(int prio, const char *fmt, ...)
{
	static int prefix = -1;
	char line[1024];
	size_t n = 0;
	va_list ap;
	int r;

	if (prefix == -1)
		prefix = getenv("JOURNAL_STREAM") != NULL || !isatty(2);
	if (prefix)
		n = (size_t)snprintf(line, sizeof(line), "<%d>", prio);
	else if (prio <= 3)
		n = (size_t)snprintf(line, sizeof(line), "error: ");
	else if (prio == 4)
		n = (size_t)snprintf(line, sizeof(line), "warning: ");
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (r < 0)
		r = 0;
	n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r :
	    sizeof(line) - n - 2;
	line[n++] = '\n';
	(void)!write(2, line, n);
}

/* sd_notify(3), by hand: one datagram to $NOTIFY_SOCKET. */
static void notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
notify(const char *fmt, ...)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen;
	char msg[512];
	size_t plen;
	va_list ap;
	int fd, n;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (plen = strlen(path)) >= sizeof(sa.sun_path))
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';		/* abstract namespace */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
	    (path[0] == '/'));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(fd, msg, (size_t)n, MSG_NOSIGNAL,
	    (struct sockaddr *)&sa, salen);
	close(fd);
}

static void
watchdog_init(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid =
	    getenv("WATCHDOG_PID");
	char *end;

	if (usec == NULL)
		return;
	if (pid != NULL && strtol(pid, NULL, 10) != (long)getpid())
		return;
	errno = 0;
	watchdog_usec = strtoull(usec, &end, 10);
	if (errno != 0 || *end != '\0')
		watchdog_usec = 0;
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	/* SIGCHLD: only wakes ppoll */
}

/* The file's current text in a new memfd, or -1 (logged). */
static int
snapshot(const char *path)
{
	char buf[65536];
	size_t total = 0;
	ssize_t n;
	int in, fd;

	if ((in = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_msg(3, "run: reload: cannot read '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if ((fd = memfd_create("paperwatch.conf", MFD_CLOEXEC)) == -1) {
		log_msg(3, "run: reload: memfd_create: %s", strerror(errno));
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || (total += (size_t)n) > CONF_MAX ||
		    write(fd, buf, (size_t)n) != n) {
			log_msg(3, "run: reload: cannot read '%s': %s", path,
			    n == -1 ? strerror(errno) : "too large");
			close(in);
			close(fd);
			return -1;
		}
	}
	close(in);
	return fd;
}

struct report {
	bool		has_next;
	long long	next;
	int		reload;		/* -1 no answer, 0 refused, 1 taken */
	long long	polled;
	bool		has_status;
	long long	pending, dead;
	bool		progress;	/* since the last watchdog ping */
};

static void
parse_line(struct report *r, const char *l)
{
	long long a, b;

	if (strcmp(l, "tick") == 0)
		r->progress = true;
	else if (strcmp(l, "reload ok") == 0)
		r->reload = 1;
	else if (strcmp(l, "reload refused") == 0)
		r->reload = 0;
	else if (sscanf(l, "polled %lld", &a) == 1)
		r->polled = a;
	else if (sscanf(l, "status %lld %lld", &a, &b) == 2) {
		r->has_status = true;
		r->pending = a;
		r->dead = b;
	} else if (sscanf(l, "next %lld", &a) == 1) {
		r->has_next = true;
		r->next = a;
	}
	r->progress = true;
}

static void
fdarg(char *out, size_t outlen, int fd)
{
	snprintf(out, outlen, "%d", fd);
}

/*
 * Run one worker to its end; fills r.  Returns the wait status, or -1 if
 * it could not be started.
 */
static int
run_worker(int conf_fd, int new_fd, double spacing_from,
    const sigset_t *waitmask, struct report *r)
{
	char a_conf[16], a_status[16], a_new[16], a_spacing[32];
	char *argv[MAX_FLAGS + 10];
	char line[256];
	size_t llen = 0;
	int p[2], status = 0, argc = 0;
	bool eof = false, termed = false;
	double last_ping = mono();
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_msg(3, "run: pipe: %s", strerror(errno));
		return -1;
	}
	fdarg(a_conf, sizeof(a_conf), conf_fd);
	fdarg(a_status, sizeof(a_status), p[1]);
	fdarg(a_new, sizeof(a_new), new_fd);
	snprintf(a_spacing, sizeof(a_spacing), "%.3f", spacing_from);
	argv[argc++] = (char *)exe;
	for (int i = 0; i < nflags; i++)
		argv[argc++] = flags[i];
	argv[argc++] = (char *)"-c";
	argv[argc++] = (char *)conf_path;
	argv[argc++] = (char *)"_worker";
	argv[argc++] = a_conf;
	argv[argc++] = a_status;
	argv[argc++] = a_new;
	argv[argc++] = a_spacing;
	argv[argc] = NULL;

	if ((pid = fork()) == -1) {
		log_msg(3, "run: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		/* the fds the worker reads survive the exec */
		(void)fcntl(conf_fd, F_SETFD, 0);
		(void)fcntl(p[1], F_SETFD, 0);
		if (new_fd >= 0)
			(void)fcntl(new_fd, F_SETFD, 0);
		signal(SIGHUP, SIG_IGN);	/* the supervisor's business */
		/* only the main PID may notify systemd; workers report here */
		unsetenv("NOTIFY_SOCKET");
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(exe, argv);
		log_msg(3, "run: cannot start the worker '%s': %s", exe,
		    strerror(errno));
		_exit(127);
	}
	close(p[1]);

	while (!eof) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		struct timespec ts, *tsp = NULL;
		ssize_t n;

		if (got_term && !termed) {
			kill(pid, SIGTERM);	/* finish the message in flight */
			termed = true;
		}
		if (watchdog_usec > 0) {
			double half = (double)watchdog_usec / 2e6;
			double left = last_ping + half - mono();

			if (left <= 0) {
				if (r->progress) {
					notify("WATCHDOG=1");
					r->progress = false;
				}
				last_ping = mono();
				left = half;
			}
			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
			tsp = &ts;
		}
		if (ppoll(&pfd, 1, tsp, waitmask) == -1) {
			if (errno == EINTR)
				continue;
			log_msg(3, "run: ppoll: %s", strerror(errno));
			break;
		}
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(p[0], line + llen, sizeof(line) - 1 - llen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			eof = true;
			break;
		}
		llen += (size_t)n;
		for (;;) {
			char *nl = memchr(line, '\n', llen);
			size_t used;

			if (nl == NULL) {
				if (llen == sizeof(line) - 1)
					llen = 0;	/* an overlong line */
				break;
			}
			*nl = '\0';
			parse_line(r, line);
			used = (size_t)(nl - line) + 1;
			memmove(line, nl + 1, llen - used);
			llen -= used;
		}
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			log_msg(3, "run: waitpid: %s", strerror(errno));
			return -1;
		}
		if (got_term && !termed) {
			kill(pid, SIGTERM);
			termed = true;
		}
	}
	return status;
}

static void
notify_status(long long polled, const struct report *r)
{
	char when[32] = "never";
	struct tm tm;
	time_t t = (time_t)polled;

	if (polled >= 0 && gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	notify("STATUS=last poll %s; %lld messages pending, %lld dead", when,
	    r->pending, r->dead);
}

/* Sleep until the wall clock reaches due, or a signal; pings the watchdog. */
static void
sleep_until(long long due, const sigset_t *waitmask)
{
	while (!got_term && !got_hup) {
		long long now = (long long)time(NULL), ms;
		struct timespec ts;

		if (now >= due)
			return;
		ms = (due - now) * 1000;
		if (watchdog_usec > 0 &&
		    ms > (long long)(watchdog_usec / 2000))
			ms = (long long)(watchdog_usec / 2000);
		if (ms > 60000)
			ms = 60000;	/* re-read the clock: suspend, jumps */
		ts.tv_sec = (time_t)(ms / 1000);
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		(void)ppoll(NULL, 0, &ts, waitmask);
		if (watchdog_usec > 0)
			notify("WATCHDOG=1");
	}
}

static void
describe_failure(int status, char *out, size_t outlen)
{
	if (status == -1)
		snprintf(out, outlen, "could not be started");
	else if (WIFSIGNALED(status))
		snprintf(out, outlen, "was killed by signal %d",
		    WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		snprintf(out, outlen, "exited with status %d",
		    WEXITSTATUS(status));
	else
		snprintf(out, outlen, "ended without saying when to wake");
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t block, waitmask;
	long long polled = -1, backoff = 0;
	double spacing_from = -1;
	int conf_fd;
	char *end;

	if (argc < 4 || argc - 4 > MAX_FLAGS) {
		fprintf(stderr, "usage: paperwatch-supervise EXE CONF_PATH "
		    "CONF_FD [FLAG...]\n(started by `paperwatch run`)\n");
		return 64;
	}
	exe = argv[1];
	conf_path = argv[2];
	errno = 0;
	conf_fd = (int)strtol(argv[3], &end, 10);
	if (errno != 0 || *end != '\0' || conf_fd < 0 ||
	    fcntl(conf_fd, F_GETFD) == -1) {
		fprintf(stderr, "paperwatch-supervise: bad CONF_FD '%s'\n",
		    argv[3]);
		return 64;
	}
	(void)fcntl(conf_fd, F_SETFD, FD_CLOEXEC);
	for (int i = 4; i < argc; i++)
		flags[nflags++] = argv[i];
	watchdog_init();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* signals arrive only inside ppoll: no race with the flag checks */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGHUP);
	sigdelset(&waitmask, SIGCHLD);

	notify("READY=1\nSTATUS=starting");
	while (!got_term) {
		struct report r = { .reload = -1, .polled = -1 };
		long long next, now;
		int new_fd = -1, status;
		char why[64];

		if (got_hup) {
			got_hup = 0;
			notify("RELOADING=1");
			log_msg(5, "run: reloading '%s'", conf_path);
			if ((new_fd = snapshot(conf_path)) == -1) {
				log_msg(3, "run: the new config is invalid: "
				    "keeping the old one");
				notify("READY=1");
			}
		}
		status = run_worker(conf_fd, new_fd, spacing_from, &waitmask,
		    &r);
		spacing_from = mono();
		if (new_fd >= 0) {
			if (r.reload == 1) {
				close(conf_fd);
				conf_fd = new_fd;
			} else {
				close(new_fd);
				if (r.reload == -1)
					log_msg(3, "run: the reload was not "
					    "checked: keeping the old config");
			}
			notify("READY=1");
		}
		if (r.polled >= 0)
			polled = r.polled;
		if (r.has_status)
			notify_status(polled, &r);
		now = (long long)time(NULL);
		if (r.has_next && status != -1 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0) {
			backoff = 0;
			next = r.next;
		} else {
			if (got_term)
				break;
			backoff = backoff == 0 ? BACKOFF_MIN :
			    backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
			    backoff * 2;
			describe_failure(status, why, sizeof(why));
			log_msg(3, "run: the worker %s; trying again in %lld s",
			    why, backoff);
			next = now + backoff;
		}
		if (got_term)
			break;
		sleep_until(next, &waitmask);
	}
	notify("STOPPING=1");
	log_msg(5, "run: stopping");
	close(conf_fd);
	return 0;
}
