/* threads.c — a fork-join pool for the forward pass (bl_pool_new, lent by bl_ctx_set_pool).

   bl_pool_run(p, tasks, fn, arg) runs fn(arg, i) for i = 0..tasks-1 on the pool's threads and
   the caller, and returns when all are done. The forward splits work so that every output is
   computed by exactly one task in the same way as without threads (tokens for the linear
   layers, heads for attention), so results are bit-identical for any thread count.

   Threads exist where the build has them: natively (pthreads) and in the WebAssembly build made
   with -pthread (web/wasm.cmake's bertlens_core_mt, used when the page is cross-origin
   isolated). Elsewhere bl_pool_new(n > 1) fails and bl_pool_run runs the tasks in order.
   In WebAssembly the caller blocks in a Web Worker (never the browser's main thread), where
   waiting on a futex is allowed. */
#include "base/internal.h"
#include <stdlib.h>

#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define BL_NO_THREADS 1
#endif

#ifndef BL_NO_THREADS
#include <pthread.h>
#endif

struct bl_pool {
    int threads;                  /* including the caller */
#ifndef BL_NO_THREADS
    pthread_t *tid;               /* [threads - 1] */
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    unsigned long generation;     /* bumped for every bl_pool_run */
    int stop;
    /* the current job */
    void (*fn)(void *arg, int task);
    void *arg;
    int tasks, next, running;     /* next task to hand out; workers still busy */
#endif
};

#ifndef BL_NO_THREADS
/* Takes tasks until none are left; called with mu held, returns with it held. */
static void bl_pool_drain(bl_pool *p) {
    while (p->next < p->tasks) {
        const int t = p->next++;
        pthread_mutex_unlock(&p->mu);
        p->fn(p->arg, t);
        pthread_mutex_lock(&p->mu);
    }
}

static void *bl_pool_worker(void *arg) {
    bl_pool *p = arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen) pthread_cond_wait(&p->start, &p->mu);
        if (p->stop) break;
        seen = p->generation;
        p->running++;
        bl_pool_drain(p);
        if (--p->running == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}
#endif

bl_pool *bl_pool_new(int threads, bl_err *e) {
    if (threads < 1 || threads > BL_MAX_THREADS) {
        bl_fail(e, "threads: %d is out of range (1..%d)", threads, BL_MAX_THREADS);
        return NULL;
    }
#ifdef BL_NO_THREADS
    if (threads > 1) {
        bl_fail(e, "threads: this build has no thread support (the page uses threads only when "
                   "it is served cross-origin isolated)");
        return NULL;
    }
#endif
    bl_pool *p = calloc(1, sizeof *p);
    if (!p) { bl_fail(e, "threads: out of memory"); return NULL; }
    p->threads = threads;
#ifndef BL_NO_THREADS
    if (threads == 1) return p;
    p->tid = calloc((size_t)threads - 1, sizeof *p->tid);
    if (!p->tid || pthread_mutex_init(&p->mu, NULL) || pthread_cond_init(&p->start, NULL) ||
        pthread_cond_init(&p->done, NULL)) {
        free(p->tid); free(p);
        bl_fail(e, "threads: out of memory");
        return NULL;
    }
    for (int i = 0; i < threads - 1; i++) {
        if (pthread_create(&p->tid[i], NULL, bl_pool_worker, p) != 0) {
            p->threads = i + 1;   /* the ones started, for bl_pool_free */
            bl_pool_free(p);
            bl_fail(e, "threads: could not start thread %d of %d", i + 2, threads);
            return NULL;
        }
    }
#endif
    return p;
}

void bl_pool_free(bl_pool *p) {
    if (!p) return;
#ifndef BL_NO_THREADS
    if (p->tid) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_broadcast(&p->start);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < p->threads - 1; i++) pthread_join(p->tid[i], NULL);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->start);
        pthread_cond_destroy(&p->done);
        free(p->tid);
    }
#endif
    free(p);
}

int bl_pool_size(const bl_pool *p) { return p ? p->threads : 1; }

int bl_pool_supported(void) {
#ifdef BL_NO_THREADS
    return 0;
#else
    return 1;
#endif
}

void bl_pool_run(bl_pool *p, int tasks, void (*fn)(void *arg, int task), void *arg) {
#ifndef BL_NO_THREADS
    if (p && p->tid && tasks > 1) {
        pthread_mutex_lock(&p->mu);
        p->fn = fn; p->arg = arg; p->tasks = tasks; p->next = 0;
        p->generation++;
        pthread_cond_broadcast(&p->start);
        bl_pool_drain(p);
        while (p->running > 0 || p->next < p->tasks) pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
        return;
    }
#endif
    (void)p;
    for (int t = 0; t < tasks; t++) fn(arg, t);
}
