/* @ovs/posix: the few POSIX calls Node has no API for, as a node-api addon.
 * Shared helpers of the addon's C files. */
#ifndef OVS_POSIX_H
#define OVS_POSIX_H 1

#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

/* A prebuilt binary must load on every glibc that Node 20's own builds run on
 * (2.28 and later), not only on the one it was built with: the few symbols
 * that newer glibcs give a later version (pthread_* moved into libc in 2.34,
 * fcntl64 is 2.28's) are bound to their first version, which every glibc
 * still provides. On other C libraries nothing changes. */
#if defined(__GLIBC__)
#if defined(__x86_64__)
#define POSIX_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define POSIX_GLIBC_BASE "GLIBC_2.17"
#endif
#ifdef POSIX_GLIBC_BASE
__asm__(".symver pthread_create,pthread_create@" POSIX_GLIBC_BASE);
__asm__(".symver pthread_join,pthread_join@" POSIX_GLIBC_BASE);
__asm__(".symver fcntl64,fcntl@" POSIX_GLIBC_BASE);
#endif
#endif

/* Throw a JS TypeError (argument misuse) and return NULL from the caller. */
#define POSIX_CHECK(env, call)                                   \
    do {                                                         \
        if ((call) != napi_ok) {                                 \
            posix_throw_last(env);                               \
            return NULL;                                         \
        }                                                        \
    } while (0)

void posix_throw_last(napi_env env);
bool posix_get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
bool posix_get_int32(napi_env env, napi_value v, int32_t *out);
bool posix_get_uint32(napi_env env, napi_value v, uint32_t *out);
napi_value posix_int(napi_env env, int64_t n);
/* The return value of a failed call: -errno, a negative JS number. */
napi_value posix_errno(napi_env env, int err);

napi_value posix_fcntl_init(napi_env env, napi_value exports);
napi_value posix_netlink_init(napi_env env, napi_value exports);
napi_value posix_fd_watcher_init(napi_env env, napi_value exports);
napi_value posix_peercred_init(napi_env env, napi_value exports);

#endif
