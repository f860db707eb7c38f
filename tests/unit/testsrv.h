/*
 * testsrv.h: start and stop the Python test servers of tests/servers/
 * (smtpd.py, webhookd.py) from C tests: port 0 + portfile, fork/exec
 * /usr/bin/python3, wait until the port is known, SIGTERM in teardown.
 * Header-only (static inline) for test_smtp.c and test_webhook.c.
 */
#ifndef PW_TESTS_UNIT_TESTSRV_H
#define PW_TESTS_UNIT_TESTSRV_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TESTSRV_PYTHON	"/usr/bin/python3"

struct testsrv {
	pid_t	 pid;
	int	 port;
	char	 out[PATH_MAX];		/* where the server writes records */
	char	 log[PATH_MAX];		/* its stdout and stderr */
};

/*
 * Pids of servers still running: a failed assertion leaves a test early
 * (its struct testsrv is gone with its stack), so the group teardown
 * stops what the test could not (testsrv_stop_all).
 */
static pid_t testsrv_live[32];

static inline void
testsrv_track(pid_t pid, bool on)
{
	for (size_t i = 0; i < sizeof(testsrv_live) / sizeof(*testsrv_live);
	    i++) {
		if (on && testsrv_live[i] == 0) {
			testsrv_live[i] = pid;
			return;
		}
		if (!on && testsrv_live[i] == pid)
			testsrv_live[i] = 0;
	}
}

/* tests/servers/, found from FIXTURES (tests/fixtures) or the cwd. */
static inline const char *
testsrv_dir(void)
{
	static char dir[PATH_MAX];
	const char *fx = getenv("FIXTURES");

	if (fx != NULL && *fx != '\0')
		snprintf(dir, sizeof(dir), "%s/../servers", fx);
	else
		snprintf(dir, sizeof(dir), "tests/servers");
	return dir;
}

/* true if /usr/bin/python3 exists and can import module (or "" only). */
static inline bool
testsrv_python_has(const char *module)
{
	char cmd[256];

	if (access(TESTSRV_PYTHON, X_OK) != 0)
		return false;
	snprintf(cmd, sizeof(cmd), TESTSRV_PYTHON " -c 'import %s' "
	    ">/dev/null 2>&1", module);
	return system(cmd) == 0;
}

static inline void
testsrv_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Read a port from path; 0 if not (yet) there. */
static inline int
testsrv_read_port(const char *path)
{
	FILE *f = fopen(path, "r");
	long port = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld", &port) != 1)
		port = 0;
	fclose(f);
	return port > 0 && port < 65536 ? (int)port : 0;
}

/*
 * Start tests/servers/<script> --port 0 --outdir <base>/<name>
 * --portfile ... plus args (NULL-terminated); 0 when it listens, -1 if
 * it died or did not answer within 15 s (see sv->log).
 */
static inline int
testsrv_start(struct testsrv *sv, const char *base, const char *name,
    const char *script, const char *const *args)
{
	char portfile[PATH_MAX], path[PATH_MAX];
	const char *argv[64];
	size_t n = 0;

	memset(sv, 0, sizeof(*sv));
	if ((size_t)snprintf(sv->out, sizeof(sv->out), "%s/%s", base,
	    name) >= sizeof(sv->out) ||
	    (size_t)snprintf(sv->log, sizeof(sv->log), "%s/%s.log", base,
	    name) >= sizeof(sv->log) ||
	    (size_t)snprintf(portfile, sizeof(portfile), "%s/%s.port", base,
	    name) >= sizeof(portfile) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", testsrv_dir(),
	    script) >= sizeof(path))
		return -1;
	unlink(portfile);
	argv[n++] = TESTSRV_PYTHON;
	argv[n++] = path;
	argv[n++] = "--port";
	argv[n++] = "0";
	argv[n++] = "--outdir";
	argv[n++] = sv->out;
	argv[n++] = "--portfile";
	argv[n++] = portfile;
	for (; args != NULL && *args != NULL && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	sv->pid = fork();
	if (sv->pid < 0)
		return -1;
	if (sv->pid == 0) {
		int fd = open(sv->log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		prctl(PR_SET_PDEATHSIG, SIGTERM);	/* the test died */
		execv(TESTSRV_PYTHON, (char *const *)argv);
		_exit(127);
	}
	testsrv_track(sv->pid, true);
	for (int i = 0; i < 1500; i++) {
		int st;

		if ((sv->port = testsrv_read_port(portfile)) > 0)
			return 0;
		if (waitpid(sv->pid, &st, WNOHANG) == sv->pid) {
			testsrv_track(sv->pid, false);
			sv->pid = 0;
			return -1;
		}
		testsrv_sleep_ms(10);
	}
	return -1;
}

/* SIGTERM, then SIGKILL after 5 s. */
static inline void
testsrv_kill(pid_t pid)
{
	int st;

	testsrv_track(pid, false);
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		testsrv_sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/* Stop sv; accepts a server that never started or is stopped. */
static inline void
testsrv_stop(struct testsrv *sv)
{
	testsrv_kill(sv->pid);
	sv->pid = 0;
}

/* Stop every server a failed test left running (group teardown). */
static inline void
testsrv_stop_all(void)
{
	for (size_t i = 0; i < sizeof(testsrv_live) / sizeof(*testsrv_live);
	    i++)
		if (testsrv_live[i] != 0)
			testsrv_kill(testsrv_live[i]);
}

/* Files in dir whose names end in suffix (records of a server). */
static inline int
testsrv_count(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t k = strlen(suffix);
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] != '.' && len > k &&
		    strcmp(e->d_name + len - k, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* A port nothing listens on (bound, then closed). */
static inline int
testsrv_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* mkdtemp under TMPDIR; the caller removes it with testsrv_rmrf. */
static inline char *
testsrv_tmpdir(const char *tag)
{
	char tmpl[PATH_MAX];
	const char *t = getenv("TMPDIR");

	snprintf(tmpl, sizeof(tmpl), "%s/pw-%s-XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp", tag);
	if (mkdtemp(tmpl) == NULL)
		return NULL;
	return strdup(tmpl);
}

static inline void
testsrv_rmrf(const char *dir)
{
	char cmd[PATH_MAX + 16];

	if (dir == NULL || strncmp(dir, "/", 1) != 0 ||
	    strstr(dir, "/pw-") == NULL)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

#endif
