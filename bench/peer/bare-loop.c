/*
 * The bare loop the stack-overhead benchmark compares posbridge with (docs/performance.md §2):
 * STATUS round trips on a serial port with nothing between the program and the kernel but
 * write(2), poll(2) and read(2). It opens the port as posbridge does (non-blocking, flock, raw
 * 8N1), sends the same bytes (`@ID STATUS *CRC` CRLF, IDs counting up, CRC-16/CCITT-FALSE) and
 * waits for the line that answers that ID.
 *
 *   bare-loop PATH WARMUP
 *
 * Opens PATH, does WARMUP round trips, prints `warm` and waits for a line on stdin: `go MS`
 * measures for MS milliseconds and prints one JSON line {"count","elapsedMs","cpuUs"} (cpuUs: this
 * process's user + system CPU during the window); `quit` (or end of input) exits. Exit status 1
 * with a message on stderr if the port cannot be opened or a reply is not an OK.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int fd = -1;
static char in[4096];
static size_t have = 0;

static void die(const char *what) {
  fprintf(stderr, "bare-loop: %s: %s\n", what, strerror(errno));
  exit(1);
}

static uint16_t crc16(const char *s, size_t n) {
  uint16_t crc = 0xffff;
  for (size_t i = 0; i < n; i++) {
    crc ^= (uint16_t)((unsigned char)s[i]) << 8;
    for (int b = 0; b < 8; b++) crc = crc & 0x8000 ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
  }
  return crc;
}

static void wait_for(short events) {
  struct pollfd p = {.fd = fd, .events = events};
  while (poll(&p, 1, -1) < 0)
    if (errno != EINTR) die("poll");
  if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) {
    fprintf(stderr, "bare-loop: the port hung up\n");
    exit(1);
  }
}

static void send_all(const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        wait_for(POLLOUT);
        continue;
      }
      die("write");
    }
    s += w;
    n -= (size_t)w;
  }
}

/* Reads until a whole line starting with `@id ` has arrived; other lines are skipped. */
static void await_reply(const char *prefix, size_t prefix_len) {
  for (;;) {
    char *end;
    while ((end = memchr(in, '\n', have)) != NULL) {
      size_t len = (size_t)(end - in) + 1;
      int ours = len > prefix_len && memcmp(in, prefix, prefix_len) == 0;
      if (ours && strncmp(in + prefix_len, "OK", 2) != 0) {
        fprintf(stderr, "bare-loop: not an OK: %.*s\n", (int)len, in);
        exit(1);
      }
      memmove(in, end + 1, have - len);
      have -= len;
      if (ours) return;
    }
    if (have == sizeof in) have = 0; /* a line longer than TSP/1 allows: drop it */
    ssize_t r = read(fd, in + have, sizeof in - have);
    if (r > 0) {
      have += (size_t)r;
    } else if (r == 0) {
      fprintf(stderr, "bare-loop: read returned 0 bytes (hang-up)\n");
      exit(1);
    } else if (errno == EAGAIN || errno == EINTR) {
      wait_for(POLLIN);
    } else {
      die("read");
    }
  }
}

static unsigned long next_id = 1;

static void round_trip(void) {
  char line[64], prefix[16];
  int body = snprintf(line, sizeof line, "@%lu STATUS", next_id);
  int n = body + snprintf(line + body, sizeof line - (size_t)body, " *%04X\r\n", crc16(line, (size_t)body));
  int p = snprintf(prefix, sizeof prefix, "@%lu ", next_id);
  next_id = next_id >= 99999999 ? 1 : next_id + 1;
  send_all(line, (size_t)n);
  await_reply(prefix, (size_t)p);
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double cpu_us(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: bare-loop PATH WARMUP\n");
    return 2;
  }
  fd = open(argv[1], O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) die(argv[1]);
  if (flock(fd, LOCK_EX | LOCK_NB) < 0) die("flock");
  struct termios t;
  if (tcgetattr(fd, &t) < 0) die("tcgetattr");
  cfmakeraw(&t);
  t.c_cflag |= CLOCAL | CREAD;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  cfsetispeed(&t, B115200);
  cfsetospeed(&t, B115200);
  if (tcsetattr(fd, TCSANOW, &t) < 0) die("tcsetattr");

  long warmup = strtol(argv[2], NULL, 10);
  for (long i = 0; i < warmup; i++) round_trip();
  printf("warm\n");
  fflush(stdout);

  char command[64];
  while (fgets(command, sizeof command, stdin) != NULL) {
    double window;
    if (sscanf(command, "go %lf", &window) != 1) break;
    double cpu0 = cpu_us(), t0 = now_ms(), elapsed;
    long count = 0;
    do {
      /* 50 at a time between clock reads, as the posbridge side does. */
      for (int i = 0; i < 50; i++) round_trip();
      count += 50;
      elapsed = now_ms() - t0;
    } while (elapsed < window);
    printf("{\"count\":%ld,\"elapsedMs\":%.3f,\"cpuUs\":%.0f}\n", count, elapsed, cpu_us() - cpu0);
    fflush(stdout);
  }
  close(fd);
  return 0;
}
