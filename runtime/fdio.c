/* fdio.c: see fdio.h. A write interrupted by a signal before it wrote anything is retried
 * (the handlers of this program only set flags); any other error ends the write. */
#include "fdio.h"

#include <errno.h>
#include <unistd.h>

int dt_write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += k;
        len -= (size_t)k;
    }
    return 0;
}
