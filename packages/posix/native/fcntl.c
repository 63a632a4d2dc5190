/* fcntl() record locks over a whole file (what lib/lockfile.c and
 * lib/daemon-unix.c of OVS use for pidfiles): F_SETLK, F_SETLKW, F_GETLK. */
#include "posix.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* setLock(fd, l_type, wait) -> 0 or -errno. F_SETLKW when wait (blocks the
 * calling thread until the lock is granted, or EINTR/EDEADLK). */
static napi_value set_lock(napi_env env, napi_callback_info info)
{
    napi_value argv[3];
    int32_t fd, type;
    bool wait = false;
    if (!posix_get_args(env, info, 3, argv)) return NULL;
    if (!posix_get_int32(env, argv[0], &fd) || !posix_get_int32(env, argv[1], &type)) return NULL;
    POSIX_CHECK(env, napi_get_value_bool(env, argv[2], &wait));

    struct flock lck;
    memset(&lck, 0, sizeof lck);
    lck.l_type = (short) type;
    lck.l_whence = SEEK_SET;
    lck.l_start = 0;
    lck.l_len = 0;
    if (fcntl(fd, wait ? F_SETLKW : F_SETLK, &lck) == -1) return posix_errno(env, errno);
    return posix_int(env, 0);
}

/* getLock(fd, l_type) -> [l_type, l_pid] of the lock that would block one of
 * l_type over the whole file ([F_UNLCK, 0] if none), or -errno. */
static napi_value get_lock(napi_env env, napi_callback_info info)
{
    napi_value argv[2], result;
    int32_t fd, type;
    if (!posix_get_args(env, info, 2, argv)) return NULL;
    if (!posix_get_int32(env, argv[0], &fd) || !posix_get_int32(env, argv[1], &type)) return NULL;

    struct flock lck;
    memset(&lck, 0, sizeof lck);
    lck.l_type = (short) type;
    lck.l_whence = SEEK_SET;
    if (fcntl(fd, F_GETLK, &lck) == -1) return posix_errno(env, errno);
    POSIX_CHECK(env, napi_create_array_with_length(env, 2, &result));
    POSIX_CHECK(env, napi_set_element(env, result, 0, posix_int(env, lck.l_type)));
    POSIX_CHECK(env, napi_set_element(env, result, 1, posix_int(env, lck.l_type == F_UNLCK ? 0 : lck.l_pid)));
    return result;
}

napi_value posix_fcntl_init(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        { "setLock", NULL, set_lock, NULL, NULL, NULL, napi_enumerable, NULL },
        { "getLock", NULL, get_lock, NULL, NULL, NULL, napi_enumerable, NULL },
        { "F_RDLCK", NULL, NULL, NULL, NULL, posix_int(env, F_RDLCK), napi_enumerable, NULL },
        { "F_WRLCK", NULL, NULL, NULL, NULL, posix_int(env, F_WRLCK), napi_enumerable, NULL },
        { "F_UNLCK", NULL, NULL, NULL, NULL, posix_int(env, F_UNLCK), napi_enumerable, NULL },
    };
    if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
    return exports;
}
