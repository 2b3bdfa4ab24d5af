/* warmup.c: runs OpenSSL's one-time set-up (reading the configuration file, loading the
 * default provider, fetching SHA-256) on a helper thread, started as soon as the command
 * line shows that requests will be signed (host.c), so that it overlaps with loading Lua modules
 * and resolving the configuration instead of delaying the first signature. On a one-call process
 * such as `detlua call` this set-up is the largest single cost after loading the shared libraries.
 * The thread does exactly what the first signature would do, behind the same once-guard
 * (dt_crypto_prepare): a caller that gets there first waits for it, and a machine with one core
 * loses only the thread's creation. It starts nothing else and does not touch libcurl or Lua. */
#include "warmup.h"
#include "crypto.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <openssl/crypto.h>

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t s_thread;
static int s_state; /* 0 not started, 1 running or done, -1 could not start */

static void *s_run(void *arg) {
    (void)arg;
    (void)dt_crypto_prepare();
    return NULL;
}

static void s_at_exit(void) {
    dt_warmup_finish();
}

int dt_warmup_start(void) {
    pthread_mutex_lock(&s_lock);
    if (s_state != 0) {
        int rc = s_state > 0 ? 0 : -1;
        pthread_mutex_unlock(&s_lock);
        return rc;
    }
    /* exit() (os.exit in a playbook) may come while the thread is still inside OpenSSL's
     * initialisation. OpenSSL's own atexit clean-up would then free what the thread is
     * using, so it is never registered: the first initialisation call of the process,
     * here and before the thread exists, says so (OPENSSL_INIT_NO_ATEXIT; the process's
     * memory goes away with it anyway). The join registered next runs before the
     * libraries' destructors, which the loader registered before main. */
    s_state = -1;
    if (OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL) == 1 && atexit(s_at_exit) == 0) {
        /* Signals go to the main thread, where the Ctrl-C handler expects them. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        if (pthread_create(&s_thread, NULL, s_run, NULL) == 0) s_state = 1;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    int rc = s_state > 0 ? 0 : -1;
    pthread_mutex_unlock(&s_lock);
    return rc;
}

void dt_warmup_finish(void) {
    pthread_mutex_lock(&s_lock);
    if (s_state > 0) {
        pthread_join(s_thread, NULL);
        s_state = 2; /* joined: never again */
    }
    pthread_mutex_unlock(&s_lock);
}
