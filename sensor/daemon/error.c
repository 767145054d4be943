/*
 * The message table behind mm_strerror(), generated from the MM_ERRORS list in error.h.
 */
#include "mimamori/error.h"

const char *mm_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define MM_ERR_CASE(name, c, msg)                                                                  \
    case c:                                                                                        \
        return msg;
        MM_ERRORS(MM_ERR_CASE)
#undef MM_ERR_CASE
    default:
        return "unknown error";
    }
}
