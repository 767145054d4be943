/*
 * The YAML document layer the loaders share: the tree and the positions it remembers, what it
 * refuses and where it says so (syntax, tabs, bytes that are not UTF-8, nesting too deep, a
 * missing file), and the walking helpers' values and messages (durations, sizes, keys that
 * repeat, names from a fixed set).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mimamori/error.h"
#include "mimamori/ydoc.h"

static struct config_diag diag;

static struct ydoc *parse(const char *text)
{
    struct ydoc *d = NULL;

    memset(&diag, 0, sizeof(diag));
    assert_int_equal(ydoc_parse("t.yaml", text, strlen(text), &d, &diag), 0);
    assert_int_equal(diag.count, 0);
    return d;
}

/* The text must be refused with a first message beginning with want. */
static void refused(const char *text, size_t len, const char *want)
{
    struct ydoc *d = NULL;

    memset(&diag, 0, sizeof(diag));
    assert_int_equal(ydoc_parse("t.yaml", text, len, &d, &diag), MM_ECONFIG);
    assert_null(d);
    assert_true(diag.count >= 1);
    if (strncmp(diag.msg[0], want, strlen(want)) != 0)
        fail_msg("got '%s', want '%s...'", diag.msg[0], want);
}

static void test_tree(void **state)
{
    struct ydoc *d = parse("# a comment\n"
                           "zones:\n"
                           "  emr:\n"
                           "    networks: [10.1.0.0/16, '10.2.0.0/16']\n"
                           "empty:\n");
    const struct ynode *root = ydoc_root(d), *zones, *emr, *nets;

    (void)state;
    assert_int_equal(root->kind, YN_MAP);
    assert_int_equal(root->n, 2);
    assert_string_equal(YDOC_KEY(root, 0)->str, "zones");
    assert_int_equal(YDOC_KEY(root, 0)->line, 2);
    assert_int_equal(YDOC_KEY(root, 0)->col, 1);
    zones = YDOC_VAL(root, 0);
    emr = YDOC_VAL(zones, 0);
    assert_int_equal(emr->kind, YN_MAP);
    nets = YDOC_VAL(emr, 0);
    assert_int_equal(nets->kind, YN_LIST);
    assert_int_equal(nets->n, 2);
    assert_string_equal(nets->items[1]->str, "10.2.0.0/16");
    assert_int_equal(nets->items[1]->line, 4);
    assert_int_equal(nets->items[1]->col, 29); /* where the quoted scalar starts */
    assert_int_equal(YDOC_VAL(root, 1)->kind, YN_SCALAR);
    assert_string_equal(YDOC_VAL(root, 1)->str, ""); /* an empty value */
    ydoc_free(d);
    d = parse("");
    assert_null(ydoc_root(d)); /* an empty file: nothing, not an error */
    ydoc_free(d);
}

static void test_refused(void **state)
{
    static const char bad_utf8[] = "name: caf\xe9\n";
    char deep[300];
    unsigned i;

    (void)state;
    refused("a: [1, 2\nb: 3\n", 14, "t.yaml:2:");
    refused("a:\n\tb: 1\n", 9, "t.yaml:2:1: ");
    assert_non_null(strstr(diag.msg[0], "tab"));
    refused(bad_utf8, sizeof(bad_utf8) - 1, "t.yaml:1:");
    assert_non_null(strstr(diag.msg[0], "UTF-8"));
    /* 65 lists in each other: more than any loader reads, refused before libyaml recurses. */
    for (i = 0; i < 65; i++)
        deep[i] = '[';
    for (; i < 130; i++)
        deep[i] = ']';
    deep[i++] = '\n';
    refused(deep, i, "t.yaml:1:");
    memset(&diag, 0, sizeof(diag));
    {
        struct ydoc *d = NULL;
        assert_int_equal(ydoc_parse_file("/nonexistent/mm.yaml", &d, &diag), MM_EIO);
        assert_non_null(strstr(diag.msg[0], "/nonexistent/mm.yaml"));
    }
}

/* The value of "v: TEXT" as a node of its document (freed by the caller). */
static const struct ynode *value(const char *text, struct ydoc **d)
{
    *d = parse(text);
    return YDOC_VAL(ydoc_root(*d), 0);
}

static void test_values(void **state)
{
    static const struct {
        const char *text;
        uint32_t s;
    } durations[] = {{"v: 90", 90},   {"v: 90s", 90},   {"v: 5m", 300},
                     {"v: 2h", 7200}, {"v: 1d", 86400}, {"v: 30d", 2592000}};
    struct ywalk w = {.file = "t.yaml", .diag = &diag};
    struct ydoc *d;
    uint32_t u;
    uint64_t b;
    unsigned i, bits = 0;
    static const char *const names[] = {"dns", "dhcp", "ntp"};

    (void)state;
    for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
        assert_int_equal(ydoc_duration(&w, value(durations[i].text, &d), "window", &u), 1);
        assert_int_equal(u, durations[i].s);
        ydoc_free(d);
    }
    assert_int_equal(ydoc_duration(&w, value("v: 31d", &d), "window", &u), 0);
    assert_int_equal(diag.count, 1);
    assert_non_null(strstr(diag.msg[0], "t.yaml:1:4: "));
    ydoc_free(d);
    assert_int_equal(ydoc_size(&w, value("v: 50MB", &d), "bytes", &b), 1);
    assert_int_equal(b, 50000000u);
    ydoc_free(d);
    assert_int_equal(ydoc_size(&w, value("v: 50MiB", &d), "bytes", &b), 1);
    assert_int_equal(b, 52428800u);
    ydoc_free(d);
    assert_int_equal(ydoc_size(&w, value("v: 0", &d), "bytes", &b), 0);
    ydoc_free(d);
    assert_int_equal(ydoc_uint(&w, value("v: 4", &d), "severity", 1, 3, &u), 0);
    assert_non_null(strstr(diag.msg[0], "severity"));
    ydoc_free(d);
    assert_int_equal(
        ydoc_flags(&w, value("v: [dns, ntp]", &d), "services", "service", names, 3, &bits), 1);
    assert_int_equal(bits, 0x5);
    ydoc_free(d);
    assert_int_equal(
        ydoc_flags(&w, value("v: [dns, smtp]", &d), "services", "service", names, 3, &bits), 0);
    assert_non_null(strstr(diag.msg[diag.count - 1], "unknown service 'smtp' (dns, dhcp, ntp)"));
    ydoc_free(d);
}

static void test_repeated_key(void **state)
{
    struct ywalk w = {.file = "t.yaml", .diag = &diag};
    struct ydoc *d = parse("a: 1\nb: 2\na: 3\n");
    const struct ynode *root = ydoc_root(d);

    (void)state;
    assert_non_null(ydoc_key(&w, root, 0));
    assert_non_null(ydoc_key(&w, root, 1));
    assert_null(ydoc_key(&w, root, 2));
    assert_int_equal(diag.count, 1);
    assert_non_null(strstr(diag.msg[0], "t.yaml:3:1: "));
    ydoc_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_repeated_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
