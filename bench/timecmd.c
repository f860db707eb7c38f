/*
 * timecmd.c: time a whole command over several runs: median wall, user,
 * sys and peak RSS (the C counterpart of ../shared/bench/timecmd.py).
 *
 * Usage: timecmd [-n RUNS] [-w WARMUP] [-s SETUP] [-i IN] [-o OUT] [-e ERR]
 *                [-a CODES] -- COMMAND [ARG ...]
 *
 *   -n RUNS    timed runs (default 5)
 *   -w WARMUP  untimed runs first (default 1)
 *   -s SETUP   a shell command run (/bin/sh -c) before every run, warm-up
 *              included, not timed (reset state, empty a mail dump, ...);
 *              if it fails, timecmd stops with exit status 2
 *   -i IN      the command's stdin (default /dev/null)
 *   -o OUT     its stdout (default /dev/null), -e ERR its stderr (default
 *              /dev/null); truncated before every run, so they hold the
 *              output of the last run
 *   -a CODES   exit statuses that count as success, comma-separated
 *              (default 0)
 *
 * Each run is a fresh child: fork (from this small process, so the peak
 * RSS floor is ~1 MiB rather than a Python interpreter's ~12 MiB: Linux
 * keeps the pre-exec high-water mark in ru_maxrss), exec, wait4.  Wall time
 * is CLOCK_MONOTONIC around fork..wait4; user, sys and peak RSS come from
 * wait4's rusage of that child (what /usr/bin/time -v prints).  For a
 * pipeline, time sh -c '...': the RSS is then the largest of sh and what
 * it waited for.
 *
 * Output: one line of key=value pairs on stdout (seconds, KiB):
 *   runs=5 wall=0.1234 wall_min=... wall_max=... user=... sys=...
 *   rss_kib=MEDIAN rss_max_kib=MAX status=ok|fail exit=LAST
 * and exit status 0, or 1 when a run ended with an unaccepted status (the
 * line then says status=fail and exit=that status; signals as 128+N).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS	1000
#define MAX_CODES	16

static void
usage(void)
{
	fprintf(stderr, "usage: timecmd [-n RUNS] [-w WARMUP] [-s SETUP] "
	    "[-i IN] [-o OUT] [-e ERR] [-a CODES] -- COMMAND [ARG ...]\n");
	exit(64);
}

static long
num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		usage();
	return v;
}

static double
tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	if (n % 2 == 1)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int
redirect(int fd, const char *path, int flags)
{
	int f = open(path, flags, 0644);

	if (f == -1) {
		fprintf(stderr, "timecmd: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (f != fd) {
		if (dup2(f, fd) == -1)
			return -1;
		close(f);
	}
	return 0;
}

/* Run argv once; fills wall, ru; returns the exit code (128+sig), -1. */
static int
run_once(char *const *argv, const char *in, const char *out,
    const char *errf, double *wall, struct rusage *ru)
{
	struct timespec t0, t1;
	int st;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid == -1) {
		fprintf(stderr, "timecmd: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (redirect(0, in, O_RDONLY) == -1 ||
		    redirect(1, out, O_WRONLY | O_CREAT | O_TRUNC) == -1 ||
		    redirect(2, errf, O_WRONLY | O_CREAT | O_TRUNC) == -1)
			_exit(127);
		execvp(argv[0], argv);
		dprintf(2, "timecmd: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &st, 0, ru) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "timecmd: wait4: %s\n",
			    strerror(errno));
			return -1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*wall = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static int
setup(const char *cmd)
{
	int st;
	pid_t pid;

	if (cmd == NULL)
		return 0;
	pid = fork();
	if (pid == -1)
		return -1;
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static double wall[MAX_RUNS], user[MAX_RUNS], sys[MAX_RUNS],
	    rss[MAX_RUNS];
	const char *in = "/dev/null", *out = "/dev/null", *errf = "/dev/null";
	const char *setup_cmd = NULL;
	int codes[MAX_CODES] = { 0 }, n_codes = 1;
	long runs = 5, warm = 1;
	double rss_max = 0, wmin, wmax;
	int ch, last = 0, failed = 0;

	while ((ch = getopt(argc, argv, "+n:w:s:i:o:e:a:")) != -1) {
		switch (ch) {
		case 'n':
			runs = num(optarg, 1, MAX_RUNS);
			break;
		case 'w':
			warm = num(optarg, 0, 100);
			break;
		case 's':
			setup_cmd = optarg;
			break;
		case 'i':
			in = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'e':
			errf = optarg;
			break;
		case 'a': {
			char *s = optarg, *tok, *save = NULL;

			n_codes = 0;
			while ((tok = strtok_r(s, ",", &save)) != NULL &&
			    n_codes < MAX_CODES) {
				codes[n_codes++] = (int)num(tok, 0, 255);
				s = NULL;
			}
			if (n_codes == 0)
				usage();
			break;
		}
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	argv += optind;

	for (long i = -warm; i < runs; i++) {
		struct rusage ru;
		double w;
		int ok = 0;

		if (setup(setup_cmd) == -1) {
			fprintf(stderr, "timecmd: setup failed: %s\n",
			    setup_cmd);
			return 2;
		}
		memset(&ru, 0, sizeof(ru));
		if ((last = run_once(argv, in, out, errf, &w, &ru)) == -1)
			return 2;
		for (int c = 0; c < n_codes; c++)
			ok |= last == codes[c];
		if (!ok) {
			failed = 1;
			break;
		}
		if (i < 0)
			continue;
		wall[i] = w;
		user[i] = tv_s(&ru.ru_utime);
		sys[i] = tv_s(&ru.ru_stime);
		rss[i] = (double)ru.ru_maxrss;
		if (rss[i] > rss_max)
			rss_max = rss[i];
	}
	if (failed) {
		printf("runs=0 status=fail exit=%d\n", last);
		return 1;
	}
	wmin = wmax = wall[0];
	for (long i = 1; i < runs; i++) {
		if (wall[i] < wmin)
			wmin = wall[i];
		if (wall[i] > wmax)
			wmax = wall[i];
	}
	printf("runs=%ld wall=%.4f wall_min=%.4f wall_max=%.4f user=%.4f "
	    "sys=%.4f rss_kib=%.0f rss_max_kib=%.0f status=ok exit=%d\n",
	    runs, median(wall, (int)runs), wmin, wmax, median(user, (int)runs),
	    median(sys, (int)runs), median(rss, (int)runs), rss_max, last);
	return 0;
}
