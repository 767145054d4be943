/*
 * The IEEE registry reader on a file written in the registry's own text layout (CRLF lines,
 * "(hex)" and "(base 16)" lines, address lines): lookups, locally administered addresses, and
 * a file that is not there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mimamori/oui.h"

static void test_lookup(void **state)
{
    char path[] = "/tmp/test_oui_XXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fdopen(fd, "w");
    struct oui *o;
    const uint8_t apple[6] = {0xc4, 0x61, 0x8b, 1, 2, 3}, gs[6] = {0x00, 0x0b, 0x82, 1, 2, 3},
                  random[6] = {0xc6, 0x2c, 0x03, 1, 2, 3}, none[6] = {0x00, 0x00, 0x01, 1, 2, 3};

    (void)state;
    fputs("OUI/MA-L                                                    Organization\r\n"
          "company_id                                                  Organization\r\n"
          "\r\n"
          "C4-61-8B   (hex)\t\tApple, Inc.\r\n"
          "C4618B     (base 16)\t\tApple, Inc.\r\n"
          "\t\t\t\t1 Infinite Loop\r\n"
          "\r\n"
          "00-0B-82   (hex)\t\tGrandstream Networks, Inc.\r\n"
          "C6-2C-03   (hex)\t\tNobody, locally administered\r\n",
          fp);
    fclose(fp);
    assert_int_equal(oui_load(&o, path), 0);
    unlink(path);
    assert_int_equal(oui_count(o), 3);
    assert_string_equal(oui_vendor(o, apple), "Apple, Inc.");
    assert_string_equal(oui_vendor(o, gs), "Grandstream Networks, Inc.");
    assert_null(oui_vendor(o, random)); /* the locally administered bit: no vendor's block */
    assert_null(oui_vendor(o, none));
    oui_free(o);
    assert_int_equal(oui_load(&o, "/nonexistent/oui.txt"), MM_EIO);
    assert_null(o);
    assert_null(oui_vendor(NULL, apple));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
