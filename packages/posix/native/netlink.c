/* AF_NETLINK socket calls: socket, bind, connect, getsockname, setsockopt,
 * getsockopt (int options), sendto, recv (sized with MSG_PEEK | MSG_TRUNC
 * first), close. Each returns its result, or -errno: ENOBUFS from recv() (the
 * kernel dropped datagrams: the receive queue overran) is such a value, like
 * any other errno. All but a recv() without MSG_DONTWAIT on a blocking
 * socket return at once. */
#include "posix.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* socket(domain, type, protocol) -> fd or -errno. */
static napi_value do_socket(napi_env env, napi_callback_info info)
{
    napi_value argv[3];
    int32_t domain, type, protocol;
    if (!posix_get_args(env, info, 3, argv)) return NULL;
    if (!posix_get_int32(env, argv[0], &domain) || !posix_get_int32(env, argv[1], &type) || !posix_get_int32(env, argv[2], &protocol)) return NULL;
    int fd = socket(domain, type, protocol);
    return fd < 0 ? posix_errno(env, errno) : posix_int(env, fd);
}

static bool get_nladdr(napi_env env, napi_value pid_v, napi_value groups_v, struct sockaddr_nl *sa)
{
    uint32_t pid, groups;
    if (!posix_get_uint32(env, pid_v, &pid) || !posix_get_uint32(env, groups_v, &groups)) return false;
    memset(sa, 0, sizeof *sa);
    sa->nl_family = AF_NETLINK;
    sa->nl_pid = pid;
    sa->nl_groups = groups;
    return true;
}

/* bind(fd, { AF_NETLINK, pid, groups }) -> 0 or -errno (pid 0: the kernel picks the port id). */
static napi_value do_bind(napi_env env, napi_callback_info info)
{
    napi_value argv[3];
    int32_t fd;
    struct sockaddr_nl sa;
    if (!posix_get_args(env, info, 3, argv)) return NULL;
    if (!posix_get_int32(env, argv[0], &fd) || !get_nladdr(env, argv[1], argv[2], &sa)) return NULL;
    return bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 ? posix_errno(env, errno) : posix_int(env, 0);
}

/* connect(fd, { AF_NETLINK, pid, groups }) -> 0 or -errno (pid 0: the kernel; binds first if unbound). */
static napi_value do_connect(napi_env env, napi_callback_info info)
{
    napi_value argv[3];
    int32_t fd;
    struct sockaddr_nl sa;
    if (!posix_get_args(env, info, 3, argv)) return NULL;
    if (!posix_get_int32(env, argv[0], &fd) || !get_nladdr(env, argv[1], argv[2], &sa)) return NULL;
    return connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0 ? posix_errno(env, errno) : posix_int(env, 0);
}

/* getsockname(fd) -> [nl_pid, nl_groups] or -errno. */
static napi_value do_getsockname(napi_env env, napi_callback_info info)
{
    napi_value argv[1], result;
    int32_t fd;
    struct sockaddr_nl sa;
    socklen_t len = sizeof sa;
    if (!posix_get_args(env, info, 1, argv) || !posix_get_int32(env, argv[0], &fd)) return NULL;
    memset(&sa, 0, sizeof sa);
    if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0) return posix_errno(env, errno);
    if (sa.nl_family != AF_NETLINK) return posix_errno(env, EAFNOSUPPORT);
    POSIX_CHECK(env, napi_create_array_with_length(env, 2, &result));
    POSIX_CHECK(env, napi_set_element(env, result, 0, posix_int(env, sa.nl_pid)));
    POSIX_CHECK(env, napi_set_element(env, result, 1, posix_int(env, sa.nl_groups)));
    return result;
}

/* setsockopt(fd, level, name, int value) -> 0 or -errno. */
static napi_value do_setsockopt(napi_env env, napi_callback_info info)
{
    napi_value argv[4];
    int32_t fd, level, name, value;
    if (!posix_get_args(env, info, 4, argv)) return NULL;
    if (!posix_get_int32(env, argv[0], &fd) || !posix_get_int32(env, argv[1], &level) || !posix_get_int32(env, argv[2], &name) ||
        !posix_get_int32(env, argv[3], &value))
        return NULL;
    return setsockopt(fd, level, name, &value, sizeof value) < 0 ? posix_errno(env, errno) : posix_int(env, 0);
}

/* getsockopt(fd, level, name) of an int -> [value] or -errno (the value may be negative, hence the array). */
static napi_value do_getsockopt(napi_env env, napi_callback_info info)
{
    napi_value argv[3], result;
    int32_t fd, level, name;
    int value = 0;
    socklen_t len = sizeof value;
    if (!posix_get_args(env, info, 3, argv)) return NULL;
    if (!posix_get_int32(env, argv[0], &fd) || !posix_get_int32(env, argv[1], &level) || !posix_get_int32(env, argv[2], &name)) return NULL;
    if (getsockopt(fd, level, name, &value, &len) < 0) return posix_errno(env, errno);
    POSIX_CHECK(env, napi_create_array_with_length(env, 1, &result));
    POSIX_CHECK(env, napi_set_element(env, result, 0, posix_int(env, value)));
    return result;
}

/* sendto(fd, bytes, { AF_NETLINK, pid, groups }, flags) -> bytes sent or -errno. */
static napi_value do_sendto(napi_env env, napi_callback_info info)
{
    napi_value argv[5];
    int32_t fd, flags;
    struct sockaddr_nl sa;
    bool is_typedarray = false;
    if (!posix_get_args(env, info, 5, argv)) return NULL;
    if (!posix_get_int32(env, argv[0], &fd) || !get_nladdr(env, argv[2], argv[3], &sa) || !posix_get_int32(env, argv[4], &flags)) return NULL;
    POSIX_CHECK(env, napi_is_typedarray(env, argv[1], &is_typedarray));
    if (!is_typedarray) {
        napi_throw_type_error(env, NULL, "@ovs/posix: sendto() takes a Uint8Array");
        return NULL;
    }
    napi_typedarray_type type;
    size_t length;
    void *data;
    POSIX_CHECK(env, napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL));
    if (type != napi_uint8_array) {
        napi_throw_type_error(env, NULL, "@ovs/posix: sendto() takes a Uint8Array");
        return NULL;
    }
    ssize_t n;
    do {
        n = sendto(fd, data, length, flags, (struct sockaddr *) &sa, sizeof sa);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? posix_errno(env, errno) : posix_int(env, n);
}

/* recv(fd, flags) -> [Buffer, nl_pid, nl_groups] of one whole datagram, or -errno (EAGAIN: none yet
 * with MSG_DONTWAIT; ENOBUFS: the receive queue overran, datagrams were lost). The datagram's size
 * is learned first with MSG_PEEK | MSG_TRUNC (netlink reports the real length), then read whole. */
static napi_value do_recv(napi_env env, napi_callback_info info)
{
    napi_value argv[2], result, buffer;
    int32_t fd, flags;
    if (!posix_get_args(env, info, 2, argv)) return NULL;
    if (!posix_get_int32(env, argv[0], &fd) || !posix_get_int32(env, argv[1], &flags)) return NULL;

    ssize_t size;
    do {
        size = recv(fd, NULL, 0, flags | MSG_PEEK | MSG_TRUNC);
    } while (size < 0 && errno == EINTR);
    if (size < 0) return posix_errno(env, errno);

    void *data = NULL;
    POSIX_CHECK(env, napi_create_buffer(env, (size_t) size, &data, &buffer));
    struct sockaddr_nl sa;
    struct iovec iov = { .iov_base = data, .iov_len = (size_t) size };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    memset(&sa, 0, sizeof sa);
    msg.msg_name = &sa;
    msg.msg_namelen = sizeof sa;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n;
    do {
        /* MSG_DONTWAIT: the datagram peeked at is there; never block here. */
        n = recvmsg(fd, &msg, (flags & ~(MSG_PEEK | MSG_TRUNC)) | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return posix_errno(env, errno);
    if (msg.msg_flags & MSG_TRUNC) return posix_errno(env, EMSGSIZE);
    if (n != size) {
        /* A different (smaller) datagram than the one peeked at: hand out its bytes. */
        void *copy = NULL;
        napi_value shorter;
        POSIX_CHECK(env, napi_create_buffer_copy(env, (size_t) n, data, &copy, &shorter));
        buffer = shorter;
    }
    POSIX_CHECK(env, napi_create_array_with_length(env, 3, &result));
    POSIX_CHECK(env, napi_set_element(env, result, 0, buffer));
    POSIX_CHECK(env, napi_set_element(env, result, 1, posix_int(env, sa.nl_pid)));
    POSIX_CHECK(env, napi_set_element(env, result, 2, posix_int(env, sa.nl_groups)));
    return result;
}

/* close(fd) -> 0 or -errno. */
static napi_value do_close(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    int32_t fd;
    if (!posix_get_args(env, info, 1, argv) || !posix_get_int32(env, argv[0], &fd)) return NULL;
    return close(fd) < 0 ? posix_errno(env, errno) : posix_int(env, 0);
}

#define FN(name, fn) { name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL }
#define CONST(name) { #name, NULL, NULL, NULL, NULL, posix_int(env, name), napi_enumerable, NULL }

napi_value posix_netlink_init(napi_env env, napi_value exports)
{
    napi_value consts;
    if (napi_create_object(env, &consts) != napi_ok) return NULL;
    napi_property_descriptor c[] = {
        CONST(AF_NETLINK), CONST(SOCK_RAW), CONST(SOCK_DGRAM), CONST(SOCK_CLOEXEC), CONST(SOCK_NONBLOCK),
        CONST(SOL_SOCKET), CONST(SO_RCVBUF), CONST(SO_RCVBUFFORCE), CONST(SO_SNDBUF), CONST(SO_SNDBUFFORCE), CONST(SO_ERROR),
        CONST(SOL_NETLINK), CONST(NETLINK_ADD_MEMBERSHIP), CONST(NETLINK_DROP_MEMBERSHIP), CONST(NETLINK_PKTINFO),
        CONST(NETLINK_BROADCAST_ERROR), CONST(NETLINK_NO_ENOBUFS), CONST(NETLINK_LISTEN_ALL_NSID), CONST(NETLINK_CAP_ACK),
        CONST(NETLINK_EXT_ACK), CONST(NETLINK_GET_STRICT_CHK),
        CONST(MSG_PEEK), CONST(MSG_TRUNC), CONST(MSG_DONTWAIT),
    };
    if (napi_define_properties(env, consts, sizeof c / sizeof c[0], c) != napi_ok) return NULL;
    if (napi_object_freeze(env, consts) != napi_ok) return NULL;
    napi_property_descriptor props[] = {
        FN("socket", do_socket), FN("bind", do_bind), FN("connect", do_connect), FN("getsockname", do_getsockname),
        FN("setsockoptInt", do_setsockopt), FN("getsockoptInt", do_getsockopt), FN("sendto", do_sendto), FN("recv", do_recv),
        FN("close", do_close),
        { "consts", NULL, NULL, NULL, NULL, consts, napi_enumerable, NULL },
    };
    if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
    return exports;
}
