/* Helpers shared by the libeid command-line tools. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <eid/eid.h>

#include "cli.h"

const char *cli_prog = "eid";

void cli_set_prog(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	cli_prog = slash ? slash + 1 : argv0;
	/* libtool wrappers run the binary as lt-NAME */
	if (strncmp(cli_prog, "lt-", 3) == 0)
		cli_prog += 3;
}

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_print_version(void)
{
	printf("%s (libeid) %s\n", cli_prog, eid_version());
}

/* Read up to the first newline from fd. */
static int read_line_fd(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n + 1 >= size) { /* one byte more than fits: too long */
			eid_memzero(buf, size);
			c = 0;
			return -2;
		}
		buf[n++] = c;
	}
	c = 0;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (int)n;
}

static int prompt_tty(const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC), n;

	if (fd < 0) {
		cli_err("no PIN source was given and there is no terminal to ask on (use --pin SRC)");
		return -1;
	}
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		cli_err("cannot turn off echo on the terminal");
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		close(fd);
		cli_err("cannot turn off echo on the terminal");
		return -1;
	}
	n = read_line_fd(fd, buf, size);
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* nothing to do */
	}
	close(fd);
	if (n == -2) {
		cli_err("the secret is too long");
		return -1;
	}
	return n;
}

int cli_read_secret(const char *src, const char *prompt, char *buf, size_t size)
{
	int n, fd;
	size_t len;

	if (src == NULL)
		return prompt_tty(prompt, buf, size);
	if (strncmp(src, "pass:", 5) == 0) {
		len = strlen(src + 5);
		if (len + 1 > size) {
			cli_err("the secret is too long");
			return -1;
		}
		memcpy(buf, src + 5, len + 1);
		return (int)len;
	}
	if (strncmp(src, "env:", 4) == 0) {
		const char *v = getenv(src + 4);

		if (v == NULL) {
			cli_err("environment variable '%s' is not set", src + 4);
			return -1;
		}
		len = strlen(v);
		if (len + 1 > size) {
			cli_err("the secret is too long");
			return -1;
		}
		memcpy(buf, v, len + 1);
		return (int)len;
	}
	if (strncmp(src, "file:", 5) == 0) {
		fd = open(src + 5, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cli_err("cannot read the secret from '%s': %s", src + 5, strerror(errno));
			return -1;
		}
		n = read_line_fd(fd, buf, size);
		close(fd);
	} else if (strncmp(src, "fd:", 3) == 0) {
		char *end;
		long v = strtol(src + 3, &end, 10);

		if (*end != '\0' || v < 0 || v > 65535) {
			cli_err("bad descriptor in '%s'", src);
			return -1;
		}
		n = read_line_fd((int)v, buf, size);
	} else if (strcmp(src, "stdin") == 0) {
		n = read_line_fd(STDIN_FILENO, buf, size);
	} else {
		cli_err("unknown secret source: use pass:TEXT, env:VAR, file:PATH, fd:N or stdin");
		return -1;
	}
	if (n == -2) {
		cli_err("the secret is too long");
		return -1;
	}
	return n;
}
