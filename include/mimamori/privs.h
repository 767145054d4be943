/*
 * Giving up privileges once a live sensor has opened what needs them (the capture handle,
 * output files, the spool directory): the supplementary groups, group and user change for
 * good, no capability is left in any set, and no later exec can gain any (no_new_privs).
 *
 * Before that, while root, files and directories the sensor's user will own are opened the
 * way OpenBSD's privilege-separated daemons do: every component of the path is opened relative
 * to the directory before it without following a symbolic link, no directory on the way may be
 * writable by anyone but root (the last one: root and the sensor's user), an existing file must
 * be a plain file with one link owned by root or the sensor's user, and only what root made
 * itself, or found where only root can write, is given to the user. A user that can write its
 * own directories can then not make root open, chown or truncate anything else.
 */
#ifndef MIMAMORI_PRIVS_H
#define MIMAMORI_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Look up user (and group, or the user's primary group when NULL). 0, or MM_NOTFOUND with err
 * filled. Call before dropping, while /etc is still readable.
 */
int privs_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err,
                 size_t errlen);

/*
 * Become uid/gid with no capabilities. Root may drop to any user; a process that is already
 * unprivileged only clears its capabilities (uid/gid must then be its own). 0, or MM_EIO with
 * err filled; on failure the caller must not go on.
 */
int privs_drop(uid_t uid, gid_t gid, char *err, size_t errlen);

/*
 * Whether fd is the caller's own file: plain, of one link, owned by the effective user. A
 * spool or lock file the sensor reopens must be, not a link to another's file. 1 or 0.
 */
int privs_own_file(int fd);

/* Who a live sensor becomes (sensor.user and sensor.group). */
struct privs_owner {
    uid_t uid;
    gid_t gid;
};

/*
 * As root: open path (flags as open(2); O_CREAT creates it with mode) safely for own, and give
 * it to own when root made it or its directory is root's alone. Plain files and FIFOs only.
 * Returns the descriptor, or MM_EIO / MM_EINVAL with err filled (errno set when it says why).
 */
int privs_open_file(const char *path, int flags, mode_t mode, const struct privs_owner *own,
                    char *err, size_t errlen);

/*
 * As root: make directory dir (mode) for own, whose parent must be root's alone, and give it to
 * own; or accept it when it exists and is own's already. An existing directory of anyone else
 * is refused, never given away. 0, or MM_EIO with err filled.
 */
int privs_make_dir(const char *dir, mode_t mode, const struct privs_owner *own, char *err,
                   size_t errlen);

#endif
