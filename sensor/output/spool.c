/*
 * The spool file: appends with write(2) on an O_APPEND descriptor, reads with pread(2) from a
 * remembered offset through a buffer that grows to the longest line (capped; a longer line, or
 * a torn last line after a crash, is skipped and counted as unreadable by the caller seeing it
 * vanish). When the read offset reaches the end the file is truncated; at close, unread lines
 * are moved to the front so the next run starts with exactly them. Only a plain file of one
 * link that belongs to the process is opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mimamori/error.h"
#include "mimamori/privs.h"
#include "mimamori/spool.h"

#define SPOOL_MAX_LINE (4u << 20) /* longest line read back */

struct spool {
    int fd;
    char *path;
    uint64_t size, rd, max; /* file size, read offset, limit */
    char *buf;              /* the peeked line */
    size_t cap, len;
    int peeked;
};

int spool_open(struct spool **out, const char *dir, const char *name, uint64_t max_bytes)
{
    struct spool *s = calloc(1, sizeof(*s));
    struct stat st;
    size_t n;

    *out = NULL;
    if (s == NULL)
        return MM_ENOMEM;
    n = strlen(dir) + strlen(name) + 2;
    if ((s->path = malloc(n)) == NULL) {
        free(s);
        return MM_ENOMEM;
    }
    snprintf(s->path, n, "%s/%s", dir, name);
    /* A spool is its writer's own plain file: not a link to another, nor another's file. */
    s->fd = open(s->path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (s->fd >= 0 && !privs_own_file(s->fd)) {
        close(s->fd);
        s->fd = -1;
        errno = EPERM;
    }
    if (s->fd < 0 || fstat(s->fd, &st) != 0) {
        int e = errno;
        if (s->fd >= 0)
            close(s->fd);
        free(s->path);
        free(s);
        errno = e;
        return MM_EIO;
    }
    s->size = (uint64_t)st.st_size;
    s->max = max_bytes;
    *out = s;
    return 0;
}

int spool_append(struct spool *s, const char *line, size_t len)
{
    char nl = '\n';

    if (s->size + len + 1 > s->max)
        return MM_EFULL;
    if (write(s->fd, line, len) != (ssize_t)len || write(s->fd, &nl, 1) != 1) {
        /* A torn line is cut back off, so the file stays a sequence of whole lines. */
        (void)!ftruncate(s->fd, (off_t)s->size);
        return MM_EIO;
    }
    s->size += len + 1;
    return 0;
}

int spool_peek(struct spool *s, const char **line, size_t *len)
{
    size_t have = 0;

    if (s->peeked) {
        *line = s->buf;
        *len = s->len;
        return 1;
    }
    while (s->rd < s->size) {
        char *nl;
        ssize_t r;
        if (have == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 65536;
            char *b;
            if (cap > SPOOL_MAX_LINE) { /* not a line we wrote: skip what we have */
                s->rd += have;
                have = 0;
                continue;
            }
            if ((b = realloc(s->buf, cap)) == NULL)
                return MM_ENOMEM;
            s->buf = b;
            s->cap = cap;
        }
        r = pread(s->fd, s->buf + have, s->cap - have, (off_t)(s->rd + have));
        if (r < 0)
            return MM_EIO;
        if (r == 0) { /* shorter than we thought: a torn tail */
            s->size = s->rd;
            break;
        }
        if ((nl = memchr(s->buf + have, '\n', (size_t)r)) != NULL) {
            s->len = (size_t)(nl - s->buf);
            s->peeked = 1;
            *line = s->buf;
            *len = s->len;
            return 1;
        }
        have += (size_t)r;
        if (s->rd + have >= s->size) { /* a last line without its newline: drop it */
            s->rd = s->size;
            break;
        }
    }
    if (s->rd >= s->size && s->size > 0 && ftruncate(s->fd, 0) == 0)
        s->rd = s->size = 0;
    return 0;
}

void spool_consume(struct spool *s)
{
    if (!s->peeked)
        return;
    s->rd += s->len + 1;
    s->peeked = 0;
    if (s->rd >= s->size && ftruncate(s->fd, 0) == 0)
        s->rd = s->size = 0;
}

uint64_t spool_pending(const struct spool *s)
{
    return s->size - s->rd;
}

/* Move the unread part to the front of the file. */
static void compact(struct spool *s)
{
    char *tmp;
    size_t n = strlen(s->path) + 5;
    int fd;
    uint64_t off = s->rd;
    char b[65536];

    if (s->rd == 0 || s->rd >= s->size || (tmp = malloc(n)) == NULL)
        return;
    snprintf(tmp, n, "%s.new", s->path);
    unlink(tmp);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0) {
        ssize_t r;
        while ((r = pread(s->fd, b, sizeof(b), (off_t)off)) > 0) {
            if (write(fd, b, (size_t)r) != r)
                break;
            off += (uint64_t)r;
        }
        if (close(fd) == 0 && off >= s->size)
            rename(tmp, s->path);
        else
            unlink(tmp);
    }
    free(tmp);
}

void spool_close(struct spool *s)
{
    if (s == NULL)
        return;
    compact(s);
    close(s->fd);
    free(s->buf);
    free(s->path);
    free(s);
}
