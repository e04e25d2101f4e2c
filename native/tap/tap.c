/*
 * weft_tap: the few kernel calls Node cannot make by itself, for the vRouter agent.
 *
 *   openTap(name, flags, netnsPath?)        -> [fd, ifname]   TUNSETIFF IFF_TAP|IFF_NO_PI
 *   openRawIp(protocol, nonBlocking, netnsPath?) -> fd         socket(AF_INET, SOCK_RAW, proto)
 *   setNonBlocking(fd, on)
 *   readBatch(fd, slab, slot, lens)          -> n             up to lens.length read() calls
 *   write(fd, frame)                         -> bytes or 0 on EAGAIN
 *   writeBatch(fd, frames[])                 -> frames written before EAGAIN
 *   sendTo(fd, packet, ipv4U32)              -> bytes or 0 on EAGAIN
 *   sendBatch(fd, packets[], ipv4U32s)       -> packets sent (sendmmsg)
 *   pollStart(fd, callback)                  -> handle        uv_poll readable, level-triggered
 *   pollStop(handle)
 *
 * Why poll + batched non-blocking reads and not fs.read: a TAP is a character device, so libuv
 * can only read it through the threadpool (one blocked worker per reader, one thread hop per
 * frame) and net.Socket refuses it (not a socket). Watching the fd on the event loop and
 * draining it with read() until EAGAIN costs one JS call per burst instead of per frame.
 * Every fd is close-on-exec so `ip`/`ping` children never keep a TAP alive.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#define FLAG_VNET_HDR 1u
#define FLAG_NONBLOCK 2u
#define MAX_BATCH 1024

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  const char *name = strerrorname_np(err);
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, message, error, errnum;
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_throw(env, error);
  return NULL;
}

#define CHECK(call)                                                  \
  do {                                                               \
    if ((call) != napi_ok) {                                         \
      napi_throw_type_error(env, NULL, "weft_tap: bad argument");    \
      return NULL;                                                   \
    }                                                                \
  } while (0)

static int arg_int(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok ? 0 : -1;
}

/* Bytes of a Uint8Array (or Buffer). */
static int arg_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  size_t offset;
  napi_value ab;
  void *p;
  if (napi_get_typedarray_info(env, v, &type, len, &p, &ab, &offset) != napi_ok) return -1;
  if (type != napi_uint8_array) return -1;
  *data = p;
  return 0;
}

/*
 * Runs create() with the calling thread inside the namespace at `path` (when given), so the
 * fd belongs to that namespace for its whole life. setns(CLONE_NEWNET) only moves this thread,
 * and only for the duration of the call.
 */
static int in_netns(const char *path, int (*create)(void *), void *arg, int *err) {
  if (!path) {
    int fd = create(arg);
    if (fd < 0) *err = errno;
    return fd;
  }
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) { *err = errno; return -1; }
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) { *err = errno; close(self); return -1; }
  if (setns(target, CLONE_NEWNET) < 0) { *err = errno; close(target); close(self); return -1; }
  int fd = create(arg);
  if (fd < 0) *err = errno;
  if (setns(self, CLONE_NEWNET) < 0) abort(); /* a Node thread left in the pod's namespace is worse than a crash */
  close(target);
  close(self);
  return fd;
}

struct tap_req { char name[IFNAMSIZ]; uint32_t flags; };

static int create_tap(void *p) {
  struct tap_req *req = p;
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | ((req->flags & FLAG_NONBLOCK) ? O_NONBLOCK : 0));
  if (fd < 0) return -1;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | ((req->flags & FLAG_VNET_HDR) ? IFF_VNET_HDR : 0);
  memcpy(ifr.ifr_name, req->name, IFNAMSIZ);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  memcpy(req->name, ifr.ifr_name, IFNAMSIZ);
  req->name[IFNAMSIZ - 1] = 0;
  return fd;
}

static int opt_path(napi_env env, napi_value v, char *buf, size_t cap, const char **out) {
  napi_valuetype t;
  *out = NULL;
  if (!v) return 0;
  napi_typeof(env, v, &t);
  if (t == napi_undefined || t == napi_null) return 0;
  size_t n;
  if (napi_get_value_string_utf8(env, v, buf, cap, &n) != napi_ok || n >= cap - 1) return -1;
  *out = buf;
  return 0;
}

static napi_value open_tap(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct tap_req req;
  memset(&req, 0, sizeof req);
  size_t n;
  CHECK(napi_get_value_string_utf8(env, argv[0], req.name, IFNAMSIZ, &n));
  int32_t flags;
  if (arg_int(env, argv[1], &flags)) CHECK(napi_invalid_arg);
  req.flags = (uint32_t)flags;
  char pathbuf[512];
  const char *path;
  if (opt_path(env, argc > 2 ? argv[2] : NULL, pathbuf, sizeof pathbuf, &path)) CHECK(napi_invalid_arg);
  int err = 0;
  int fd = in_netns(path, create_tap, &req, &err);
  if (fd < 0) return throw_errno(env, "open TAP", err);
  napi_value out, vfd, vname;
  napi_create_array_with_length(env, 2, &out);
  napi_create_int32(env, fd, &vfd);
  napi_create_string_utf8(env, req.name, NAPI_AUTO_LENGTH, &vname);
  napi_set_element(env, out, 0, vfd);
  napi_set_element(env, out, 1, vname);
  return out;
}

struct raw_req { int protocol; int nonblock; };

/* A raw socket gets no flow control: at tunnel rates the default receive buffer overflows and
 * the kernel answers with ICMP protocol-unreachable. 4 MiB absorbs a burst between two polls;
 * FORCE (we run as root) lifts net.core.rmem_max, the plain option is the fallback. */
#define RAW_RCVBUF (4 << 20)

static int create_raw(void *p) {
  struct raw_req *req = p;
  int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | (req->nonblock ? SOCK_NONBLOCK : 0), req->protocol);
  if (fd >= 0) {
    int size = RAW_RCVBUF;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  return fd;
}

static napi_value open_raw_ip(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct raw_req req;
  bool nb = false;
  if (arg_int(env, argv[0], &req.protocol)) CHECK(napi_invalid_arg);
  CHECK(napi_get_value_bool(env, argv[1], &nb));
  req.nonblock = nb;
  char pathbuf[512];
  const char *path;
  if (opt_path(env, argc > 2 ? argv[2] : NULL, pathbuf, sizeof pathbuf, &path)) CHECK(napi_invalid_arg);
  int err = 0;
  int fd = in_netns(path, create_raw, &req, &err);
  if (fd < 0) return throw_errno(env, "open raw IP socket", err);
  napi_value v;
  napi_create_int32(env, fd, &v);
  return v;
}

static napi_value set_non_blocking(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  bool on;
  if (arg_int(env, argv[0], &fd)) CHECK(napi_invalid_arg);
  CHECK(napi_get_value_bool(env, argv[1], &on));
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK)) < 0) return throw_errno(env, "fcntl", errno);
  return NULL;
}

/* readBatch(fd, slab, slot, lens): frame i lands at slab[i*slot], its length in lens[i]. */
static napi_value read_batch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, slot;
  uint8_t *slab;
  size_t slab_len;
  if (arg_int(env, argv[0], &fd) || arg_bytes(env, argv[1], &slab, &slab_len) || arg_int(env, argv[2], &slot)) CHECK(napi_invalid_arg);
  napi_typedarray_type type;
  size_t nlens, off;
  void *lp;
  napi_value ab;
  CHECK(napi_get_typedarray_info(env, argv[3], &type, &nlens, &lp, &ab, &off));
  if (type != napi_uint32_array || slot <= 0) CHECK(napi_invalid_arg);
  uint32_t *lens = lp;
  size_t max = slab_len / (size_t)slot;
  if (max > nlens) max = nlens;
  size_t n = 0;
  while (n < max) {
    ssize_t r = read(fd, slab + n * (size_t)slot, (size_t)slot);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || n > 0) break; /* report the error on the next call, after the frames */
      return throw_errno(env, "read", errno);
    }
    lens[n++] = (uint32_t)r;
  }
  napi_value v;
  napi_create_uint32(env, (uint32_t)n, &v);
  return v;
}

static napi_value write_one(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  uint8_t *p;
  size_t len;
  if (arg_int(env, argv[0], &fd) || arg_bytes(env, argv[1], &p, &len)) CHECK(napi_invalid_arg);
  ssize_t r;
  do r = write(fd, p, len); while (r < 0 && errno == EINTR);
  if (r < 0 && errno != EAGAIN) return throw_errno(env, "write", errno);
  napi_value v;
  napi_create_uint32(env, r < 0 ? 0 : (uint32_t)r, &v);
  return v;
}

/* One write() per frame: a TAP takes exactly one frame per write, writev would merge them. */
static napi_value write_batch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  uint32_t count;
  if (arg_int(env, argv[0], &fd)) CHECK(napi_invalid_arg);
  CHECK(napi_get_array_length(env, argv[1], &count));
  uint32_t i = 0;
  for (; i < count; i++) {
    napi_value el;
    uint8_t *p;
    size_t len;
    CHECK(napi_get_element(env, argv[1], i, &el));
    if (arg_bytes(env, el, &p, &len)) CHECK(napi_invalid_arg);
    ssize_t r;
    do r = write(fd, p, len); while (r < 0 && errno == EINTR);
    if (r < 0) {
      if (errno == EAGAIN || i > 0) break;
      return throw_errno(env, "write", errno);
    }
  }
  napi_value v;
  napi_create_uint32(env, i, &v);
  return v;
}

static void sin_of(struct sockaddr_in *sa, uint32_t addr) {
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_addr.s_addr = htonl(addr);
}

static napi_value send_to(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  uint8_t *p;
  size_t len;
  uint32_t addr;
  if (arg_int(env, argv[0], &fd) || arg_bytes(env, argv[1], &p, &len)) CHECK(napi_invalid_arg);
  CHECK(napi_get_value_uint32(env, argv[2], &addr));
  struct sockaddr_in sa;
  sin_of(&sa, addr);
  ssize_t r;
  do r = sendto(fd, p, len, 0, (struct sockaddr *)&sa, sizeof sa); while (r < 0 && errno == EINTR);
  if (r < 0 && errno != EAGAIN) return throw_errno(env, "sendto", errno);
  napi_value v;
  napi_create_uint32(env, r < 0 ? 0 : (uint32_t)r, &v);
  return v;
}

static napi_value send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  uint32_t count;
  if (arg_int(env, argv[0], &fd)) CHECK(napi_invalid_arg);
  CHECK(napi_get_array_length(env, argv[1], &count));
  napi_typedarray_type type;
  size_t naddr, off;
  void *ap;
  napi_value ab;
  CHECK(napi_get_typedarray_info(env, argv[2], &type, &naddr, &ap, &ab, &off));
  if (type != napi_uint32_array || naddr < count) CHECK(napi_invalid_arg);
  if (count > MAX_BATCH) count = MAX_BATCH;
  static struct mmsghdr msgs[MAX_BATCH];
  static struct iovec iov[MAX_BATCH];
  static struct sockaddr_in sas[MAX_BATCH];
  const uint32_t *addrs = ap;
  for (uint32_t i = 0; i < count; i++) {
    napi_value el;
    uint8_t *p;
    size_t len;
    CHECK(napi_get_element(env, argv[1], i, &el));
    if (arg_bytes(env, el, &p, &len)) CHECK(napi_invalid_arg);
    sin_of(&sas[i], addrs[i]);
    iov[i].iov_base = p;
    iov[i].iov_len = len;
    memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_name = &sas[i];
    msgs[i].msg_hdr.msg_namelen = sizeof sas[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  uint32_t sent = 0;
  while (sent < count) {
    int r = sendmmsg(fd, msgs + sent, count - sent, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || sent > 0) break;
      return throw_errno(env, "sendmmsg", errno);
    }
    sent += (uint32_t)r;
  }
  napi_value v;
  napi_create_uint32(env, sent, &v);
  return v;
}

/* ---- readiness on the event loop ---- */

struct watcher {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context ctx;
  int stopped;
};

static void on_closed(uv_handle_t *h) { free(h->data); }

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  struct watcher *w = h->data;
  if (w->stopped) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, arg, result;
  napi_get_reference_value(env, w->callback, &cb);
  napi_get_global(env, &recv); /* napi_make_callback needs an object receiver */
  napi_create_int32(env, status, &arg);
  if (napi_make_callback(env, w->ctx, recv, cb, 1, &arg, &result) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

static napi_value poll_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (arg_int(env, argv[0], &fd)) CHECK(napi_invalid_arg);
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  struct watcher *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "pollStart", ENOMEM);
  w->env = env;
  w->poll.data = w;
  int rc = uv_poll_init(loop, &w->poll, fd);
  if (rc < 0) {
    free(w);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  napi_value name;
  napi_create_string_utf8(env, "weft_tap.poll", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->ctx);
  napi_create_reference(env, argv[1], 1, &w->callback);
  rc = uv_poll_start(&w->poll, UV_READABLE, on_readable);
  if (rc < 0) {
    napi_delete_reference(env, w->callback);
    napi_async_destroy(env, w->ctx);
    uv_close((uv_handle_t *)&w->poll, on_closed);
    return throw_errno(env, "uv_poll_start", -rc);
  }
  napi_value handle;
  /* No finalizer: the watcher lives until pollStop, even if JS drops the handle. */
  napi_create_external(env, w, NULL, NULL, &handle);
  return handle;
}

static napi_value poll_stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *p;
  CHECK(napi_get_value_external(env, argv[0], &p));
  struct watcher *w = p;
  if (w->stopped) return NULL;
  w->stopped = 1;
  uv_poll_stop(&w->poll);
  napi_delete_reference(env, w->callback);
  napi_async_destroy(env, w->ctx);
  uv_close((uv_handle_t *)&w->poll, on_closed);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"openTap", NULL, open_tap, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openRawIp", NULL, open_raw_ip, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setNonBlocking", NULL, set_non_blocking, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readBatch", NULL, read_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"write", NULL, write_one, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writeBatch", NULL, write_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendTo", NULL, send_to, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendBatch", NULL, send_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollStart", NULL, poll_start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollStop", NULL, poll_stop, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
