/*
 * Error codes shared by every module. Functions return 0 on success or one of these negative
 * values; mm_strerror() gives the message. Codes and messages come from one table so they
 * cannot drift apart.
 */
#ifndef MIMAMORI_ERROR_H
#define MIMAMORI_ERROR_H

#define MM_ERRORS(X)                                                                               \
    X(NOMEM, -1, "out of memory")                                                                  \
    X(INVAL, -2, "invalid argument")                                                               \
    X(IO, -3, "input/output error")                                                                \
    X(CONFIG, -4, "invalid configuration")                                                         \
    X(CAPTURE, -5, "capture error")                                                                \
    X(UNSUPPORTED, -6, "unsupported")                                                              \
    X(FULL, -7, "table full")                                                                      \
    X(NOTFOUND, -8, "not found")                                                                   \
    X(EOF, -9, "end of input")

enum mm_error {
#define MM_ERR_ENUM(name, code, msg) MM_E##name = (code),
    MM_ERRORS(MM_ERR_ENUM)
#undef MM_ERR_ENUM
};

/* Message for a code returned by any mm function; never NULL. */
const char *mm_strerror(int code);

#endif
