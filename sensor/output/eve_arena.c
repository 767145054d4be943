/*
 * Where jansson's memory comes from while an event is built. jansson allocates every object, key
 * and string of an event (about a hundred blocks for a flow record), and the event is freed as
 * soon as it is serialised. While one is being built on a thread, its blocks come from that
 * thread's arena, emptied when the event is done: freeing them costs nothing. What does not
 * fit, and whatever is allocated outside an event, goes to malloc.
 *
 * An alert is the one kind of event that crosses threads as jansson objects: built on a worker,
 * serialised on the output thread. Its objects come from blocks of its own (most alerts take
 * one), freed with one free() per block once it is serialised, so the output thread never
 * returns the worker's allocations one by one to the worker's malloc arena.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mimamori/error.h"

#include "eve_int.h"

#define EVE_ARENA_SIZE (64u * 1024u)
#define EVE_CARRY_SIZE (8192u - 32u) /* one of an alert's blocks, less its header */

/* A block of an alert's objects. */
struct carried {
    struct carried *next; /* the alert's next block, or NULL */
    json_t *ev;           /* the alert (first block) */
    size_t used;
    _Alignas(16) char mem[EVE_CARRY_SIZE];
};

static _Thread_local struct {
    size_t used;
    unsigned depth;        /* events being built (nested when a deferred one is made on the way) */
    struct carried *carry; /* an alert being built or freed on this thread: its newest block */
    _Alignas(16) char mem[EVE_ARENA_SIZE];
} arena;

static void *bump(char *mem, size_t *used, size_t size, size_t want)
{
    void *p = NULL;

    if (size - *used >= want) {
        p = mem + *used;
        *used += want;
    }
    return p;
}

static void *arena_malloc(size_t n)
{
    size_t want = (n + 15u) & ~(size_t)15u;
    struct carried *c = arena.carry, *more;
    void *p;

    if (c != NULL) {
        if ((p = bump(c->mem, &c->used, EVE_CARRY_SIZE, want)) != NULL)
            return p;
        if (want > EVE_CARRY_SIZE / 4 || (more = malloc(sizeof(*more))) == NULL)
            return malloc(n);
        more->next = c; /* the newest block first: the one allocations come from */
        more->ev = NULL;
        more->used = 0;
        arena.carry = more;
        return bump(more->mem, &more->used, EVE_CARRY_SIZE, want);
    }
    if (arena.depth > 0 && (p = bump(arena.mem, &arena.used, EVE_ARENA_SIZE, want)) != NULL)
        return p;
    return malloc(n);
}

static void arena_free(void *p)
{
    const struct carried *c;

    if ((char *)p >= arena.mem && (char *)p < arena.mem + EVE_ARENA_SIZE)
        return; /* emptied with the arena */
    for (c = arena.carry; c != NULL; c = c->next)
        if ((const char *)p >= c->mem && (const char *)p < c->mem + EVE_CARRY_SIZE)
            return; /* freed with the alert's blocks */
    free(p);
}

static void carried_free(struct carried *c)
{
    struct carried *next;

    for (; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
}

void eve__arena_begin(void)
{
    if (arena.depth++ == 0)
        arena.used = 0;
}

/* After the event's objects are freed. */
static void arena_end(void)
{
    if (arena.depth > 0 && --arena.depth == 0)
        arena.used = 0;
}

/*
 * Nearly every event fits the stack buffer; a larger one (a stats event with many interfaces) is
 * serialised again into its line.
 */
char *eve__event_line(json_t *ev, size_t *len)
{
    char buf[4096], *line = NULL;
    size_t n = json_dumpb(ev, buf, sizeof(buf), JSON_COMPACT);

    if (n > 0 && (line = malloc(n + 1)) != NULL) {
        if (n <= sizeof(buf))
            memcpy(line, buf, n);
        else
            n = json_dumpb(ev, line, n, JSON_COMPACT);
        line[n] = '\0';
        *len = n;
    }
    json_decref(ev);
    arena_end();
    return line;
}

void eve__arena_install(void)
{
    json_set_alloc_funcs(arena_malloc, arena_free);
}

int eve__carry_begin(void)
{
    struct carried *c = malloc(sizeof(*c));

    if (c == NULL)
        return MM_ENOMEM;
    c->next = NULL;
    c->used = 0;
    arena.carry = c;
    return 0;
}

struct carried *eve__carry_end(json_t *ev)
{
    struct carried *c = arena.carry; /* the newest block, where the dump's scratch goes on */

    arena.carry = NULL;
    arena_end();
    c->ev = ev;
    return c;
}

/* output_render_fn: an alert's line, dumped on the output thread, and its blocks freed. */
char *eve__carry_render(void *arg, size_t *len)
{
    char *line;

    arena.carry = arg;  /* its objects are freed with its blocks, not one by one */
    eve__arena_begin(); /* the dump's own scratch blocks come from the blocks' rest */
    line = eve__event_line(arena.carry->ev, len);
    carried_free(arena.carry);
    arena.carry = NULL;
    return line;
}
