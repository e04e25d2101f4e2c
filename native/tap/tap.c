/*
 * weft_tap: the few kernel calls Node cannot make by itself, for the vRouter agent.
 *
 *   openTap(name, flags, netnsPath?)        -> [fd, ifname]   TUNSETIFF IFF_TAP|IFF_NO_PI
 *   openRawIp(protocol, nonBlocking, netnsPath?) -> fd         socket(AF_INET, SOCK_RAW, proto)
 *   setNonBlocking(fd, on)
 *   readBatch(fd, slab, slot, lens)          -> n             up to lens.length read() calls
 *   write(fd, frame)                         -> bytes or 0 on EAGAIN
 *   writeBatch(fd, frames[], vnetHdrs?)      -> frames written before EAGAIN; with vnetHdrs (an
 *                                               array, holes allowed) each frame goes after its
 *                                               virtio_net_hdr, or 10 zero bytes for a hole
 *   sendTo(fd, packet, ipv4U32)              -> bytes or 0 on EAGAIN
 *   sendBatch(fd, packets[], ipv4U32s)       -> packets sent (sendmmsg)
 *   openUdp(ipv4U32, port, gro, netnsPath?)  -> [fd, port]    bound non-blocking UDP socket
 *   recvBatch(fd, slab, slot, lens, srcs, gso) -> n           recvmmsg; gso[i]: UDP_GRO segment size or 0
 *   sendUdpBatch(fd, packets[], dsts, ports, gso) -> sent     sendmmsg; gso[i] > 0: UDP_SEGMENT size
 *   sum16(bytes, start, end)                 -> u16           one's-complement sum (checksums of
 *                                               64 KB bursts: ~10x what JS manages)
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
#include <linux/virtio_net.h>
#include <netinet/udp.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
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
  /* With the virtio header the kernel may hand over (and take) TCP segments up to 64 KB with
   * the checksum left to us: one read per TSO burst instead of one per MTU-sized frame. */
  if ((req->flags & FLAG_VNET_HDR) && ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) < 0) {
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

/* One write() per frame: a TAP takes exactly one frame per write (a writev is one frame too,
 * which is how a virtio header goes in front without copying the frame). */
static napi_value write_batch(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  uint32_t count;
  if (arg_int(env, argv[0], &fd)) CHECK(napi_invalid_arg);
  CHECK(napi_get_array_length(env, argv[1], &count));
  bool vnet = false;
  if (argc > 2 && argv[2]) {
    napi_valuetype t;
    napi_typeof(env, argv[2], &t);
    vnet = t == napi_object;
  }
  static uint8_t zero_hdr[sizeof(struct virtio_net_hdr)];
  uint32_t i = 0;
  for (; i < count; i++) {
    napi_value el;
    uint8_t *p;
    size_t len;
    CHECK(napi_get_element(env, argv[1], i, &el));
    if (arg_bytes(env, el, &p, &len)) CHECK(napi_invalid_arg);
    struct iovec iov[2];
    int n = 0;
    if (vnet) {
      napi_value h;
      napi_valuetype ht;
      CHECK(napi_get_element(env, argv[2], i, &h));
      napi_typeof(env, h, &ht);
      uint8_t *hp = zero_hdr;
      size_t hl = sizeof zero_hdr;
      if (ht != napi_undefined && ht != napi_null && arg_bytes(env, h, &hp, &hl)) CHECK(napi_invalid_arg);
      iov[n].iov_base = hp;
      iov[n++].iov_len = hl;
    }
    iov[n].iov_base = p;
    iov[n++].iov_len = len;
    ssize_t r;
    do r = writev(fd, iov, n); while (r < 0 && errno == EINTR);
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

/* ---- UDP tunnel sockets ---- */

struct udp_req { uint32_t addr; int port; int gro; };

#define UDP_BUF (4 << 20)

static int create_udp(void *p) {
  struct udp_req *req = p;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  int size = UDP_BUF;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  /* GRO: a burst of one flow's datagrams arrives as one buffer of equal-sized segments. Best
   * effort: without it every datagram is read on its own, which is still correct. */
  int on = 1;
  if (req->gro) setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof on);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(req->addr);
  sa.sin_port = htons((uint16_t)req->port);
  socklen_t sl = sizeof sa;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  req->port = ntohs(sa.sin_port);
  return fd;
}

static napi_value open_udp(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct udp_req req;
  bool gro = false;
  CHECK(napi_get_value_uint32(env, argv[0], &req.addr));
  if (arg_int(env, argv[1], &req.port)) CHECK(napi_invalid_arg);
  CHECK(napi_get_value_bool(env, argv[2], &gro));
  req.gro = gro;
  char pathbuf[512];
  const char *path;
  if (opt_path(env, argc > 3 ? argv[3] : NULL, pathbuf, sizeof pathbuf, &path)) CHECK(napi_invalid_arg);
  int err = 0;
  int fd = in_netns(path, create_udp, &req, &err);
  if (fd < 0) return throw_errno(env, "open UDP socket", err);
  napi_value out, vfd, vport;
  napi_create_array_with_length(env, 2, &out);
  napi_create_int32(env, fd, &vfd);
  napi_create_int32(env, req.port, &vport);
  napi_set_element(env, out, 0, vfd);
  napi_set_element(env, out, 1, vport);
  return out;
}

static uint32_t *arg_u32s(napi_env env, napi_value v, size_t *n) {
  napi_typedarray_type type;
  size_t off;
  void *p;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, n, &p, &ab, &off) != napi_ok || type != napi_uint32_array) return NULL;
  return p;
}

/* recvBatch(fd, slab, slot, lens, srcs, gso): datagram i at slab[i*slot], its sender in srcs[i]. */
static napi_value recv_batch(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, slot;
  uint8_t *slab;
  size_t slab_len, nl, ns, ng;
  if (arg_int(env, argv[0], &fd) || arg_bytes(env, argv[1], &slab, &slab_len) || arg_int(env, argv[2], &slot) || slot <= 0) CHECK(napi_invalid_arg);
  uint32_t *lens = arg_u32s(env, argv[3], &nl), *srcs = arg_u32s(env, argv[4], &ns), *gso = arg_u32s(env, argv[5], &ng);
  if (!lens || !srcs || !gso) CHECK(napi_invalid_arg);
  size_t max = slab_len / (size_t)slot;
  if (max > nl) max = nl;
  if (max > ns) max = ns;
  if (max > ng) max = ng;
  if (max > 256) max = 256;
  static struct mmsghdr msgs[256];
  static struct iovec iov[256];
  static struct sockaddr_in sas[256];
  static char ctl[256][CMSG_SPACE(sizeof(uint16_t)) + 16];
  for (size_t i = 0; i < max; i++) {
    iov[i].iov_base = slab + i * (size_t)slot;
    iov[i].iov_len = (size_t)slot;
    memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_name = &sas[i];
    msgs[i].msg_hdr.msg_namelen = sizeof sas[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_control = ctl[i];
    msgs[i].msg_hdr.msg_controllen = sizeof ctl[i];
  }
  int r;
  do r = recvmmsg(fd, msgs, (unsigned)max, MSG_DONTWAIT, NULL); while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EAGAIN) r = 0;
    else return throw_errno(env, "recvmmsg", errno);
  }
  for (int i = 0; i < r; i++) {
    lens[i] = msgs[i].msg_len;
    srcs[i] = ntohl(sas[i].sin_addr.s_addr);
    gso[i] = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
      if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
        int g = 0;
        memcpy(&g, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0) < sizeof g ? c->cmsg_len - CMSG_LEN(0) : sizeof g);
        gso[i] = (uint32_t)g;
      }
    }
  }
  napi_value v;
  napi_create_uint32(env, (uint32_t)r, &v);
  return v;
}

/* sendUdpBatch(fd, packets, dsts, ports, gso): one sendmmsg; gso[i] > 0 makes the kernel cut
 * packet i into datagrams of that many bytes (UDP_SEGMENT), the last one shorter. */
static napi_value send_udp_batch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  uint32_t count;
  size_t nd, np, ng;
  if (arg_int(env, argv[0], &fd)) CHECK(napi_invalid_arg);
  CHECK(napi_get_array_length(env, argv[1], &count));
  uint32_t *dsts = arg_u32s(env, argv[2], &nd), *ports = arg_u32s(env, argv[3], &np), *gso = arg_u32s(env, argv[4], &ng);
  if (!dsts || !ports || !gso || nd < count || np < count || ng < count) CHECK(napi_invalid_arg);
  if (count > MAX_BATCH) count = MAX_BATCH;
  static struct mmsghdr msgs[MAX_BATCH];
  static struct iovec iov[MAX_BATCH];
  static struct sockaddr_in sas[MAX_BATCH];
  static char ctl[MAX_BATCH][CMSG_SPACE(sizeof(uint16_t))];
  for (uint32_t i = 0; i < count; i++) {
    napi_value el;
    uint8_t *p;
    size_t len;
    CHECK(napi_get_element(env, argv[1], i, &el));
    if (arg_bytes(env, el, &p, &len)) CHECK(napi_invalid_arg);
    sin_of(&sas[i], dsts[i]);
    sas[i].sin_port = htons((uint16_t)ports[i]);
    iov[i].iov_base = p;
    iov[i].iov_len = len;
    memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_name = &sas[i];
    msgs[i].msg_hdr.msg_namelen = sizeof sas[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    if (gso[i] > 0 && gso[i] < len) {
      memset(ctl[i], 0, sizeof ctl[i]);
      msgs[i].msg_hdr.msg_control = ctl[i];
      msgs[i].msg_hdr.msg_controllen = sizeof ctl[i];
      struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
      c->cmsg_level = IPPROTO_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t g = (uint16_t)gso[i];
      memcpy(CMSG_DATA(c), &g, sizeof g);
    }
  }
  uint32_t sent = 0;
  while (sent < count) {
    int r = sendmmsg(fd, msgs + sent, count - sent, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == ENOBUFS || sent > 0) break;
      return throw_errno(env, "sendmmsg", errno);
    }
    sent += (uint32_t)r;
  }
  napi_value v;
  napi_create_uint32(env, sent, &v);
  return v;
}

/* sum16(bytes, start, end): the one's-complement sum of big-endian 16-bit words, folded. Summed
 * as native 32-bit loads: the sum is byte-order independent up to a final swap (RFC 1071). */
static napi_value sum16(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3] = {0};
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *p;
  size_t len;
  int32_t start, end;
  if (arg_bytes(env, argv[0], &p, &len) || arg_int(env, argv[1], &start) || arg_int(env, argv[2], &end)) CHECK(napi_invalid_arg);
  if (start < 0 || end < start || (size_t)end > len) CHECK(napi_invalid_arg);
  const uint8_t *q = p + start;
  size_t n = (size_t)(end - start);
  uint64_t acc = 0;
  for (; n >= 4; n -= 4, q += 4) {
    uint32_t v;
    memcpy(&v, q, 4);
    acc += v;
  }
  if (n >= 2) {
    uint16_t v;
    memcpy(&v, q, 2);
    acc += v;
    q += 2;
    n -= 2;
  }
  if (n) {
    uint16_t v = 0;
    memcpy(&v, q, 1);
    acc += v;
  }
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  uint32_t be = ((acc & 0xff) << 8) | (acc >> 8);
  napi_value v;
  napi_create_uint32(env, be, &v);
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
      {"openUdp", NULL, open_udp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"recvBatch", NULL, recv_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendUdpBatch", NULL, send_udp_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sum16", NULL, sum16, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollStart", NULL, poll_start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollStop", NULL, poll_stop, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
