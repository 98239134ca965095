/* The floor for the bus benchmarks: bare libzmq over loopback TCP, no broker, no JSON.
 *   bare-zmq thr N      one PUB binds, one SUB connects; N 16-byte messages (after a warm-up); prints msgs/s
 *   bare-zmq rtt N      ping-pong over two PUB/SUB pairs; prints p50/p99/max round trip in microseconds
 *   bare-zmq proxy N    PUB -> zmq_proxy(XSUB, XPUB) -> SUB, one context each, no capture: libzmq's own broker
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static int compare(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

static void *ctx;
static long count;

static void *echo(void *arg) {
    (void)arg;
    void *sub = zmq_socket(ctx, ZMQ_SUB), *pub = zmq_socket(ctx, ZMQ_PUB);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    zmq_connect(sub, "tcp://127.0.0.1:47001");
    zmq_connect(pub, "tcp://127.0.0.1:47002");
    char buffer[64];
    for (;;) {
        int n = zmq_recv(sub, buffer, sizeof buffer, 0);
        if (n < 0) break;
        zmq_send(pub, buffer, n, 0);
        if (n == 4 && memcmp(buffer, "stop", 4) == 0) break;
    }
    zmq_close(sub); zmq_close(pub);
    return NULL;
}

static void *proxy(void *arg) {
    void *context = arg;
    void *xsub = zmq_socket(context, ZMQ_XSUB), *xpub = zmq_socket(context, ZMQ_XPUB);
    int hwm = 0;
    zmq_setsockopt(xsub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(xpub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_bind(xsub, "tcp://127.0.0.1:47003");
    zmq_bind(xpub, "tcp://127.0.0.1:47004");
    zmq_proxy(xsub, xpub, NULL);  /* returns when the context terminates */
    zmq_close(xsub); zmq_close(xpub);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: bare-zmq thr|rtt N\n"); return 2; }
    count = atol(argv[2]);
    ctx = zmq_ctx_new();
    char payload[16] = "0123456789abcdef";
    if (strcmp(argv[1], "thr") == 0) {
        void *pub = zmq_socket(ctx, ZMQ_PUB), *sub = zmq_socket(ctx, ZMQ_SUB);
        int hwm = 0;  /* unbounded, so nothing is dropped and the count is exact */
        zmq_setsockopt(pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
        zmq_bind(pub, "tcp://127.0.0.1:47000");
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
        zmq_connect(sub, "tcp://127.0.0.1:47000");
        char buffer[64];
        for (;;) { zmq_send(pub, "warm", 4, 0); usleep(1000); if (zmq_recv(sub, buffer, sizeof buffer, ZMQ_DONTWAIT) >= 0) break; }
        while (zmq_recv(sub, buffer, sizeof buffer, ZMQ_DONTWAIT) >= 0) {}
        double start = now();
        for (long k = 0; k < count; k++) { zmq_send(pub, "bench", 5, ZMQ_SNDMORE); zmq_send(pub, payload, 16, 0); }
        for (long k = 0; k < count; k++) { zmq_recv(sub, buffer, sizeof buffer, 0); zmq_recv(sub, buffer, sizeof buffer, 0); }
        double elapsed = now() - start;
        printf("bare-thr %.0f msgs/s\n", count / elapsed);
        zmq_close(pub); zmq_close(sub);
    } else if (strcmp(argv[1], "proxy") == 0) {
        void *proxy_context = zmq_ctx_new(), *sub_context = zmq_ctx_new();
        pthread_t thread;
        pthread_create(&thread, NULL, proxy, proxy_context);
        void *pub = zmq_socket(ctx, ZMQ_PUB), *sub = zmq_socket(sub_context, ZMQ_SUB);
        int hwm = 0;
        zmq_setsockopt(pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
        zmq_connect(pub, "tcp://127.0.0.1:47003");
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
        zmq_connect(sub, "tcp://127.0.0.1:47004");
        char buffer[64];
        for (;;) { zmq_send(pub, "warm", 4, 0); usleep(1000); if (zmq_recv(sub, buffer, sizeof buffer, ZMQ_DONTWAIT) >= 0) break; }
        usleep(50000);
        while (zmq_recv(sub, buffer, sizeof buffer, ZMQ_DONTWAIT) >= 0) {}
        double start = now();
        for (long k = 0; k < count; k++) { zmq_send(pub, "bench", 5, ZMQ_SNDMORE); zmq_send(pub, payload, 16, 0); }
        for (long k = 0; k < count; k++) { zmq_recv(sub, buffer, sizeof buffer, 0); zmq_recv(sub, buffer, sizeof buffer, 0); }
        printf("bare-proxy %.0f msgs/s\n", count / (now() - start));
        zmq_close(pub); zmq_close(sub);
        zmq_ctx_term(sub_context);
        zmq_ctx_shutdown(proxy_context);
        pthread_join(thread, NULL);
        zmq_ctx_term(proxy_context);
    } else {
        void *pub = zmq_socket(ctx, ZMQ_PUB), *sub = zmq_socket(ctx, ZMQ_SUB);
        zmq_bind(pub, "tcp://127.0.0.1:47001");
        zmq_bind(sub, "tcp://127.0.0.1:47002");
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
        pthread_t thread;
        pthread_create(&thread, NULL, echo, NULL);
        char buffer[64];
        /* join: ping until the echo comes back */
        for (;;) { zmq_send(pub, "ping", 4, 0); if (zmq_recv(sub, buffer, sizeof buffer, ZMQ_DONTWAIT) >= 0) break; usleep(10000); }
        usleep(50000);
        while (zmq_recv(sub, buffer, sizeof buffer, ZMQ_DONTWAIT) >= 0) {}
        double *rtt = malloc(sizeof(double) * count);
        for (long k = 0; k < count; k++) {
            double start = now();
            zmq_send(pub, payload, 16, 0);
            zmq_recv(sub, buffer, sizeof buffer, 0);
            rtt[k] = (now() - start) * 1e6;
        }
        zmq_send(pub, "stop", 4, 0);
        pthread_join(thread, NULL);
        qsort(rtt, count, sizeof(double), compare);
        printf("bare-rtt p50 %.1f us p99 %.1f us max %.1f us\n", rtt[count / 2], rtt[count * 99 / 100], rtt[count - 1]);
        zmq_close(pub); zmq_close(sub);
    }
    zmq_ctx_term(ctx);
    return 0;
}
