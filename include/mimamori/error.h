/*
 * Error codes shared by every module, and the conventions of every public header. Functions
 * return 0 on success or one of these negative values; mm_strerror() gives the message. Codes
 * and messages come from one table so they cannot drift apart.
 *
 * - A lookup that finds nothing returns MM_ENOTFOUND, never -1 (which is MM_ENOMEM).
 * - Where a failure needs words, the caller passes "char *err, size_t errlen" and gets one line
 *   naming what failed and why; the loaders, which report every problem of a file at once,
 *   fill a struct config_diag of "file:line:col: message" lines instead.
 * - Lifetimes: x_create/x_destroy for objects in memory, x_open/x_close for those holding files,
 *   sockets or threads, x_load/x_free for snapshots read from files (config, rules, time
 *   zones). Every create, open and load is MM_MUST_CHECK.
 * - Private headers (sensor/<stage>/<module>_int.h) hold what the files of one module share; their
 *   names carry the module prefix and two underscores (detect__raise_alert).
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

/*
 * On functions that create, open or load something: ignoring their result leaves a NULL or
 * half-made object behind, so the compiler says so (-Werror makes it an error here).
 */
#define MM_MUST_CHECK __attribute__((warn_unused_result))

/* Message for a code returned by any mm function; never NULL. */
const char *mm_strerror(int code);

#endif
