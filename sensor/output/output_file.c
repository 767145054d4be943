/*
 * The file sink: EVE lines gathered in the sink's own buffer and written a batch at a time with
 * one write(). When a write fails (a full disk), a plain file is cut back to the last whole line,
 * the whole lines count as sent and the rest are the caller's to spool. Rotation by size renames
 * path to path.1 .. path.N and reopens; SIGHUP reopens in place (logrotate's copytruncate-less
 * way).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mimamori/error.h"
#include "mimamori/log.h"
#include "mimamori/privs.h"

#include "output_int.h"

/* --- sinks ------------------------------------------------------------------------------------ */

/* Open a file sink; MM_EIO with errno set, and err filled when given. */
int output__file_open(struct output *o, struct sink *k, char *err, size_t errlen)
{
    const int flags = O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC;
    char why[512];
    struct stat st;
    int fd, fl;

    if (k->fbuf == NULL) {
        if ((k->fbuf = malloc(OUTPUT_FILE_BUFFER)) == NULL) {
            errno = ENOMEM;
            return MM_ENOMEM;
        }
        k->fcap = OUTPUT_FILE_BUFFER;
    }
    if (strcmp(k->path, "-") == 0) {
        k->fd = STDOUT_FILENO;
        k->regular = 0; /* not ours to cut back */
        return 0;
    }
    /* Opened without waiting: a FIFO nobody reads yet fails (ENXIO) rather than holding the
     * output thread, and shutdown, until a reader comes; the sink is retried like a receiver
     * that is down. Writes block again (a slow reader is what the queue is for). As root for
     * the user a live sensor becomes, opened so that the user cannot point it elsewhere. */
    if (o->privileged && geteuid() == 0)
        fd = privs_open_file(k->path, flags, 0644, &o->own, why, sizeof(why));
    else if ((fd = open(k->path, flags, 0666)) < 0)
        snprintf(why, sizeof(why), "cannot open %s: %s", k->path, strerror(errno));
    if (fd < 0) {
        int e = errno; /* ENXIO: a FIFO without a reader, which add_sink looks for */
        if (err != NULL)
            snprintf(err, errlen, "%s", why);
        errno = e;
        return MM_EIO;
    }
    if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
        fstat(fd, &st) != 0) {
        close(fd);
        return MM_EIO;
    }
    k->fd = fd;
    k->regular = S_ISREG(st.st_mode);
    k->size = (uint64_t)st.st_size;
    return 0;
}

/*
 * Write the waiting lines: one write() for a batch. A write that fails (a full disk, a reader
 * gone) leaves no part of a line behind: a plain file is cut back to the end of the last line
 * written whole. Lines written whole count as sent (unless replay: the caller counts the one
 * line replayed); the others go to the sink's spool, or are counted dropped. 0, or MM_EIO: the
 * caller takes the sink down.
 */
int output__file_flush(struct output *o, struct sink *k, int replay)
{
    size_t off = 0, whole = 0;
    off_t start = -1;
    unsigned i = 0;
    int e = 0, failed;

    if (k->flen == 0)
        return 0;
    if (k->regular) /* O_APPEND writes at the end: where this one begins */
        start = lseek(k->fd, 0, SEEK_END);
    while (off < k->flen) {
        ssize_t w = write(k->fd, k->fbuf + off, k->flen - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : ENOSPC;
            break;
        }
        off += (size_t)w;
    }
    failed = off < k->flen;
    while (i < k->nwait && k->fend[i] <= off)
        i++;
    whole = i > 0 ? k->fend[i - 1] : 0;
    if (!replay)
        k->st.sent += i;
    k->size += whole;
    if (failed) {
        if (off > whole &&
            !(k->regular && start >= 0 && ftruncate(k->fd, start + (off_t)whole) == 0))
            log_warnx("%s: half a line could not be taken back", k->name);
        if (k->st.errors++ == 0 || !k->said_down) /* once an episode */
            log_warnx("%s: write failed (%s): %u %s", k->name, strerror(e),
                      replay ? 1 : k->nwait - i,
                      replay ? "event stays in the spool" : "events to the spool");
        for (; !replay && i < k->nwait; i++) {
            size_t from = i > 0 ? k->fend[i - 1] : 0;
            output__spool_put(o, k, k->fbuf + from, k->fend[i] - from - 1);
        }
    }
    k->flen = 0;
    k->nwait = 0;
    if (!failed && k->said_down) { /* the file takes writes again */
        log_info("%s: up", k->name);
        k->said_down = 0;
        k->backoff_ms = 0;
    }
    return failed ? MM_EIO : 0;
}

/* Add a line to those waiting; 0, or MM_EIO when writing them to make room failed. */
int output__file_put(struct output *o, struct sink *k, const char *msg, size_t len)
{
    if ((k->flen + len + 1 > k->fcap || k->nwait == BATCH) && output__file_flush(o, k, 0) != 0)
        return MM_EIO;
    if (len + 1 > k->fcap) { /* a line longer than the buffer: the buffer grows to it */
        char *b = realloc(k->fbuf, len + 1);
        if (b == NULL)
            return MM_ENOMEM;
        k->fbuf = b;
        k->fcap = len + 1;
    }
    memcpy(k->fbuf + k->flen, msg, len);
    k->fbuf[k->flen + len] = '\n';
    k->flen += len + 1;
    k->fend[k->nwait++] = (uint32_t)k->flen;
    return 0;
}

/* Close a file sink; lines still waiting are written first (or spooled). */
void output__file_close(struct output *o, struct sink *k)
{
    if (k->fd < 0)
        return;
    (void)output__file_flush(o, k, 0);
    if (k->fd != STDOUT_FILENO)
        close(k->fd);
    k->fd = -1;
}

/* Size-based rotation: path -> path.1 -> ... -> path.N (the oldest is removed). */
void output__file_rotate(struct output *o, struct sink *k)
{
    char from[4096], to[4096];
    unsigned i, keep = k->co->rotate_keep;

    output__file_close(o, k);
    for (i = keep; i > 0; i--) {
        snprintf(to, sizeof(to), "%s.%u", k->path, i);
        if (i == 1)
            snprintf(from, sizeof(from), "%s", k->path);
        else
            snprintf(from, sizeof(from), "%s.%u", k->path, i - 1);
        rename(from, to);
    }
    if (output__file_open(o, k, NULL, 0) != 0)
        k->up = 0;
}
