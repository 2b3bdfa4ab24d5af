/* atomic_file.c: crash-safe file replacement (see atomic_file.h).
 *
 * The POSIX recipe: write a temporary file in the same directory (rename is only atomic
 * within one file system), fsync it so its data is on disk before the name points at it,
 * rename, then fsync the directory so the rename itself survives a power cut. It does not
 * keep backups or lock against other writers. */
#include "atomic_file.h"
#include "fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int s_fail(char *err, size_t err_len, const char *what, const char *path, int e) {
    snprintf(err, err_len, "%s %s: %s", what, path, strerror(e));
    return -1;
}

int dt_write_file_atomic(const char *path, const char *data, size_t len, char *err,
                         size_t err_len) {
    size_t plen = strlen(path);
    if (plen == 0) {
        snprintf(err, err_len, "empty path");
        return -1;
    }
    char *tmp = malloc(plen + 16);
    char *dir = malloc(plen + 2);
    if (!tmp || !dir) {
        free(tmp);
        free(dir);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", 12);
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }

    int rc = -1;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        s_fail(err, err_len, "cannot create a temporary file next to", path, errno);
        goto out;
    }
    if (dt_write_all(fd, data, len) != 0) {
        s_fail(err, err_len, "cannot write", tmp, errno);
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (fsync(fd) != 0) {
        s_fail(err, err_len, "cannot fsync", tmp, errno);
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) != 0) {
        s_fail(err, err_len, "cannot close", tmp, errno);
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        s_fail(err, err_len, "cannot rename the temporary file to", path, errno);
        unlink(tmp);
        goto out;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        /* Some file systems refuse fsync on directories (EINVAL); the data is written. */
        if (fsync(dfd) != 0 && errno != EINVAL) {
            s_fail(err, err_len, "cannot fsync directory", dir, errno);
            close(dfd);
            goto out;
        }
        close(dfd);
    }
    rc = 0;
out:
    free(tmp);
    free(dir);
    return rc;
}
