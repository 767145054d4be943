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

/* One part on its thread. */
struct slot {
    const struct triage_split *ops;
    void *part;
    const char *path;
    off_t from, to, end;
    int rc;
};

static void *read_slot(void *arg)
{
    struct slot *s = arg;

    s->rc = s->ops->read(s->part, s->path, s->from, s->to, &s->end);
    return NULL;
}

/* How many parts: one per thread for a large regular file, else one. */
static unsigned parts_of(const char *path, unsigned threads, off_t *size, char *err, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return 0;
    }
    *size = st.st_size;
    if (!S_ISREG(st.st_mode) || st.st_size < PART_MIN || threads < 1)
        return 1;
    return threads > PARTS_MAX ? PARTS_MAX : threads;
}

int triage_split_read(const char *path, unsigned threads, const struct triage_split *ops, void *ud,
                      off_t *end, char *err, size_t errlen)
{
    struct slot slots[PARTS_MAX];
    pthread_t tid[PARTS_MAX];
    off_t size;
    unsigned n = parts_of(path, threads, &size, err, errlen), i, made = 0, started = 0;
    int rc = 0;

    if (n == 0)
        return MM_EIO;
    json_object_seed(0); /* jansson's one global, set before its first parallel use */
    for (i = 0; i < n && rc == 0; i++, made++) {
        slots[i] = (struct slot){ops, NULL, path, size / n * i, -1, 0, 0};
        if (i + 1 < n)
            slots[i].to = size / n * (i + 1);
        rc = ops->create(ud, &slots[i].part);
    }
    if (rc == 0 && n == 1)
        read_slot(&slots[0]);
    for (i = 0; rc == 0 && n > 1 && i < n; i++, started++)
        if (pthread_create(&tid[i], NULL, read_slot, &slots[i]) != 0)
            rc = MM_ENOMEM;
    for (i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    for (i = 0; i < made; i++) {
        if (rc == 0 && slots[i].part != NULL)
            rc = slots[i].rc < 0 ? slots[i].rc : ops->merge(ud, slots[i].part);
        *end = slots[i].end;
        if (slots[i].part != NULL)
            ops->destroy(slots[i].part);
    }
    if (rc == MM_EIO)
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
    else if (rc < 0)
        snprintf(err, errlen, "%s: out of memory", path);
    return rc;
}

/* triage_read_path's parts: triages of their own, merged into t. */
static int part_create(void *ud, void **part)
{
    return triage_create_part((struct triage **)part, ud);
}

static int part_read(void *part, const char *path, off_t from, off_t to, off_t *end)
{
    return triage_read_range(part, path, from, to, NULL, NULL, end);
}

static int part_merge(void *ud, void *part)
{
    return triage_merge(ud, part);
}

static void part_destroy(void *part)
{
    triage_destroy(part);
}

int triage_read_path(struct triage *t, const char *path, unsigned threads, off_t *end, char *err,
                     size_t errlen)
{
    static const struct triage_split ops = {part_create, part_read, part_merge, part_destroy};

    return triage_split_read(path, threads, &ops, t, end, err, errlen);
}
