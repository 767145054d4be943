/*
 * Privilege drop with plain system calls (no libcap): bounding and ambient capability sets
 * emptied and no_new_privs set while still privileged, then setgroups/setresgid/setresuid
 * (glibc applies the id changes to every thread), then the remaining capability sets cleared
 * with capset, and finally a check that none of it can be undone. Before it, the opens that
 * root does for the sensor's user: paths walked one directory at a time without following
 * links, every directory checked for who may write it.
 */
#define _GNU_SOURCE /* setresuid, setresgid */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "mimamori/error.h"
#include "mimamori/privs.h"

int privs_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err,
                 size_t errlen)
{
    const struct passwd *pw = getpwnam(user);
    const struct group *gr;

    if (pw == NULL) {
        snprintf(err, errlen,
                 "user '%s' does not exist: create it (useradd --system --no-create-home %s) "
                 "or set sensor.user",
                 user, user);
        return MM_ENOTFOUND;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    if (group != NULL) {
        if ((gr = getgrnam(group)) == NULL) {
            snprintf(err, errlen, "group '%s' does not exist", group);
            return MM_ENOTFOUND;
        }
        *gid = gr->gr_gid;
    }
    return 0;
}

static int clear_caps(void)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];

    memset(data, 0, sizeof(data));
    return (int)syscall(SYS_capset, &hdr, data);
}

int privs_drop(uid_t uid, gid_t gid, char *err, size_t errlen)
{
    int cap;

    /* While still privileged: nothing gained by exec, nothing left in the bounding set. */
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
        prctl(PR_CAPBSET_DROP, cap, 0, 0, 0); /* needs CAP_SETPCAP; harmless without */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
        return MM_EIO;
    }
    if (getuid() == 0 || geteuid() == 0) {
        if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
            setresuid(uid, uid, uid) != 0) {
            snprintf(err, errlen, "cannot become uid %u gid %u: %s", (unsigned)uid, (unsigned)gid,
                     strerror(errno));
            return MM_EIO;
        }
    } else if (uid != getuid() || gid != getgid()) {
        snprintf(err, errlen, "running as uid %u, cannot become uid %u", (unsigned)getuid(),
                 (unsigned)uid);
        return MM_EIO;
    }
    if (clear_caps() != 0) {
        snprintf(err, errlen, "cannot clear capabilities: %s", strerror(errno));
        return MM_EIO;
    }
    if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        snprintf(err, errlen, "root privileges could be regained");
        return MM_EIO;
    }
    return 0;
}

int privs_own_file(int fd)
{
    struct stat st;

    return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 && st.st_uid == geteuid();
}

/* --- opening for the sensor's user, as root ---------------------------------------------- */

/*
 * Why directory st is not safe to open files in as root, or NULL: only root may write it, and,
 * when it is the last directory of a path (own_last), the sensor's user too. A sticky directory
 * that everyone may write (/tmp) is passed through but not used: others cannot replace root's
 * entries in it.
 */
static const char *dir_unsafe(const struct stat *st, const struct privs_owner *own, int own_last)
{
    if (!S_ISDIR(st->st_mode))
        return "not a directory";
    if (st->st_uid != 0 && !(own_last && st->st_uid == own->uid))
        return "it belongs to another user";
    if ((st->st_mode & S_IWGRP) && st->st_gid != 0 && !(own_last && st->st_gid == own->gid))
        return "its group may write it";
    if ((st->st_mode & S_IWOTH) && (own_last || !(st->st_mode & S_ISVTX)))
        return "everyone may write it";
    return NULL;
}

/*
 * Open directory dir one component at a time (O_NOFOLLOW), checking each directory on the way;
 * the last is checked with own_last. The descriptor, or -1 with err filled.
 */
static int walk_dir(const char *dir, const struct privs_owner *own, int own_last, char *err,
                    size_t errlen)
{
    char path[PATH_MAX], *comp, *next;
    const char *why;
    struct stat st;
    int fd, nfd;
    size_t upto;

    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
        snprintf(err, errlen, "%.200s...: path too long", dir);
        return -1;
    }
    if ((fd = open(path[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "%s: %s", path[0] == '/' ? "/" : ".", strerror(errno));
        return -1;
    }
    for (comp = path; comp != NULL; comp = next) {
        while (*comp == '/')
            comp++;
        if ((next = strchr(comp, '/')) != NULL)
            *next++ = '\0';
        if (*comp == '\0' || strcmp(comp, ".") == 0)
            continue;
        upto = (size_t)(comp - path) + strlen(comp);
        if (strcmp(comp, "..") == 0) {
            snprintf(err, errlen, "%s: '..' in the path: give it without", dir);
            break;
        }
        if (fstat(fd, &st) != 0 || (why = dir_unsafe(&st, own, 0)) != NULL) {
            snprintf(err, errlen,
                     "%.*s: %s, so it could be changed under a sensor running as root: refusing",
                     (int)(comp - path > 1 ? comp - path - 1 : 1), dir,
                     why ? why : strerror(errno));
            break;
        }
        if ((nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
            if (errno == ELOOP || errno == ENOTDIR)
                snprintf(err, errlen,
                         "%.*s: a symbolic link or not a directory: give the real path", (int)upto,
                         dir);
            else
                snprintf(err, errlen, "%.*s: %s", (int)upto, dir, strerror(errno));
            break;
        }
        close(fd);
        fd = nfd;
    }
    if (comp == NULL) {
        if (fstat(fd, &st) == 0 && (why = dir_unsafe(&st, own, own_last)) == NULL)
            return fd;
        snprintf(err, errlen,
                 "%s: %s, so it could be changed under a sensor running as root: only root%s "
                 "may write it",
                 dir, why ? why : strerror(errno), own_last ? " and the sensor's user" : "");
    }
    close(fd);
    return -1;
}

/* Split path into its directory (in dir) and last component; NULL if it has none. */
static const char *split(const char *path, char *dir, size_t dirlen)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;

    if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return NULL;
    if (slash == NULL)
        snprintf(dir, dirlen, ".");
    else if (slash == path)
        snprintf(dir, dirlen, "/");
    else
        snprintf(dir, dirlen, "%.*s", (int)(slash - path), path);
    return base;
}

int privs_open_file(const char *path, int flags, mode_t mode, const struct privs_owner *own,
                    char *err, size_t errlen)
{
    char dir[PATH_MAX];
    const char *base = split(path, dir, sizeof(dir));
    struct stat st, dst;
    int dfd, fd = -1, created = 0, e;

    if (base == NULL) {
        snprintf(err, errlen, "%s: not a file name", path);
        return MM_EINVAL;
    }
    if ((dfd = walk_dir(dir, own, 1, err, errlen)) < 0)
        return MM_EIO;
    flags |= O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
    if (flags & O_CREAT) {
        /* Made here, by root, or found: only what root made is surely not someone's else. */
        if ((fd = openat(dfd, base, flags | O_EXCL, mode)) >= 0)
            created = 1;
        else if (errno == EEXIST)
            fd = openat(dfd, base, flags & ~O_CREAT);
    } else {
        fd = openat(dfd, base, flags);
    }
    if (fd < 0) {
        e = errno;
        if (e == ELOOP)
            snprintf(err, errlen, "%s: a symbolic link: refusing to follow it as root", path);
        else
            snprintf(err, errlen, "%s: %s", path, strerror(e));
        close(dfd);
        errno = e;
        return MM_EIO;
    }
    if (fstat(fd, &st) != 0 || fstat(dfd, &dst) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        snprintf(err, errlen, "%s: not a plain file or FIFO", path);
        goto fail;
    }
    if (S_ISREG(st.st_mode) && st.st_nlink != 1) {
        snprintf(err, errlen, "%s: has %lu links, so it may be another file too: refusing", path,
                 (unsigned long)st.st_nlink);
        goto fail;
    }
    if (st.st_uid != 0 && st.st_uid != own->uid) {
        snprintf(err, errlen, "%s: belongs to uid %u, neither root nor the sensor's user", path,
                 (unsigned)st.st_uid);
        goto fail;
    }
    /* The user reopens it after rotation. What root found where the user may write, the user
     * may have put there: it keeps its owner. */
    if (st.st_uid != own->uid && (created || dir_unsafe(&dst, own, 0) == NULL) &&
        fchown(fd, own->uid, own->gid) != 0) {
        snprintf(err, errlen, "%s: cannot give it to uid %u: %s", path, (unsigned)own->uid,
                 strerror(errno));
        goto fail;
    }
    close(dfd);
    return fd;
fail:
    if (created)
        unlinkat(dfd, base, 0);
    close(fd);
    close(dfd);
    errno = 0;
    return MM_EIO;
}

int privs_make_dir(const char *dir, mode_t mode, const struct privs_owner *own, char *err,
                   size_t errlen)
{
    char parent[PATH_MAX];
    const char *base = split(dir, parent, sizeof(parent)), *why;
    struct stat st;
    int pfd, fd, created = 0, r = MM_EIO;

    if (base == NULL) {
        snprintf(err, errlen, "%s: not a directory name", dir);
        return MM_EINVAL;
    }
    if ((pfd = walk_dir(parent, own, 0, err, errlen)) < 0)
        return MM_EIO;
    if (mkdirat(pfd, base, mode) == 0)
        created = 1;
    else if (errno != EEXIST) {
        snprintf(err, errlen, "cannot make %s: %s", dir, strerror(errno));
        close(pfd);
        return MM_EIO;
    }
    if ((fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
        fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", dir,
                 errno == ELOOP || errno == ENOTDIR ? "a symbolic link or not a directory"
                                                    : strerror(errno));
    } else if (created) {
        if (fchown(fd, own->uid, own->gid) == 0 && fchmod(fd, mode) == 0)
            r = 0;
        else
            snprintf(err, errlen, "%s: cannot give it to uid %u: %s", dir, (unsigned)own->uid,
                     strerror(errno));
    } else if (st.st_uid != own->uid) {
        snprintf(err, errlen,
                 "%s exists and belongs to uid %u, not to the sensor's user (uid %u): the sensor "
                 "gives away only directories it makes; chown it to the sensor's user or remove "
                 "it",
                 dir, (unsigned)st.st_uid, (unsigned)own->uid);
    } else if ((why = dir_unsafe(&st, own, 1)) != NULL) {
        snprintf(err, errlen, "%s: %s: only root and the sensor's user may write it", dir, why);
    } else {
        r = 0;
    }
    if (fd >= 0)
        close(fd);
    close(pfd);
    return r;
}
