/* Helpers shared by the libeid command-line tools. */
#ifndef EID_TOOLS_CLI_H
#define EID_TOOLS_CLI_H

#include <stddef.h>

/* Exit statuses shared by the tools. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_ERROR 3

extern const char *cli_prog;

void cli_set_prog(const char *argv0);
/* "prog: message" on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_print_version(void);

/*
 * Read a secret from SRC (pass:TEXT, env:VAR, file:PATH, fd:N, stdin), or
 * when SRC is NULL prompt on the terminal without echo.  Writes at most
 * size-1 bytes and a NUL into buf; returns the length, or -1 after printing
 * why.  Only the first line is taken from files, descriptors and stdin.
 */
int cli_read_secret(const char *src, const char *prompt, char *buf, size_t size);

#endif
