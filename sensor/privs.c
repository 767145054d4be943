/*
 * Privilege drop with plain system calls (no libcap): bounding and ambient capability sets
 * emptied and no_new_privs set while still privileged, then setgroups/setresgid/setresuid
 * (glibc applies the id changes to every thread), then the remaining capability sets cleared
 * with capset, and finally a check that none of it can be undone.
 */
#define _GNU_SOURCE /* setresuid, setresgid */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
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
