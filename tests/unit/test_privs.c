/*
 * Opening as root for the sensor's user (privs_open_file, privs_make_dir), tried as the user
 * would attack it: a directory of the user's (uid 65534 here) holds a symbolic link or a hard
 * link to a file of root's, a directory on the way is a link, a directory is writable by
 * everyone, an existing directory of root's is named as the spool. Each must be refused with
 * the file of root's left as it was; what the sensor makes itself goes to the user. Needs root
 * (skipped otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mimamori/error.h"
#include "mimamori/privs.h"

#define SECRET "root's own words\n"

static char top[] = "/tmp/mm-privs-XXXXXX";
static const struct privs_owner user = {65534, 65534};
static char secret[600], udir[600], err[1024];

static void path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", top, name);
}

static int setup(void **state)
{
    int fd;

    (void)state;
    if (geteuid() != 0 || mkdtemp(top) == NULL)
        return 0;
    path(secret, sizeof(secret), "secret");
    path(udir, sizeof(udir), "user");
    if ((fd = open(secret, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 ||
        write(fd, SECRET, strlen(SECRET)) != (ssize_t)strlen(SECRET) || close(fd) != 0 ||
        mkdir(udir, 0700) != 0 || chown(udir, user.uid, user.gid) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[700];

    (void)state;
    if (geteuid() != 0)
        return 0;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
    return system(cmd) != 0;
}

/* The file of root's the attacks aim at: still root's, 0600, and as it was. */
static void assert_secret_intact(void)
{
    struct stat st;
    char buf[64] = "";
    FILE *fp = fopen(secret, "r");

    assert_non_null(fp);
    assert_non_null(fgets(buf, sizeof(buf), fp));
    fclose(fp);
    assert_string_equal(buf, SECRET);
    assert_int_equal(stat(secret, &st), 0);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(st.st_mode & 07777, 0600);
}

static void need_root(void)
{
    if (geteuid() != 0)
        skip();
}

static void test_symlink_in_users_directory_is_not_followed(void **state)
{
    char p[700];

    (void)state;
    need_root();
    snprintf(p, sizeof(p), "%s/eve.json", udir);
    assert_int_equal(symlink(secret, p), 0);
    assert_int_equal(
        privs_open_file(p, O_WRONLY | O_APPEND | O_CREAT, 0644, &user, err, sizeof(err)), MM_EIO);
    assert_non_null(strstr(err, "symbolic link"));
    assert_int_equal(privs_open_file(p, O_RDWR, 0, &user, err, sizeof(err)), MM_EIO);
    assert_secret_intact();
    unlink(p);
}

static void test_hard_link_is_refused(void **state)
{
    char p[700];

    (void)state;
    need_root();
    snprintf(p, sizeof(p), "%s/output0.spool", udir);
    assert_int_equal(link(secret, p), 0);
    assert_int_equal(privs_open_file(p, O_RDWR | O_APPEND | O_CREAT, 0600, &user, err, sizeof(err)),
                     MM_EIO);
    assert_non_null(strstr(err, "links"));
    assert_secret_intact();
    unlink(p);
}

static void test_new_file_goes_to_the_user(void **state)
{
    char p[700];
    struct stat st;
    int fd;

    (void)state;
    need_root();
    snprintf(p, sizeof(p), "%s/new.json", udir);
    fd = privs_open_file(p, O_WRONLY | O_APPEND | O_CREAT, 0640, &user, err, sizeof(err));
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_uid, user.uid);
    assert_int_equal(st.st_gid, user.gid);
    close(fd);
    unlink(p);
}

static void test_roots_file_in_users_directory_keeps_its_owner(void **state)
{
    char p[700];
    struct stat st;
    int fd;

    (void)state;
    need_root();
    /* The user may have moved it there: opened for appending, never given away. */
    snprintf(p, sizeof(p), "%s/old.json", udir);
    assert_true((fd = open(p, O_WRONLY | O_CREAT, 0600)) >= 0);
    close(fd);
    fd = privs_open_file(p, O_WRONLY | O_APPEND | O_CREAT, 0640, &user, err, sizeof(err));
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_uid, 0);
    close(fd);
    /* In a directory only root may write, it is the sensor's to reopen after rotation. */
    path(p, sizeof(p), "rootdir.json");
    assert_true((fd = open(p, O_WRONLY | O_CREAT, 0600)) >= 0);
    close(fd);
    fd = privs_open_file(p, O_WRONLY | O_APPEND | O_CREAT, 0640, &user, err, sizeof(err));
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_uid, user.uid);
    close(fd);
}

static void test_another_users_file_is_refused(void **state)
{
    char p[700];
    int fd;

    (void)state;
    need_root();
    snprintf(p, sizeof(p), "%s/theirs.json", udir);
    assert_true((fd = open(p, O_WRONLY | O_CREAT, 0600)) >= 0);
    assert_int_equal(fchown(fd, 1234, 1234), 0);
    close(fd);
    assert_int_equal(privs_open_file(p, O_WRONLY | O_APPEND, 0, &user, err, sizeof(err)), MM_EIO);
    assert_non_null(strstr(err, "uid 1234"));
}

static void test_directories_others_may_write_are_refused(void **state)
{
    char d[700], p[760];

    (void)state;
    need_root();
    path(d, sizeof(d), "open");
    assert_int_equal(mkdir(d, 0700), 0);
    assert_int_equal(chmod(d, 01777), 0); /* like /tmp */
    snprintf(p, sizeof(p), "%s/eve.json", d);
    assert_int_equal(privs_open_file(p, O_WRONLY | O_CREAT, 0640, &user, err, sizeof(err)), MM_EIO);
    assert_non_null(strstr(err, "everyone may write it"));
    assert_int_equal(access(p, F_OK), -1);
    /* Passed through, sticky, to a directory of root's: fine. */
    snprintf(p, sizeof(p), "%s/sub", d);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/sub/eve.json", d);
    assert_true(privs_open_file(p, O_WRONLY | O_CREAT, 0640, &user, err, sizeof(err)) >= 0);
    /* Not sticky: anyone could swap the directory below. */
    assert_int_equal(chmod(d, 0777), 0);
    assert_int_equal(privs_open_file(p, O_WRONLY | O_CREAT, 0640, &user, err, sizeof(err)), MM_EIO);
    /* A directory of the user's may hold the file, but not lead to it. */
    snprintf(p, sizeof(p), "%s/sub", udir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/sub/eve.json", udir);
    assert_int_equal(privs_open_file(p, O_WRONLY | O_CREAT, 0640, &user, err, sizeof(err)), MM_EIO);
    assert_non_null(strstr(err, "belongs to another user"));
}

static void test_symlinked_directory_is_refused(void **state)
{
    char l[700], p[760];

    (void)state;
    need_root();
    path(l, sizeof(l), "link");
    assert_int_equal(symlink(top, l), 0);
    snprintf(p, sizeof(p), "%s/secret", l);
    assert_int_equal(privs_open_file(p, O_WRONLY | O_APPEND, 0, &user, err, sizeof(err)), MM_EIO);
    assert_non_null(strstr(err, "symbolic link"));
    assert_secret_intact();
}

static void test_make_dir_gives_only_what_it_made(void **state)
{
    char d[700];
    struct stat st;

    (void)state;
    need_root();
    path(d, sizeof(d), "spool");
    assert_int_equal(privs_make_dir(d, 0700, &user, err, sizeof(err)), 0);
    assert_int_equal(lstat(d, &st), 0);
    assert_int_equal(st.st_uid, user.uid);
    assert_int_equal(st.st_mode & 07777, 0700);
    /* Again: the user's already, accepted. */
    assert_int_equal(privs_make_dir(d, 0700, &user, err, sizeof(err)), 0);
    /* An existing directory of root's (the config directory, say) is not given away. */
    path(d, sizeof(d), "etc");
    assert_int_equal(mkdir(d, 0755), 0);
    assert_int_equal(privs_make_dir(d, 0755, &user, err, sizeof(err)), MM_EIO);
    assert_non_null(strstr(err, "belongs to uid 0"));
    assert_int_equal(lstat(d, &st), 0);
    assert_int_equal(st.st_uid, 0);
    /* Nor a link to it. */
    path(d, sizeof(d), "etclink");
    assert_int_equal(symlink("etc", d), 0);
    assert_int_equal(privs_make_dir(d, 0755, &user, err, sizeof(err)), MM_EIO);
    path(d, sizeof(d), "etc");
    assert_int_equal(lstat(d, &st), 0);
    assert_int_equal(st.st_uid, 0);
    /* Nor is a directory made inside one the user could swap. */
    snprintf(d, sizeof(d), "%s/inner", udir);
    assert_int_equal(privs_make_dir(d, 0700, &user, err, sizeof(err)), MM_EIO);
    assert_int_equal(access(d, F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symlink_in_users_directory_is_not_followed),
        cmocka_unit_test(test_hard_link_is_refused),
        cmocka_unit_test(test_new_file_goes_to_the_user),
        cmocka_unit_test(test_roots_file_in_users_directory_keeps_its_owner),
        cmocka_unit_test(test_another_users_file_is_refused),
        cmocka_unit_test(test_directories_others_may_write_are_refused),
        cmocka_unit_test(test_symlinked_directory_is_refused),
        cmocka_unit_test(test_make_dir_gives_only_what_it_made),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
