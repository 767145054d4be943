/*
 * Giving up privileges once a live sensor has opened what needs them (the capture handle,
 * output files, the spool directory): the supplementary groups, group and user change for
 * good, no capability is left in any set, and no later exec can gain any (no_new_privs).
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

#endif
