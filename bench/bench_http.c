/*
 * bench_http.c - what the HTTP server costs a running agent: N dashboard clients on the
 * event stream and a Prometheus scrape of every point every 15 s, against the same agent
 * idle. The agent runs as its own process (`dcmetrics run`), so its CPU time and memory
 * are read from /proc without the clients' share.
 *
 * Usage: bench_http DCMETRICS [--instances N] [--clients C] [--seconds S] [--points]
 *   --instances N  sim collectors of 64 GPU nodes, 152 points each (default 66: 10,032
 *                  points, each read once a second)
 *   --clients C    event-stream clients (default 50), connected as the live page does
 *                  (?window=all&points=0&alerts=1); --points: with point events too
 *   --seconds S    length of the idle and of the loaded phase (default 60)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"

#define MAX_CLIENTS 128
#define SCRAPE_EVERY_S 15

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* GET path; returns the status (0: no answer) and the body's size; *body (optional) gets
 * the whole response, malloc'd. */
static int http_get(int port, const char *path, size_t *size, char **body)
{
    int fd = connect_to(port);
    if (fd < 0)
        return 0;
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return 0;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            break;
        if (len + 4096 > cap) {
            char *g = realloc(buf, cap * 2);
            if (!g) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = g;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (!buf)
        return 0;
    buf[len] = '\0';
    int status = 0;
    sscanf(buf, "HTTP/1.%*d %d", &status);
    char *sep = strstr(buf, "\r\n\r\n");
    *size = sep ? len - (size_t)(sep + 4 - buf) : 0;
    if (body)
        *body = buf;
    else
        free(buf);
    return status;
}

static bool proc_usage(pid_t pid, double *cpu_s, long *rss_kb, long *hwm_kb)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return false;
    *cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (!(f = fopen(path, "r")))
        return false;
    while (fgets(buf, sizeof buf, f)) {
        sscanf(buf, "VmRSS: %ld", rss_kb);
        sscanf(buf, "VmHWM: %ld", hwm_kb);
    }
    fclose(f);
    return true;
}

typedef struct stream_stats {
    int fds[MAX_CLIENTS];
    int count;
    atomic_bool stop;
    atomic_ullong bytes, events, closed;
} stream_stats;

/* Reads every stream; counts bytes and events ("\n\n" ends one, pings included). */
static void *reader(void *arg)
{
    stream_stats *ss = arg;
    struct pollfd pfd[MAX_CLIENTS];
    char buf[65536], last[MAX_CLIENTS] = {0};
    for (int i = 0; i < ss->count; i++)
        pfd[i] = (struct pollfd){.fd = ss->fds[i], .events = POLLIN};
    while (!atomic_load(&ss->stop)) {
        if (poll(pfd, (nfds_t)ss->count, 200) <= 0)
            continue;
        for (int i = 0; i < ss->count; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = read(pfd[i].fd, buf, sizeof buf);
            if (r <= 0) {
                pfd[i].fd = -1;
                atomic_fetch_add(&ss->closed, 1);
                continue;
            }
            atomic_fetch_add(&ss->bytes, (unsigned long long)r);
            for (ssize_t k = 0; k < r; k++) {
                if (buf[k] == '\n' && last[i] == '\n')
                    atomic_fetch_add(&ss->events, 1);
                last[i] = buf[k];
            }
        }
    }
    return NULL;
}

static double metric(const char *text, const char *name)
{
    const char *p = text;
    size_t n = strlen(name);
    while ((p = strstr(p, name)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p += n;
    }
    return -1;
}

int main(int argc, char **argv)
{
    int instances = 66, clients = 50, seconds = 60, rc = 1;
    bool with_points = false;
    if (argc < 2) {
        fprintf(stderr, "usage: bench_http DCMETRICS [--instances N] [--clients C] "
                        "[--seconds S] [--points]\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--instances") == 0 && i + 1 < argc)
            instances = atoi(argv[++i]);
        else if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc)
            clients = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--points") == 0)
            with_points = true;
        else {
            fprintf(stderr, "bench_http: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (instances < 1 || clients < 0 || clients > MAX_CLIENTS || seconds < 15) {
        fprintf(stderr, "bench_http: 1+ instances, 0..%d clients, 15+ seconds\n", MAX_CLIENTS);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0); /* each phase's line as soon as it is measured */
    char dir[256], cfg[300], state[300], errlog[300];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/dcm-bench-http-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(cfg, sizeof cfg, "%s/bench.yaml", dir);
    snprintf(state, sizeof state, "%s/state", dir);
    snprintf(errlog, sizeof errlog, "%s/agent.err", dir);

    /* A free port: bind 0, read it back, release it for the agent. */
    int probe = socket(AF_INET, SOCK_STREAM, 0), port = 0;
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t al = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (probe >= 0 && bind(probe, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(probe, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    if (probe >= 0)
        close(probe);
    FILE *f = fopen(cfg, "w");
    if (!f || !port) {
        fprintf(stderr, "bench_http: cannot prepare %s\n", dir);
        goto out;
    }
    fprintf(f, "agent: {site: bench, interval: 1s, log_level: warn}\ncollectors:\n");
    for (int i = 0; i < instances; i++)
        fprintf(f, "  - {name: h%d, type: sim, seed: %d, nodes: 64, step: 10s}\n", i, i + 1);
    fprintf(f, "site:\n  timezone: UTC\n  pue_category: 2\n  roles:\n"
               "    total: [\"h*.total.energy\"]\n    it: [\"h*.it.*.energy\"]\n"
               "    cooling: [\"h*.cooling.*.energy\"]\n    servers: [\"h*.servers.*.cpu\"]\n"
               "    accelerators: [\"h*.gpus.*.util\"]\n"
               "outputs:\n  http: {listen: \"127.0.0.1:%d\"}\n", port);
    fclose(f);

    pid_t pid = fork();
    if (pid == 0) {
        FILE *e = freopen(errlog, "w", stderr);
        (void)e;
        execl(argv[1], argv[1], "run", "-c", cfg, "--state-dir", state, (char *)NULL);
        _exit(127);
    }
    if (pid < 0)
        goto out;
    size_t size = 0;
    double t0 = now_s();
    while (http_get(port, "/readyz", &size, NULL) != 200) {
        if (now_s() - t0 > 30 || waitpid(pid, NULL, WNOHANG) == pid) {
            fprintf(stderr, "bench_http: the agent did not become ready (see %s)\n", errlog);
            goto stop;
        }
        usleep(100000);
    }
    /* Every instance declares its points at its first poll: let them all arrive. */
    sleep(10);
    char *body = NULL;
    http_get(port, "/metrics", &size, &body);
    int series = 0;
    for (char *p = body; p && (p = strstr(p, "\ndcm_point_value{")) != NULL; p++)
        series++;
    free(body);
    printf("agent: %d sim instances, %d dcm_point_value series, /metrics %zu bytes\n",
           instances, series, size);

    double c0, c1, c2;
    long rss0 = 0, rss1 = 0, rss2 = 0, hwm = 0;
    proc_usage(pid, &c0, &rss0, &hwm);
    t0 = now_s();
    sleep((unsigned)seconds);
    proc_usage(pid, &c1, &rss1, &hwm);
    double t1 = now_s();
    double idle = (c1 - c0) / (t1 - t0) * 100.0;
    long rss_idle = rss1;
    printf("idle:   CPU %.1f%% of one core, RSS %.1f MiB\n", idle, rss1 / 1024.0);

    stream_stats ss = {.count = 0};
    char path[128];
    snprintf(path, sizeof path, "/api/v1/events?window=all&points=%d&alerts=1", with_points);
    for (int i = 0; i < clients; i++) {
        int fd = connect_to(port);
        char req[256];
        int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", path);
        if (fd < 0 || write(fd, req, (size_t)n) != n) {
            fprintf(stderr, "bench_http: client %d cannot connect\n", i);
            if (fd >= 0)
                close(fd);
            continue;
        }
        ss.fds[ss.count++] = fd;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, reader, &ss) != 0)
        goto stop;
    double lat_min = 1e9, lat_max = 0, lat_sum = 0, dropped = 0;
    int scrapes = 0;
    size_t scrape_bytes = 0;
    t1 = now_s();
    proc_usage(pid, &c1, &rss1, &hwm);
    while (now_s() - t1 < seconds) {
        double s0 = now_s();
        body = NULL;
        int st = http_get(port, "/metrics", &scrape_bytes, &body);
        double lat = now_s() - s0;
        if (st == 200) {
            scrapes++;
            lat_sum += lat;
            lat_min = lat < lat_min ? lat : lat_min;
            lat_max = lat > lat_max ? lat : lat_max;
            dropped = metric(body, "dcm_http_events_dropped_total");
        }
        free(body);
        double left = SCRAPE_EVERY_S - (now_s() - s0);
        if (left > 0 && now_s() - t1 + left < seconds)
            usleep((useconds_t)(left * 1e6));
        else if (left > 0)
            usleep((useconds_t)((seconds - (now_s() - t1)) * 1e6));
    }
    proc_usage(pid, &c2, &rss2, &hwm);
    double t2 = now_s();
    atomic_store(&ss.stop, true);
    pthread_join(th, NULL);
    double loaded = (c2 - c1) / (t2 - t1) * 100.0;
    printf("loaded: CPU %.1f%% of one core (+%.1f%%), RSS %.1f MiB (+%.1f MiB), peak RSS %.1f "
           "MiB\n", loaded, loaded - idle, rss2 / 1024.0, (rss2 - rss_idle) / 1024.0,
           hwm / 1024.0);
    printf("        %d clients%s: %.1f events and %.1f KiB per client per second, %llu "
           "closed, %.0f events dropped\n", ss.count, with_points ? " (with points)" : "",
           (double)atomic_load(&ss.events) / (ss.count ? ss.count : 1) / (t2 - t1),
           (double)atomic_load(&ss.bytes) / 1024.0 / (ss.count ? ss.count : 1) / (t2 - t1),
           (unsigned long long)atomic_load(&ss.closed), dropped);
    if (scrapes)
        printf("        %d scrapes of %zu bytes: %.1f ms mean, %.1f to %.1f ms\n", scrapes,
               scrape_bytes, lat_sum / scrapes * 1e3, lat_min * 1e3, lat_max * 1e3);
    for (int i = 0; i < ss.count; i++)
        close(ss.fds[i]);
    rc = scrapes > 0 ? 0 : 1;
stop:
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
out:
    dcm_remove_tree(dir);
    return rc;
}
