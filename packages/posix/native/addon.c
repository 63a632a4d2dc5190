/* @ovs/posix: module registration and the helpers every call uses.
 *
 * Convention of every function exported here: arguments are checked (a
 * misuse throws a TypeError), and a failed system call is not thrown but
 * returned as -errno (a negative number), which the TypeScript layer turns
 * into a PosixError. Nothing here aborts the process on an errno. */
#include "posix.h"

#include <stdio.h>

void posix_throw_last(napi_env env)
{
    const napi_extended_error_info *info = NULL;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) return;
    napi_get_last_error_info(env, &info);
    napi_throw_type_error(env, NULL, info && info->error_message ? info->error_message : "@ovs/posix: invalid argument");
}

bool posix_get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv)
{
    size_t argc = want;
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
        posix_throw_last(env);
        return false;
    }
    if (argc < want) {
        char msg[96];
        snprintf(msg, sizeof msg, "@ovs/posix: expected %zu arguments, got %zu", want, argc);
        napi_throw_type_error(env, NULL, msg);
        return false;
    }
    return true;
}

bool posix_get_int32(napi_env env, napi_value v, int32_t *out)
{
    napi_valuetype t;
    if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) {
        napi_throw_type_error(env, NULL, "@ovs/posix: expected a number");
        return false;
    }
    return napi_get_value_int32(env, v, out) == napi_ok;
}

bool posix_get_uint32(napi_env env, napi_value v, uint32_t *out)
{
    napi_valuetype t;
    if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) {
        napi_throw_type_error(env, NULL, "@ovs/posix: expected a number");
        return false;
    }
    return napi_get_value_uint32(env, v, out) == napi_ok;
}

napi_value posix_int(napi_env env, int64_t n)
{
    napi_value v = NULL;
    napi_create_int64(env, n, &v);
    return v;
}

napi_value posix_errno(napi_env env, int err)
{
    return posix_int(env, -(int64_t) err);
}

static napi_value init(napi_env env, napi_value exports)
{
    if (!posix_fcntl_init(env, exports)) return NULL;
    if (!posix_netlink_init(env, exports)) return NULL;
    if (!posix_fd_watcher_init(env, exports)) return NULL;
    if (!posix_peercred_init(env, exports)) return NULL;
    return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
