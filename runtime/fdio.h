/* fdio.h: writing a whole buffer to a file descriptor, across short writes and signals.
 * For the few places that talk to descriptors directly (the REPL's history file, the
 * terminal prompt); stdio and libcurl do their own. No reading, no buffering. */
#ifndef DT_FDIO_H
#define DT_FDIO_H

#include <stddef.h>

/* Writes all len bytes, retrying after EINTR and short writes. Returns 0, or -1 with errno
 * set by the failing write. */
int dt_write_all(int fd, const void *data, size_t len);

#endif
