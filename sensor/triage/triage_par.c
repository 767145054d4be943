/*
 * Reading one large EVE file with several parsers: JSON parsing is nearly all the time a day
 * of alerts takes, and lines are independent. The file is cut into parts at line starts; each
 * part is read into a triage of its own (sharing the filter and the names), and the parts'
 * alerts are then taken over in file order, their strings moved into this triage's pool.
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
    pthread_t tid;
};

static void *read_part(void *arg)
{
    struct part *p = arg;
    FILE *f = fopen(p->path, "r");
    int c;

    if (f == NULL) {
        p->rc = MM_EIO;
        return NULL;
    }
    /* A part starts at the first line starting at or after its offset. */
    if (p->from > 0) {
        if (fseeko(f, p->from - 1, SEEK_SET) != 0)
            p->rc = MM_EIO;
        while (p->rc == 0 && (c = getc(f)) != EOF && c != '\n')
            ;
    }
    if (p->rc == 0)
        p->rc = triage__read_until(p->sub, f, p->to, NULL, NULL);
    p->end = ftello(f);
    fclose(f);
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

int triage_read_path(struct triage *t, const char *path, unsigned threads, off_t *end, char *err,
                     size_t errlen)
{
    struct part parts[PARTS_MAX];
    struct stat st;
    unsigned n, i, started = 0;
    int rc = 0;

    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return MM_EIO;
    }
    n = threads < 1 ? 1 : threads > PARTS_MAX ? PARTS_MAX : threads;
    if (!S_ISREG(st.st_mode) || st.st_size < PART_MIN)
        n = 1;
    json_object_seed(0); /* jansson's one global, set before its first parallel use */
    memset(parts, 0, sizeof(parts));
    for (i = 0; i < n && rc == 0; i++) {
        parts[i].path = path;
        parts[i].from = st.st_size / n * i;
        parts[i].to = i + 1 < n ? st.st_size / n * (i + 1) : -1;
        if ((rc = triage_create(&parts[i].sub)) < 0)
            break;
        parts[i].sub->filter = t->filter;
        parts[i].sub->names_from = t;
        if (n == 1)
            read_part(&parts[i]);
        else if (pthread_create(&parts[i].tid, NULL, read_part, &parts[i]) != 0)
            rc = MM_ENOMEM;
        else
            started++;
    }
    for (i = 0; i < started; i++)
        pthread_join(parts[i].tid, NULL);
    for (i = 0; i < n && parts[i].sub != NULL; i++) {
        for (size_t k = 0; rc == 0 && k < parts[i].sub->n; k++)
            if ((rc = adopt(t, &parts[i].sub->a[k])) > 0)
                rc = 0;
        rc = rc < 0 ? rc : parts[i].rc;
        t->bad += parts[i].sub->bad;
        t->partial = parts[i].sub->partial;
        *end = parts[i].end;
        triage_destroy(parts[i].sub);
    }
    if (rc == MM_EIO)
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
    else if (rc < 0)
        snprintf(err, errlen, "%s: out of memory", path);
    return rc;
}
