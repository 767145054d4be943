/*
 * Reading one large EVE file with several parsers: JSON parsing is nearly all the time a day
 * of alerts takes, and lines are independent. The file is cut into parts at line starts; each
 * part is read into a triage of its own (sharing the filter and the names), and the parts'
 * alerts are then taken over in file order, their strings moved into this triage's pool. The
 * pieces are public so that a reader of other events too (the report) can do the same.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "triage_int.h"

#define PART_MIN  (8 << 20) /* smaller files are read by one parser */
#define PARTS_MAX 16

struct part {
    struct triage *sub;
    const char *path;
    off_t from, to, end;
    int rc;
};

int triage_read_range(struct triage *t, const char *path, off_t from, off_t to, triage_event_fn fn,
                      void *ud, off_t *end)
{
    FILE *f = fopen(path, "r");
    int c, rc = 0;

    if (f == NULL)
        return MM_EIO;
    /* A part starts at the first line starting at or after its offset. */
    if (from > 0) {
        if (fseeko(f, from - 1, SEEK_SET) != 0)
            rc = MM_EIO;
        while (rc == 0 && (c = getc(f)) != EOF && c != '\n')
            ;
    }
    if (rc == 0)
        rc = triage__read_until(t, f, to, fn, ud);
    *end = ftello(f);
    fclose(f);
    return rc;
}

static void *read_part(void *arg)
{
    struct part *p = arg;

    p->rc = triage_read_range(p->sub, p->path, p->from, p->to, NULL, NULL, &p->end);
    return NULL;
}

/* Take over a part's alert: its strings interned again here. */
static int adopt(struct triage *t, const struct triage_alert *from)
{
    struct triage_alert a = *from;
    const char **fields[] = {
        &a.ip[0],     &a.ip[1],     &a.zone[0],   &a.zone[1],  &a.zone_desc[0], &a.zone_desc[1],
        &a.device[0], &a.device[1], &a.rule,      &a.category, &a.signature,    &a.message_ja,
        &a.next_ja,   &a.next_en,   &a.guideline, &a.proto,    &a.app_proto,    &a.evidence};

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (*fields[i] != NULL &&
            (*fields[i] = triage__intern(&t->pool, *fields[i], strlen(*fields[i]))) == NULL)
            return MM_ENOMEM;
    return triage__push(t, &a);
}

int triage_create_part(struct triage **out, const struct triage *of)
{
    int rc = triage_create(out);

    if (rc == 0) {
        (*out)->filter = of->filter;
        (*out)->names_from = of;
    }
    return rc;
}

int triage_merge(struct triage *t, const struct triage *part)
{
    int rc;

    for (size_t k = 0; k < part->n; k++)
        if ((rc = adopt(t, &part->a[k])) < 0)
            return rc;
    t->bad += part->bad;
    t->partial = part->partial;
    return 0;
}

unsigned triage_parts(const char *path, unsigned threads, off_t *size, char *err, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return 0;
    }
    json_object_seed(0); /* jansson's one global, set before its first parallel use */
    *size = st.st_size;
    if (!S_ISREG(st.st_mode) || st.st_size < PART_MIN || threads < 1)
        return 1;
    return threads > PARTS_MAX ? PARTS_MAX : threads;
}

int triage_run(unsigned n, void *(*fn)(void *), void *args, size_t stride)
{
    pthread_t tid[PARTS_MAX];
    unsigned i, started = 0;
    int rc = 0;

    if (n <= 1) {
        if (n == 1)
            fn(args);
        return 0;
    }
    for (i = 0; i < n && i < PARTS_MAX; i++) {
        if (pthread_create(&tid[i], NULL, fn, (char *)args + i * stride) != 0) {
            rc = MM_ENOMEM;
            break;
        }
        started++;
    }
    for (i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    return rc;
}

int triage_read_path(struct triage *t, const char *path, unsigned threads, off_t *end, char *err,
                     size_t errlen)
{
    struct part parts[PARTS_MAX];
    off_t size;
    unsigned n = triage_parts(path, threads, &size, err, errlen), i;
    int rc = 0;

    if (n == 0)
        return MM_EIO;
    memset(parts, 0, sizeof(parts));
    for (i = 0; i < n && rc == 0; i++) {
        parts[i].path = path;
        parts[i].from = size / n * i;
        parts[i].to = i + 1 < n ? size / n * (i + 1) : -1;
        rc = triage_create_part(&parts[i].sub, t);
    }
    if (rc == 0)
        rc = triage_run(n, read_part, parts, sizeof(parts[0]));
    for (i = 0; i < n && parts[i].sub != NULL; i++) {
        if (rc == 0)
            rc = parts[i].rc < 0 ? parts[i].rc : triage_merge(t, parts[i].sub);
        *end = parts[i].end;
        triage_destroy(parts[i].sub);
    }
    if (rc == MM_EIO)
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
    else if (rc < 0)
        snprintf(err, errlen, "%s: out of memory", path);
    return rc;
}
