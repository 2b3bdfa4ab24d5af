/* atomic_file.h: replace a file's contents so that a crash at any moment leaves either
 * the old or the new contents, never a mix (the emulator's --state file, the SSO token
 * cache). It does not lock: the last writer wins. */
#ifndef DT_ATOMIC_FILE_H
#define DT_ATOMIC_FILE_H

#include <stddef.h>

/* Writes data to a temporary file in path's directory, fsyncs it, renames it over path
 * and fsyncs the directory. Returns 0, or -1 with a message in err. The file is created
 * with mode 0600 (it may hold credentials or tokens), whatever mode the old one had. */
int dt_write_file_atomic(const char *path, const char *data, size_t len, char *err, size_t err_len);

#endif
