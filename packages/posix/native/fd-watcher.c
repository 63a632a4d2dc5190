/* FdWatcher: readiness of one fd without blocking the event loop and without
 * holding a libuv threadpool thread. Each watcher owns a small thread that
 * poll()s the fd, together with an eventfd through which the event loop
 * wakes it. JS "arms" the watcher when it wants to know the fd is readable
 * (POLLIN, or POLLERR: a pending socket error such as ENOBUFS); the thread
 * then polls the fd, disarms itself at the first event and reports it to
 * JS through a napi_threadsafe_function. The thread reads nothing: the
 * datagrams stay in the kernel's receive queue until JS reads them (so the
 * kernel's SO_RCVBUF accounting and its ENOBUFS are as for a C program).
 *
 * Lifetime: stop() (or the GC of the watcher, or the environment's teardown,
 * which finalizes the threadsafe function) wakes the thread and joins it.
 * The memory is freed once both the JS external and the threadsafe function
 * are finalized. */
#include "posix.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct watcher {
    int fd;
    int efd;
    pthread_t thread;
    bool thread_running;          /* main thread: created and not joined yet */
    atomic_bool armed;            /* poll fd (set by JS, cleared by the thread on an event or by JS) */
    atomic_bool stopping;         /* the thread must exit */
    atomic_bool tsfn_finalizing;  /* the thread must exit without touching tsfn */
    bool stopped;                 /* main thread: stop() done, tsfn no longer usable from JS */
    bool external_gone;
    bool tsfn_gone;
    napi_threadsafe_function tsfn;
};

static void wake(struct watcher *w)
{
    uint64_t one = 1;
    ssize_t n;
    do {
        n = write(w->efd, &one, sizeof one);
    } while (n < 0 && errno == EINTR);
}

static void *thread_main(void *arg)
{
    struct watcher *w = arg;
    for (;;) {
        struct pollfd fds[2] = {
            { .fd = w->efd, .events = POLLIN },
            { .fd = atomic_load(&w->armed) ? w->fd : -1, .events = POLLIN },
        };
        int n = poll(fds, 2, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            break; /* cannot happen with valid fds: stop watching */
        }
        if (fds[0].revents) {
            uint64_t count;
            ssize_t r = read(w->efd, &count, sizeof count);
            (void) r;
        }
        if (atomic_load(&w->stopping)) break;
        short revents = fds[1].revents;
        if (revents && atomic_exchange(&w->armed, false)) {
            if (napi_call_threadsafe_function(w->tsfn, (void *) (intptr_t) revents, napi_tsfn_nonblocking) == napi_closing) break;
        }
    }
    if (!atomic_load(&w->tsfn_finalizing)) napi_release_threadsafe_function(w->tsfn, napi_tsfn_release);
    return NULL;
}

/* Main thread: make the thread exit and wait for it. */
static void join_thread(struct watcher *w)
{
    if (!w->thread_running) return;
    atomic_store(&w->stopping, true);
    wake(w);
    pthread_join(w->thread, NULL);
    w->thread_running = false;
}

static void maybe_free(struct watcher *w)
{
    if (!w->external_gone || !w->tsfn_gone) return;
    close(w->efd);
    free(w);
}

/* On the event loop: hand the event to the JS callback, unless stopped since. */
static void call_js(napi_env env, napi_value js_cb, void *context, void *data)
{
    struct watcher *w = context;
    if (env == NULL || js_cb == NULL || w->stopped) return;
    napi_value undefined, argv[1];
    napi_get_undefined(env, &undefined);
    argv[0] = posix_int(env, (int64_t) (intptr_t) data);
    napi_call_function(env, undefined, js_cb, 1, argv, NULL);
    /* An exception the callback threw is left pending: Node reports it as uncaught. */
}

static void tsfn_finalize(napi_env env, void *data, void *hint)
{
    struct watcher *w = data;
    if (w->thread_running) {
        /* The environment is going (or the function closed) with the thread still polling. */
        atomic_store(&w->tsfn_finalizing, true);
        join_thread(w);
    }
    w->stopped = true;
    w->tsfn_gone = true;
    maybe_free(w);
}

static void stop(struct watcher *w)
{
    if (w->stopped) return;
    w->stopped = true;
    join_thread(w); /* the thread releases the threadsafe function as it exits: tsfn_finalize follows */
}

static void external_finalize(napi_env env, void *data, void *hint)
{
    struct watcher *w = data;
    stop(w);
    w->external_gone = true;
    maybe_free(w);
}

/* watch(fd, onReady(revents)) -> an external for the other calls, or -errno. Unreferenced to begin with. */
static napi_value do_watch(napi_env env, napi_callback_info info)
{
    napi_value argv[2], name, external;
    int32_t fd;
    napi_valuetype t;
    if (!posix_get_args(env, info, 2, argv) || !posix_get_int32(env, argv[0], &fd)) return NULL;
    POSIX_CHECK(env, napi_typeof(env, argv[1], &t));
    if (t != napi_function) {
        napi_throw_type_error(env, NULL, "@ovs/posix: watch() takes a callback");
        return NULL;
    }
    struct watcher *w = calloc(1, sizeof *w);
    if (w == NULL) return posix_errno(env, ENOMEM);
    w->fd = fd;
    w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->efd < 0) {
        int err = errno;
        free(w);
        return posix_errno(env, err);
    }
    atomic_init(&w->armed, false);
    atomic_init(&w->stopping, false);
    atomic_init(&w->tsfn_finalizing, false);
    napi_create_string_utf8(env, "@ovs/posix fd watcher", NAPI_AUTO_LENGTH, &name);
    if (napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, w, tsfn_finalize, w, call_js, &w->tsfn) != napi_ok) {
        close(w->efd);
        free(w);
        posix_throw_last(env);
        return NULL;
    }
    napi_unref_threadsafe_function(env, w->tsfn);
    int err = pthread_create(&w->thread, NULL, thread_main, w);
    if (err != 0) {
        /* No thread: release the function ourselves; its finalizer frees w once the external goes. */
        w->stopped = true;
        napi_release_threadsafe_function(w->tsfn, napi_tsfn_release);
        w->external_gone = true; /* no external will be made */
        return posix_errno(env, err);
    }
    w->thread_running = true;
    if (napi_create_external(env, w, external_finalize, NULL, &external) != napi_ok) {
        stop(w);
        w->external_gone = true;
        posix_throw_last(env);
        return NULL;
    }
    return external;
}

static struct watcher *get_watcher(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    napi_valuetype t;
    void *data = NULL;
    if (!posix_get_args(env, info, 1, argv)) return NULL;
    if (napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external || napi_get_value_external(env, argv[0], &data) != napi_ok) {
        napi_throw_type_error(env, NULL, "@ovs/posix: not a watcher");
        return NULL;
    }
    return data;
}

#define WATCHER_FN(fn_name, body)                                     \
    static napi_value fn_name(napi_env env, napi_callback_info info)  \
    {                                                                 \
        struct watcher *w = get_watcher(env, info);                   \
        if (w == NULL) return NULL;                                   \
        if (!w->stopped) { body; }                                    \
        return posix_int(env, 0);                                     \
    }

WATCHER_FN(do_arm, if (!atomic_exchange(&w->armed, true)) wake(w))
WATCHER_FN(do_disarm, atomic_store(&w->armed, false))
WATCHER_FN(do_ref, napi_ref_threadsafe_function(env, w->tsfn))
WATCHER_FN(do_unref, napi_unref_threadsafe_function(env, w->tsfn))
WATCHER_FN(do_stop, stop(w))

napi_value posix_fd_watcher_init(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        { "watch", NULL, do_watch, NULL, NULL, NULL, napi_enumerable, NULL },
        { "watchArm", NULL, do_arm, NULL, NULL, NULL, napi_enumerable, NULL },
        { "watchDisarm", NULL, do_disarm, NULL, NULL, NULL, napi_enumerable, NULL },
        { "watchRef", NULL, do_ref, NULL, NULL, NULL, napi_enumerable, NULL },
        { "watchUnref", NULL, do_unref, NULL, NULL, NULL, napi_enumerable, NULL },
        { "watchStop", NULL, do_stop, NULL, NULL, NULL, napi_enumerable, NULL },
    };
    if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
    return exports;
}
