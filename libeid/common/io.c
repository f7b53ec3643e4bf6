/* File input and atomic file output. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

int eid_io__read_file(const char *path, size_t max, eid_buf *out)
{
	struct stat st;
	int fd, rc;
	ssize_t n;

	if (path == NULL || out == NULL)
		return eid_error__set(EID_EINVAL, "read_file: NULL argument");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return eid_error__set(EID_EIO, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return eid_error__set(EID_EIO, "'%s' is not a regular file", path);
	}
	if ((unsigned long long)st.st_size > max) {
		close(fd);
		return eid_error__set(EID_ETOOBIG, "'%s' is larger than %zu bytes", path, max);
	}
	out->len = 0;
	rc = eid_buf__reserve(out, (size_t)st.st_size);
	while (rc == EID_OK) {
		if (out->cap - out->len <= 1 && (rc = eid_buf__reserve(out, EID_IO_CHUNK)) < 0)
			break;
		n = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = eid_error__set(EID_EIO, "cannot read '%s': %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		if (out->len > max)
			rc = eid_error__set(EID_ETOOBIG, "'%s' is larger than %zu bytes", path, max);
	}
	close(fd);
	if (rc < 0)
		eid_buf_clear(out);
	else
		out->data[out->len] = 0;
	return rc;
}

/*
 * The process umask, read without changing it (umask(2) would race with other
 * threads creating files).  Linux reports it in /proc/self/status.
 */
static mode_t current_umask(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	unsigned int mask = 022;

	if (f == NULL)
		return 022;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Umask: %o", &mask) == 1)
			break;
	fclose(f);
	return (mode_t)(mask & 0777);
}

int eid_io__out_open(eid_outfile *of, const char *path)
{
	char *copy, *dir;
	size_t n;

	memset(of, 0, sizeof(*of));
	of->fd = -1;
	if (path == NULL || path[0] == '\0')
		return eid_error__set(EID_EINVAL, "no output path");
	n = strlen(path);
	if (path[n - 1] == '/')
		return eid_error__set(EID_EINVAL, "output path '%s' names a folder", path);
	copy = strdup(path);
	if (copy == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	dir = dirname(copy);
	of->tmp = malloc(strlen(dir) + 32);
	of->path = strdup(path);
	if (of->tmp == NULL || of->path == NULL) {
		free(copy);
		eid_io__out_abort(of);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	sprintf(of->tmp, "%s/.eid-out-XXXXXX", dir);
	free(copy);
	of->fd = mkostemp(of->tmp, O_CLOEXEC);
	if (of->fd < 0) {
		int e = errno;

		free(of->tmp);
		of->tmp = NULL;
		eid_io__out_abort(of);
		return eid_error__set(EID_EIO, "cannot create a file beside '%s': %s", path, strerror(e));
	}
	/* mkostemp makes 0600; give the usual permissions of a new file. */
	(void)fchmod(of->fd, 0666 & ~current_umask());
	return EID_OK;
}

int eid_io__out_write(eid_outfile *of, const void *data, size_t len)
{
	const unsigned char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(of->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return eid_error__set(EID_EIO, "cannot write '%s': %s", of->path, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return EID_OK;
}

int eid_io__out_commit(eid_outfile *of)
{
	int rc = EID_OK;

	if (fsync(of->fd) != 0)
		rc = eid_error__set(EID_EIO, "cannot flush '%s': %s", of->path, strerror(errno));
	if (close(of->fd) != 0 && rc == EID_OK)
		rc = eid_error__set(EID_EIO, "cannot close '%s': %s", of->path, strerror(errno));
	of->fd = -1;
	if (rc == EID_OK && rename(of->tmp, of->path) != 0)
		rc = eid_error__set(EID_EIO, "cannot rename into '%s': %s", of->path, strerror(errno));
	if (rc < 0) {
		eid_io__out_abort(of);
		return rc;
	}
	free(of->tmp);
	free(of->path);
	of->tmp = of->path = NULL;
	return EID_OK;
}

void eid_io__out_abort(eid_outfile *of)
{
	if (of->fd >= 0)
		close(of->fd);
	of->fd = -1;
	if (of->tmp != NULL)
		unlink(of->tmp);
	free(of->tmp);
	free(of->path);
	of->tmp = of->path = NULL;
}

EID_EXTERN int eid_file_write_atomic(const char *path, const void *data, size_t len)
{
	eid_outfile of;
	int rc;

	if (data == NULL && len > 0)
		return eid_error__set(EID_EINVAL, "eid_file_write_atomic: NULL data");
	rc = eid_io__out_open(&of, path);
	if (rc < 0)
		return rc;
	rc = eid_io__out_write(&of, data, len);
	if (rc < 0) {
		eid_io__out_abort(&of);
		return rc;
	}
	return eid_io__out_commit(&of);
}
