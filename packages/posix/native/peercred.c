/* @ovs/posix: SO_PEERCRED, the credentials the kernel recorded for the
 * process at the other end of a connected AF_UNIX socket (socket(7), unix(7)):
 * what a daemon needs to know who its client is, which Node does not expose. */
#include <errno.h>
#include <sys/socket.h>

#include "posix.h"

/* getpeercred(fd) -> [pid, uid, gid] of the peer when it connected, or -errno. */
static napi_value do_getpeercred(napi_env env, napi_callback_info info)
{
    napi_value argv[1], result;
    int32_t fd;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (!posix_get_args(env, info, 1, argv)) return NULL;
    if (!posix_get_int32(env, argv[0], &fd)) return NULL;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return posix_errno(env, errno);
    POSIX_CHECK(env, napi_create_array_with_length(env, 3, &result));
    POSIX_CHECK(env, napi_set_element(env, result, 0, posix_int(env, cred.pid)));
    POSIX_CHECK(env, napi_set_element(env, result, 1, posix_int(env, cred.uid)));
    POSIX_CHECK(env, napi_set_element(env, result, 2, posix_int(env, cred.gid)));
    return result;
}

napi_value posix_peercred_init(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        { "getpeercred", NULL, do_getpeercred, NULL, NULL, NULL, napi_enumerable, NULL },
    };
    if (napi_define_properties(env, exports, 1, props) != napi_ok) return NULL;
    return exports;
}
