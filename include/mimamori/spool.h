/*
 * On-disk spool: a bounded first-in first-out store of text lines in one file, for events a
 * destination could not take (or the output queue could not hold). Lines are appended at the
 * end and read from a remembered offset; once every line has been read the file is emptied. A
 * spool left by an earlier run is read first, so events survive a restart. Lines never contain
 * a newline (EVE lines and syslog messages have none).
 */
#ifndef MIMAMORI_SPOOL_H
#define MIMAMORI_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include "mimamori/error.h"

struct spool;

/* Open (or create) dir/name, holding at most max_bytes. 0, MM_EIO (errno set; EPERM when it is
 * not a plain file of one link belonging to the caller, ELOOP when a symbolic link) or
 * MM_ENOMEM. */
MM_MUST_CHECK int spool_open(struct spool **out, const char *dir, const char *name,
                             uint64_t max_bytes);

/* Close; lines not yet read stay in the file for the next run, those read are removed. */
void spool_close(struct spool *s);

/* Append one line. 0, MM_EFULL (it would exceed max_bytes) or MM_EIO. */
int spool_append(struct spool *s, const char *line, size_t len);

/* The next unread line (valid until the next call): 1, 0 when there is none, or MM_EIO. */
int spool_peek(struct spool *s, const char **line, size_t *len);

/* Mark the peeked line read; the file is emptied when nothing is left. */
void spool_consume(struct spool *s);

/* Bytes not yet read. */
uint64_t spool_pending(const struct spool *s);

#endif
