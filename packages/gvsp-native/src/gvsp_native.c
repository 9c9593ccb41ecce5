// @cam/gvsp-native: receives GVSP datagrams in batches (recvmmsg, or a TPACKET_V3 packet ring) on Node's own
// event loop and places the common data packet straight into the frame buffers of a @cam/gvsp reassembler.
//
// Division of work with the TypeScript reassembler (packages/gvsp/src/engine/reassembler.ts):
// - the reassembler owns every array (frame buffers, per-slot state, counters); this file reads and writes them
//   in place, through pointers taken once from the typed arrays;
// - a data packet (generic payload, H.264, multizone, multipart, GenDC) of a frame being received is handled
//   here: bounds checked, copied to its offset, and booked exactly as GvspReassembler.handlePacket books it;
// - every other datagram (leaders, trailers, all-in, status, new blocks, the packet that completes a frame,
//   anything short or odd) goes to JS, in arrival order, through onSlow(length), which runs handlePacket;
// - resend scheduling and timeouts stay in JS (GvspReassembler.tick), once per batch.
// JS is thus called once per batch and a few times per frame, never per data packet.
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

// GVSP wire constants (GigE Vision 2.2, the same table as packages/gvsp/src/codec/constants.ts)
#define GVSP_STANDARD_HEADER 8
#define GVSP_EXTENDED_HEADER 20
#define IP_UDP_OVERHEAD 28
#define FORMAT_PAYLOAD 3
#define FORMAT_H264 5
#define FORMAT_MULTIZONE 6
#define FORMAT_MULTIPART 7
#define FORMAT_GENDC 8
#define STATUS_SUCCESS 0x0000
#define STATUS_PACKET_RESEND 0x0100

// Limits
#define MAX_DATAGRAM 65536 // a UDP payload is at most 65507 bytes: no datagram is ever truncated
#define BATCH 64           // datagrams per recvmmsg
#define MAX_ROUNDS 16      // recvmmsg calls per wake-up before the loop gets a turn (1024 datagrams)
#define MAX_WAKE_DATAGRAMS (BATCH * MAX_ROUNDS) // the ring stops after the block that reaches this
#define MAX_SLOTS 256
#define RING_BLOCK_SIZE (1u << 18)
#define RING_BLOCK_COUNT 128
#define RING_FRAME_SIZE 2048
#define RING_RETIRE_MS 1

enum { L_RECEIVED, L_BYTES, L_RESENT, L_DUPLICATED, L_NOW, L_DATA_SIZE, L_DATA_SIZE_EXT, L_SIZE_KNOWN, L_LEARNED,
       L_FILLING, L_PART_OFFSETS, L_COUNT };

typedef struct {
  napi_env env;
  // reassembler state (owned by JS; pointers stay valid while the references below keep the arrays alive)
  int slots;
  uint32_t max_packets;
  uint8_t *state;
  double *block_ids;
  uint8_t *received;
  double *detect_time;
  double *part_offsets;
  int32_t *part_count, *leader_length, *received_count, *resent_count, *highest_id, *first_missing, *last_id;
  double *last_packet_time, *data_end, *counters, *scalars;
  uint8_t *size_mismatch;
  uint8_t *buffers[MAX_SLOTS];
  size_t buffer_len[MAX_SLOTS];
  int32_t layout[L_COUNT];
  size_t part_stride;
  napi_ref keep; // the shared-state object, which holds every array
  napi_ref buffer_refs[MAX_SLOTS];
  napi_ref on_slow, on_batch, slow_buffer;
  uint8_t *slow;
  size_t slow_len;
  int probe; // while waiting for a test packet every datagram goes to JS
  int yield; // onSlow returned true (frames wait for the consumer): end this wake-up after the current batch
  // receive side
  int udp_fd, ring_fd;
  int polling, closing, in_callback;
  uv_poll_t poll;
  napi_async_context actx;
  napi_ref resource;
  napi_ref self; // holds the engine while libuv has its poll handle
  uint8_t *rx;
  struct mmsghdr *msgs;
  struct iovec *iov;
  struct sockaddr_in *from;
  uint8_t *ring;
  size_t ring_len;
  unsigned ring_block;
  uint32_t last_source;
  // the only IPv4 source accepted (host order), 0 = any; others are counted in foreign_packets and dropped
  uint32_t expected_source;
  // the only UDP source port accepted (the camera's SCSP), 0 = any; others are counted in foreign_packets too
  uint32_t expected_port;
  // figures for stats()
  double batches, syscalls, datagrams, native_packets, slow_packets, ring_drops, ring_skipped, ring_max_delay_us;
  double foreign_packets;
  int failed; // a JS callback threw during a synchronous processDatagrams call
} engine_t;

static inline uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint32_t be16(const uint8_t *p) { return ((uint32_t)p[0] << 8) | p[1]; }

#define TWO32 4294967296.0

// The common data packet of a frame in progress, handled in place. Returns 1 when done here, 0 when JS must handle
// the datagram (GvspReassembler.handlePacket). Mirrors handlePacket's rules for these packets exactly; the engine
// equivalence tests in packages/gvsp check both against the same inputs.
static int place_data_packet(engine_t *e, const uint8_t *p, size_t len) {
  if (e->probe || len < GVSP_STANDARD_HEADER) return 0;
  const uint32_t status = be16(p);
  if (status != STATUS_SUCCESS && status != STATUS_PACKET_RESEND) return 0;
  const int ext = (p[4] & 0x80) != 0;
  const int format = p[4] & 0x7f;
  if (format != FORMAT_PAYLOAD && format != FORMAT_H264 && format != FORMAT_MULTIZONE && format != FORMAT_MULTIPART &&
      format != FORMAT_GENDC)
    return 0;
  double block_id;
  uint32_t packet_id;
  size_t hdr;
  int resent = status == STATUS_PACKET_RESEND;
  if (ext) {
    if (len < GVSP_EXTENDED_HEADER) return 0;
    block_id = (double)be32(p + 8) * TWO32 + (double)be32(p + 12);
    packet_id = be32(p + 16);
    hdr = GVSP_EXTENDED_HEADER;
    if (p[3] & 0x01) resent = 1;
  } else {
    block_id = (double)be16(p + 2);
    packet_id = ((uint32_t)p[5] << 16) | ((uint32_t)p[6] << 8) | p[7];
    hdr = GVSP_STANDARD_HEADER;
    if (block_id == 0) return 0;
  }
  const uint8_t filling = (uint8_t)e->layout[L_FILLING];
  int slot = -1;
  for (int i = 0; i < e->slots; i++) {
    if (e->state[i] == filling && e->block_ids[i] == block_id) {
      slot = i;
      break;
    }
  }
  if (slot < 0 || packet_id >= e->max_packets) return 0;
  uint8_t *received = e->received + (size_t)slot * e->max_packets;
  double *c = e->counters;
  if (received[packet_id]) {
    c[e->layout[L_DUPLICATED]] += 1;
    return 1;
  }
  // the packet that completes the frame: JS ends it (frame order, statistics, hand-over)
  if (e->last_id[slot] >= 0 && e->received_count[slot] == e->last_id[slot]) return 0;
  const double *s = e->scalars;
  size_t from;
  double offset;
  switch (format) {
    case FORMAT_PAYLOAD:
    case FORMAT_H264: {
      if (packet_id == 0) return 0;
      if (s[e->layout[L_SIZE_KNOWN]] != 1) {
        const double learned = s[e->layout[L_LEARNED]];
        if (learned == 0 || (packet_id == 1 && (double)len + IP_UDP_OVERHEAD > learned)) return 0;
      }
      const double size = ext ? s[e->layout[L_DATA_SIZE_EXT]] : s[e->layout[L_DATA_SIZE]];
      if (format == FORMAT_H264) {
        if (len < hdr + 8) return 0;
        from = hdr + 8;
        offset = (double)(packet_id - 1) * (size - 8);
      } else {
        from = hdr;
        offset = (double)(packet_id - 1) * size;
      }
      break;
    }
    case FORMAT_MULTIZONE:
      if (len < hdr + 8) return 0;
      from = hdr + 8;
      offset = (double)be16(p + hdr + 2) * TWO32 + (double)be32(p + hdr + 4);
      break;
    case FORMAT_MULTIPART: {
      if (len < hdr + 8) return 0;
      const uint32_t part = p[hdr];
      if (e->leader_length[slot] == 0 || (int32_t)part >= e->part_count[slot]) return 0;
      from = hdr + 8;
      offset = e->part_offsets[(size_t)slot * e->part_stride + part] + (double)be16(p + hdr + 2) * TWO32 +
               (double)be32(p + hdr + 4);
      break;
    }
    default: // FORMAT_GENDC
      if (len < hdr + 16) return 0;
      from = hdr + 16;
      offset = (double)be32(p + hdr + 4) * TWO32 + (double)be32(p + hdr + 8);
      break;
  }
  // the copy: checked against the slot buffer before a byte moves
  const size_t n = len - from;
  const double cap = (double)e->buffer_len[slot];
  if (n > 0 && offset >= 0) {
    double count = (double)n;
    if (offset + count > cap) {
      e->size_mismatch[slot] = 1;
      count = cap - offset;
    }
    if (count > 0) {
      memcpy(e->buffers[slot] + (size_t)offset, p + from, (size_t)count);
      const double end = offset + count;
      if (end > e->data_end[slot]) e->data_end[slot] = end;
    }
  }
  // bookkeeping, as handlePacket does it
  const double now = s[e->layout[L_NOW]];
  received[packet_id] = 1;
  c[e->layout[L_RECEIVED]] += 1;
  c[e->layout[L_BYTES]] += (double)len;
  if (resent) {
    c[e->layout[L_RESENT]] += 1;
    e->resent_count[slot]++;
  }
  e->received_count[slot]++;
  e->last_packet_time[slot] = now;
  const int32_t highest = e->highest_id[slot];
  if ((int64_t)packet_id > highest) {
    double *dt = e->detect_time + (size_t)slot * e->max_packets;
    for (int64_t k = (int64_t)highest + 1; k < (int64_t)packet_id; k++)
      if (received[k] == 0 && dt[k] == 0) dt[k] = now != 0 ? now : 1e-9;
    e->highest_id[slot] = (int32_t)packet_id;
  }
  uint32_t fm = (uint32_t)e->first_missing[slot];
  while (fm < e->max_packets && received[fm]) fm++;
  e->first_missing[slot] = (int32_t)fm;
  return 1;
}

// Hands one datagram to JS (onSlow) through the JS-owned slow buffer. Returns 0 when the callback threw.
static int hand_to_js(engine_t *e, const uint8_t *p, size_t len) {
  napi_env env = e->env;
  if (len > e->slow_len) return 1; // cannot happen: the slow buffer holds MAX_DATAGRAM bytes
  memcpy(e->slow, p, len);
  napi_value fn, global, arg, result;
  napi_get_reference_value(env, e->on_slow, &fn);
  napi_get_global(env, &global);
  napi_create_uint32(env, (uint32_t)len, &arg);
  e->slow_packets += 1;
  if (napi_call_function(env, global, fn, 1, &arg, &result) != napi_ok) return 0;
  bool stop = false;
  if (napi_get_value_bool(env, result, &stop) == napi_ok && stop) e->yield = 1;
  return 1;
}

static int handle_datagram(engine_t *e, const uint8_t *p, size_t len) {
  e->datagrams += 1;
  if (place_data_packet(e, p, len)) {
    e->native_packets += 1;
    return 1;
  }
  return hand_to_js(e, p, len);
}

// ---- helpers for N-API argument checking

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_GVSP_NATIVE_ARGUMENT", msg);
  return NULL;
}

static int typed_array(napi_env env, napi_value obj, const char *name, napi_typedarray_type want, size_t min_len,
                       void **data, size_t *length, napi_value *out) {
  napi_value v;
  bool is;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return 0;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  size_t len;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &len, data, &ab, &off) != napi_ok) return 0;
  if (type != want || len < min_len) return 0;
  if (length) *length = len;
  if (out) *out = v;
  return 1;
}

static engine_t *get_engine(napi_env env, napi_value v) {
  void *data = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return (engine_t *)data;
}

static void close_receive(engine_t *e);

static void engine_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  engine_t *e = (engine_t *)data;
  // no poll handle is alive here: while there is one, the engine holds a reference to itself (e->self)
  if (e->udp_fd >= 0) close(e->udp_fd);
  if (e->ring_fd >= 0) close(e->ring_fd);
  if (e->ring) munmap(e->ring, e->ring_len);
  free(e->rx);
  free(e->msgs);
  free(e->iov);
  free(e->from);
  if (e->keep) napi_delete_reference(env, e->keep);
  for (int i = 0; i < MAX_SLOTS; i++)
    if (e->buffer_refs[i]) napi_delete_reference(env, e->buffer_refs[i]);
  if (e->on_slow) napi_delete_reference(env, e->on_slow);
  if (e->on_batch) napi_delete_reference(env, e->on_batch);
  if (e->slow_buffer) napi_delete_reference(env, e->slow_buffer);
  if (e->resource) napi_delete_reference(env, e->resource);
  if (e->actx) napi_async_destroy(env, e->actx);
  free(e);
}

// createEngine(shared, onSlow(length), onBatch(sourceAddressU32), slowBuffer) -> engine
static napi_value create_engine(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) return throw_type(env, "createEngine(shared, onSlow, onBatch, slowBuffer)");
  napi_value sh = argv[0];
  engine_t *e = calloc(1, sizeof(engine_t));
  if (!e) return throw_type(env, "out of memory");
  e->env = env;
  e->udp_fd = -1;
  e->ring_fd = -1;
  napi_value v;
  uint32_t u;
  if (napi_get_named_property(env, sh, "slots", &v) != napi_ok || napi_get_value_uint32(env, v, &u) != napi_ok ||
      u < 1 || u > MAX_SLOTS) {
    free(e);
    return throw_type(env, "shared.slots must be an integer in 1..256");
  }
  e->slots = (int)u;
  if (napi_get_named_property(env, sh, "maxPackets", &v) != napi_ok ||
      napi_get_value_uint32(env, v, &u) != napi_ok || u < 1 || u > (1u << 28)) {
    free(e);
    return throw_type(env, "shared.maxPackets must be an integer in 1..2^28");
  }
  e->max_packets = u;
  const size_t n = (size_t)e->slots;
  const size_t mp = e->max_packets;
  void *layout;
  size_t layout_len;
  int ok =
      typed_array(env, sh, "layout", napi_int32_array, L_COUNT, &layout, &layout_len, NULL) &&
      typed_array(env, sh, "state", napi_uint8_array, n, (void **)&e->state, NULL, NULL) &&
      typed_array(env, sh, "blockIds", napi_float64_array, n, (void **)&e->block_ids, NULL, NULL) &&
      typed_array(env, sh, "received", napi_uint8_array, n * mp, (void **)&e->received, NULL, NULL) &&
      typed_array(env, sh, "detectTime", napi_float64_array, n * mp, (void **)&e->detect_time, NULL, NULL) &&
      typed_array(env, sh, "partCount", napi_int32_array, n, (void **)&e->part_count, NULL, NULL) &&
      typed_array(env, sh, "leaderLength", napi_int32_array, n, (void **)&e->leader_length, NULL, NULL) &&
      typed_array(env, sh, "receivedCount", napi_int32_array, n, (void **)&e->received_count, NULL, NULL) &&
      typed_array(env, sh, "resentCount", napi_int32_array, n, (void **)&e->resent_count, NULL, NULL) &&
      typed_array(env, sh, "highestId", napi_int32_array, n, (void **)&e->highest_id, NULL, NULL) &&
      typed_array(env, sh, "firstMissing", napi_int32_array, n, (void **)&e->first_missing, NULL, NULL) &&
      typed_array(env, sh, "lastId", napi_int32_array, n, (void **)&e->last_id, NULL, NULL) &&
      typed_array(env, sh, "lastPacketTime", napi_float64_array, n, (void **)&e->last_packet_time, NULL, NULL) &&
      typed_array(env, sh, "dataEnd", napi_float64_array, n, (void **)&e->data_end, NULL, NULL) &&
      typed_array(env, sh, "sizeMismatch", napi_uint8_array, n, (void **)&e->size_mismatch, NULL, NULL);
  if (!ok) {
    free(e);
    return throw_type(env, "shared state: a typed array is missing or has the wrong type or length");
  }
  memcpy(e->layout, layout, sizeof(e->layout));
  int32_t max_counter = 0, max_scalar = 0;
  for (int i = L_RECEIVED; i <= L_DUPLICATED; i++) {
    if (e->layout[i] < 0) max_counter = 1 << 30;
    if (e->layout[i] > max_counter) max_counter = e->layout[i];
  }
  for (int i = L_NOW; i <= L_LEARNED; i++) {
    if (e->layout[i] < 0) max_scalar = 1 << 30;
    if (e->layout[i] > max_scalar) max_scalar = e->layout[i];
  }
  if (e->layout[L_PART_OFFSETS] < 257 || e->layout[L_PART_OFFSETS] > 4096) {
    free(e);
    return throw_type(env, "shared.layout: part offsets per slot must be 257..4096");
  }
  e->part_stride = (size_t)e->layout[L_PART_OFFSETS];
  if (!typed_array(env, sh, "counters", napi_float64_array, (size_t)max_counter + 1, (void **)&e->counters, NULL,
                   NULL) ||
      !typed_array(env, sh, "scalars", napi_float64_array, (size_t)max_scalar + 1, (void **)&e->scalars, NULL, NULL) ||
      !typed_array(env, sh, "partOffsets", napi_float64_array, n * e->part_stride, (void **)&e->part_offsets, NULL,
                   NULL)) {
    free(e);
    return throw_type(env, "shared state: counters, scalars or partOffsets too short for the layout");
  }
  napi_value buffers;
  bool is_array;
  uint32_t count;
  if (napi_get_named_property(env, sh, "buffers", &buffers) != napi_ok ||
      napi_is_array(env, buffers, &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, buffers, &count) != napi_ok || count != n) {
    free(e);
    return throw_type(env, "shared.buffers must be an array with one Uint8Array per slot");
  }
  for (uint32_t i = 0; i < count; i++) {
    napi_value b;
    bool is;
    napi_typedarray_type type;
    size_t len, off;
    void *data;
    napi_value ab;
    if (napi_get_element(env, buffers, i, &b) != napi_ok || napi_is_typedarray(env, b, &is) != napi_ok || !is ||
        napi_get_typedarray_info(env, b, &type, &len, &data, &ab, &off) != napi_ok || type != napi_uint8_array) {
      for (uint32_t k = 0; k < i; k++) napi_delete_reference(env, e->buffer_refs[k]);
      free(e);
      return throw_type(env, "shared.buffers: every slot buffer must be a Uint8Array");
    }
    e->buffers[i] = (uint8_t *)data;
    e->buffer_len[i] = len;
    napi_create_reference(env, b, 1, &e->buffer_refs[i]);
  }
  napi_valuetype t1, t2;
  napi_typeof(env, argv[1], &t1);
  napi_typeof(env, argv[2], &t2);
  void *slow;
  size_t slow_len;
  bool is_ta;
  napi_typedarray_type st;
  napi_value sab;
  size_t soff;
  if (t1 != napi_function || t2 != napi_function || napi_is_typedarray(env, argv[3], &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, argv[3], &st, &slow_len, &slow, &sab, &soff) != napi_ok ||
      st != napi_uint8_array || slow_len < MAX_DATAGRAM) {
    for (int k = 0; k < e->slots; k++) napi_delete_reference(env, e->buffer_refs[k]);
    free(e);
    return throw_type(env, "createEngine: onSlow and onBatch must be functions, slowBuffer a Uint8Array of 65536+");
  }
  e->slow = (uint8_t *)slow;
  e->slow_len = slow_len;
  napi_create_reference(env, sh, 1, &e->keep);
  napi_create_reference(env, argv[1], 1, &e->on_slow);
  napi_create_reference(env, argv[2], 1, &e->on_batch);
  napi_create_reference(env, argv[3], 1, &e->slow_buffer);
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_reference(env, resource, 1, &e->resource);
  napi_create_string_utf8(env, "GvspNativeReceive", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &e->actx);
  napi_value ext;
  napi_create_external(env, e, engine_finalize, NULL, &ext);
  return ext;
}

// setBuffer(engine, slot, buffer): a slot's memory was replaced (GvspReassembler.restoreBuffer)
static napi_value set_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 3 ? get_engine(env, argv[0]) : NULL;
  uint32_t slot;
  if (!e || napi_get_value_uint32(env, argv[1], &slot) != napi_ok || slot >= (uint32_t)e->slots)
    return throw_type(env, "setBuffer(engine, slot, buffer)");
  bool is;
  napi_typedarray_type type;
  size_t len, off;
  void *data;
  napi_value ab;
  if (napi_is_typedarray(env, argv[2], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[2], &type, &len, &data, &ab, &off) != napi_ok || type != napi_uint8_array)
    return throw_type(env, "setBuffer: buffer must be a Uint8Array");
  napi_delete_reference(env, e->buffer_refs[slot]);
  napi_create_reference(env, argv[2], 1, &e->buffer_refs[slot]);
  e->buffers[slot] = (uint8_t *)data;
  e->buffer_len[slot] = len;
  return NULL;
}

// processDatagrams(engine, bytes, ends): datagram i is bytes[ends[i-1]..ends[i]) (ends[-1] = 0), handled in order
// exactly as received datagrams are. Returns the number handled natively. For tests, fuzzing and replay.
static napi_value process_datagrams(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 3 ? get_engine(env, argv[0]) : NULL;
  if (!e) return throw_type(env, "processDatagrams(engine, bytes, ends)");
  bool is;
  napi_typedarray_type type;
  size_t blen, elen, off;
  void *bdata, *edata;
  napi_value ab;
  if (napi_is_typedarray(env, argv[1], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[1], &type, &blen, &bdata, &ab, &off) != napi_ok || type != napi_uint8_array)
    return throw_type(env, "processDatagrams: bytes must be a Uint8Array");
  if (napi_is_typedarray(env, argv[2], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[2], &type, &elen, &edata, &ab, &off) != napi_ok || type != napi_int32_array)
    return throw_type(env, "processDatagrams: ends must be an Int32Array");
  // checked, then copied to native memory: a callback (onSlow) may detach or change the caller's arrays
  const int32_t *jends = (const int32_t *)edata;
  size_t start = 0;
  for (size_t i = 0; i < elen; i++) {
    if (jends[i] < 0 || (size_t)jends[i] < start || (size_t)jends[i] > blen ||
        (size_t)jends[i] - start > MAX_DATAGRAM) {
      napi_throw_range_error(env, "ERR_GVSP_NATIVE_ARGUMENT",
                             "processDatagrams: ends must rise within bytes, each datagram at most 65536 bytes");
      return NULL;
    }
    start = (size_t)jends[i];
  }
  const size_t used = start;
  uint8_t *bytes = malloc(used + 1);
  int32_t *ends = malloc(elen * sizeof(int32_t) + 1);
  if (!bytes || !ends) {
    free(bytes);
    free(ends);
    return throw_type(env, "out of memory");
  }
  if (used) memcpy(bytes, bdata, used);
  if (elen) memcpy(ends, jends, elen * sizeof(int32_t));
  start = 0;
  double native = 0;
  for (size_t i = 0; i < elen; i++) {
    const size_t len = (size_t)ends[i] - start;
    const double before = e->native_packets;
    if (!handle_datagram(e, bytes + start, len)) break; // the callback threw: the exception propagates
    native += e->native_packets - before;
    start = (size_t)ends[i];
  }
  free(bytes);
  free(ends);
  napi_value out;
  napi_create_double(env, native, &out);
  return out;
}

// ---- receiving from the network

static void call_on_batch(engine_t *e) {
  napi_env env = e->env;
  napi_value fn, global, arg, result;
  napi_get_reference_value(env, e->on_batch, &fn);
  napi_get_global(env, &global);
  napi_create_uint32(env, e->last_source, &arg);
  e->batches += 1;
  napi_call_function(env, global, fn, 1, &arg, &result);
}

static void report_exception(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) return;
  napi_value err;
  napi_get_and_clear_last_exception(env, &err);
  napi_fatal_exception(env, err); // to process 'uncaughtException', as an exception in any callback
}

static void receive_socket(engine_t *e) {
  for (int round = 0; round < MAX_ROUNDS && !e->closing; round++) {
    for (int i = 0; i < BATCH; i++) e->msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    const int n = recvmmsg(e->udp_fd, e->msgs, BATCH, MSG_DONTWAIT, NULL);
    e->syscalls += 1;
    if (n <= 0) break;
    for (int i = 0; i < n && !e->closing; i++) {
      e->last_source = ntohl(e->from[i].sin_addr.s_addr);
      if ((e->expected_source != 0 && e->last_source != e->expected_source) ||
          (e->expected_port != 0 && ntohs(e->from[i].sin_port) != e->expected_port)) {
        e->foreign_packets += 1;
        continue;
      }
      if (!handle_datagram(e, e->rx + (size_t)i * MAX_DATAGRAM, e->msgs[i].msg_len)) report_exception(e->env);
    }
    if (n < BATCH || e->yield) break;
  }
}

// One IPv4/UDP packet from the ring: the GVSP datagram is the UDP payload. Every length is checked against what
// was captured; the BPF filter already chose UDP to our port, unfragmented.
static void ring_packet(engine_t *e, const uint8_t *ip, size_t caplen, uint16_t port) {
  if (caplen < 28 || (ip[0] >> 4) != 4) goto skip;
  const size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
  const size_t total = be16(ip + 2);
  if (ihl < 20 || total > caplen || total < ihl + 8 || ip[9] != 17 || (be16(ip + 6) & 0x3fff) != 0) goto skip;
  const uint8_t *udp = ip + ihl;
  const size_t udplen = be16(udp + 4);
  if (udplen < 8 || ihl + udplen > total || be16(udp + 2) != port) goto skip;
  if ((e->expected_source != 0 && be32(ip + 12) != e->expected_source) ||
      (e->expected_port != 0 && be16(udp) != e->expected_port)) {
    e->foreign_packets += 1;
    return;
  }
  e->last_source = be32(ip + 12);
  if (!handle_datagram(e, udp + 8, udplen - 8)) report_exception(e->env);
  return;
skip:
  e->ring_skipped += 1;
}

static void receive_ring(engine_t *e) {
  struct sockaddr_in local;
  socklen_t sl = sizeof(local);
  getsockname(e->udp_fd, (struct sockaddr *)&local, &sl);
  const uint16_t port = ntohs(local.sin_port);
  // as many datagrams per wake-up as recvmmsg takes: frames completed in one go must fit the consumer's slots, and
  // the loop (the consumer, timers) gets its turn; epoll is level-triggered, so the rest wakes us again at once
  const double start = e->datagrams;
  for (int b = 0; b < RING_BLOCK_COUNT && !e->closing && e->datagrams - start < MAX_WAKE_DATAGRAMS; b++) {
    uint8_t *base = e->ring + (size_t)e->ring_block * RING_BLOCK_SIZE;
    struct tpacket_block_desc *bd = (struct tpacket_block_desc *)base;
    if ((__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) == 0) break;
    const uint32_t num = bd->hdr.bh1.num_pkts;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    size_t off = bd->hdr.bh1.offset_to_first_pkt;
    for (uint32_t i = 0; i < num && !e->closing; i++) {
      if (off < sizeof(struct tpacket_block_desc) || off + sizeof(struct tpacket3_hdr) > RING_BLOCK_SIZE) break;
      struct tpacket3_hdr *ph = (struct tpacket3_hdr *)(base + off);
      const double delay = (double)(now.tv_sec - (time_t)ph->tp_sec) * 1e6 + ((double)now.tv_nsec - ph->tp_nsec) / 1e3;
      if (delay > e->ring_max_delay_us) e->ring_max_delay_us = delay;
      if ((size_t)ph->tp_net + ph->tp_snaplen <= RING_BLOCK_SIZE - off) {
        if (ph->tp_snaplen == ph->tp_len) ring_packet(e, base + off + ph->tp_net, ph->tp_snaplen, port);
        else e->ring_skipped += 1; // truncated by the ring: cannot be placed
      }
      if (ph->tp_next_offset == 0) break;
      off += ph->tp_next_offset;
    }
    __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    e->ring_block = (e->ring_block + 1) % RING_BLOCK_COUNT;
    if (e->yield) break;
  }
}

static void on_poll_closed(uv_handle_t *h) {
  engine_t *e = (engine_t *)h->data;
  close_receive(e);
  if (e->self) {
    napi_ref self = e->self;
    e->self = NULL;
    napi_delete_reference(e->env, self); // the engine may be collected from here on
  }
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  engine_t *e = (engine_t *)h->data;
  if (e->closing || status < 0) return;
  napi_env env = e->env;
  napi_handle_scope hs;
  napi_open_handle_scope(env, &hs);
  napi_value resource;
  napi_get_reference_value(env, e->resource, &resource);
  napi_callback_scope cs;
  napi_open_callback_scope(env, resource, e->actx, &cs);
  e->in_callback = 1;
  e->yield = 0;
  if (e->ring) receive_ring(e);
  else receive_socket(e);
  if (!e->closing) {
    call_on_batch(e);
    report_exception(env);
  }
  e->in_callback = 0;
  napi_close_callback_scope(env, cs);
  napi_close_handle_scope(env, hs);
}

static void close_receive(engine_t *e) {
  if (e->udp_fd >= 0) close(e->udp_fd);
  if (e->ring_fd >= 0) close(e->ring_fd);
  e->udp_fd = e->ring_fd = -1;
  if (e->ring) munmap(e->ring, e->ring_len);
  e->ring = NULL;
}

static int open_ring(engine_t *e, uint16_t port, char *why, size_t why_len) {
  // no protocol yet: nothing is captured until the filter is in place
  int fd = socket(AF_PACKET, SOCK_DGRAM, 0);
  if (fd < 0) {
    snprintf(why, why_len, "no packet socket (%s): the process lacks CAP_NET_RAW", strerror(errno));
    return -1;
  }
  // IPv4 header at 0 (SOCK_DGRAM: the link header is removed): UDP, not a fragment, destination port ours
  struct sock_filter code[] = {
      {0x30, 0, 0, 9},             // ldb [9]            protocol
      {0x15, 0, 6, 17},            // jeq #17            UDP
      {0x28, 0, 0, 6},             // ldh [6]            flags, fragment offset
      {0x45, 4, 0, 0x3fff},        // jset #0x3fff       MF or an offset: a fragment, drop
      {0xb1, 0, 0, 0},             // ldxb 4*([0]&0xf)   IP header length
      {0x48, 0, 0, 2},             // ldh [x+2]          UDP destination port
      {0x15, 0, 1, port},          // jeq #port
      {0x06, 0, 0, 0x40000},       // ret #262144        accept whole
      {0x06, 0, 0, 0},             // ret #0             drop
  };
  struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};
  int one = 1, v3 = TPACKET_V3;
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
      setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v3, sizeof(v3)) < 0) {
    snprintf(why, why_len, "packet socket setup failed (%s)", strerror(errno));
    close(fd);
    return -1;
  }
  // loopback shows each packet twice (sent and received): keep the received copy only
  setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
  struct tpacket_req3 req;
  memset(&req, 0, sizeof(req));
  req.tp_block_size = RING_BLOCK_SIZE;
  req.tp_block_nr = RING_BLOCK_COUNT;
  req.tp_frame_size = RING_FRAME_SIZE;
  req.tp_frame_nr = (RING_BLOCK_SIZE / RING_FRAME_SIZE) * RING_BLOCK_COUNT;
  req.tp_retire_blk_tov = RING_RETIRE_MS;
  if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
    snprintf(why, why_len, "PACKET_RX_RING (TPACKET_V3) refused (%s)", strerror(errno));
    close(fd);
    return -1;
  }
  const size_t map_len = (size_t)RING_BLOCK_SIZE * RING_BLOCK_COUNT;
  void *map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd, 0);
  if (map == MAP_FAILED) map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    snprintf(why, why_len, "cannot map the packet ring (%s)", strerror(errno));
    close(fd);
    return -1;
  }
  struct sockaddr_ll ll;
  memset(&ll, 0, sizeof(ll));
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = htons(ETH_P_IP);
  ll.sll_ifindex = 0; // every interface: the filter picks our port
  if (bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
    snprintf(why, why_len, "cannot bind the packet socket (%s)", strerror(errno));
    munmap(map, map_len);
    close(fd);
    return -1;
  }
  e->ring_fd = fd;
  e->ring = (uint8_t *)map;
  e->ring_len = map_len;
  e->ring_block = 0;
  return 0;
}

// openReceiver(engine, address, port, receiveBufferSize, capture) -> { port, granted, capture, reason }
// capture: 0 = recvmmsg, 1 = packet ring, 2 = packet ring when permitted, else recvmmsg
static napi_value open_receiver(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 5 ? get_engine(env, argv[0]) : NULL;
  char address[64];
  size_t alen;
  uint32_t port, rcvbuf, capture;
  if (!e || napi_get_value_string_utf8(env, argv[1], address, sizeof(address), &alen) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &port) != napi_ok || port > 65535 ||
      napi_get_value_uint32(env, argv[3], &rcvbuf) != napi_ok || rcvbuf > (1u << 30) ||
      napi_get_value_uint32(env, argv[4], &capture) != napi_ok || capture > 2)
    return throw_type(env, "openReceiver(engine, address, port 0..65535, receiveBufferSize, capture 0..2)");
  if (e->udp_fd >= 0 || e->closing) return throw_type(env, "openReceiver: this engine already has a receiver");
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) return throw_type(env, "openReceiver: not an IPv4 address");
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    char msg[160];
    snprintf(msg, sizeof(msg), "cannot bind UDP %s:%u: %s", address, port, strerror(errno));
    if (fd >= 0) close(fd);
    napi_throw_error(env, errno == EADDRINUSE ? "EADDRINUSE" : "ERR_GVSP_NATIVE_BIND", msg);
    return NULL;
  }
  int req = (int)rcvbuf;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &req, sizeof(req));
  int granted = 0;
  socklen_t gl = sizeof(granted);
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &gl);
  socklen_t sl = sizeof(sa);
  getsockname(fd, (struct sockaddr *)&sa, &sl);
  e->udp_fd = fd;
  char reason[200] = "";
  int ring = 0;
  if (capture != 0) {
    if (open_ring(e, ntohs(sa.sin_port), reason, sizeof(reason)) == 0) {
      ring = 1;
      // the UDP socket only holds the port now: drop what reaches it before it is queued (and copied)
      struct sock_filter drop[] = {{0x06, 0, 0, 0}};
      struct sock_fprog prog = {1, drop};
      setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
      // datagrams queued before the filter went on reached the ring too: discard them here
      uint8_t sink[16];
      while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) >= 0) {
      }
    } else if (capture == 1) {
      close(fd);
      e->udp_fd = -1;
      napi_throw_error(env, "ERR_GVSP_NATIVE_PACKET_RING", reason);
      return NULL;
    }
  }
  if (!ring) {
    e->rx = malloc((size_t)BATCH * MAX_DATAGRAM);
    e->msgs = calloc(BATCH, sizeof(struct mmsghdr));
    e->iov = calloc(BATCH, sizeof(struct iovec));
    e->from = calloc(BATCH, sizeof(struct sockaddr_in));
    if (!e->rx || !e->msgs || !e->iov || !e->from) {
      close_receive(e);
      return throw_type(env, "out of memory");
    }
    for (int i = 0; i < BATCH; i++) {
      e->iov[i].iov_base = e->rx + (size_t)i * MAX_DATAGRAM;
      e->iov[i].iov_len = MAX_DATAGRAM;
      e->msgs[i].msg_hdr.msg_iov = &e->iov[i];
      e->msgs[i].msg_hdr.msg_iovlen = 1;
      e->msgs[i].msg_hdr.msg_name = &e->from[i];
      e->msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
    }
  }
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  if (uv_poll_init(loop, &e->poll, ring ? e->ring_fd : e->udp_fd) != 0) {
    close_receive(e);
    return throw_type(env, "uv_poll_init failed");
  }
  e->poll.data = e;
  uv_poll_start(&e->poll, UV_READABLE, on_readable);
  e->polling = 1;
  napi_create_reference(env, argv[0], 1, &e->self);
  napi_value out, v;
  napi_create_object(env, &out);
  napi_create_uint32(env, ntohs(sa.sin_port), &v);
  napi_set_named_property(env, out, "port", v);
  napi_create_int32(env, granted, &v);
  napi_set_named_property(env, out, "granted", v);
  napi_create_string_utf8(env, ring ? "packet-ring" : "recvmmsg", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "capture", v);
  napi_create_string_utf8(env, reason, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "reason", v);
  return out;
}

// closeReceiver(engine): stops polling; sockets and ring are released once libuv lets go of the handle
static napi_value close_receiver(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 1 ? get_engine(env, argv[0]) : NULL;
  if (!e) return throw_type(env, "closeReceiver(engine)");
  if (e->closing) return NULL;
  e->closing = 1;
  if (e->polling) {
    uv_poll_stop(&e->poll);
    e->polling = 0;
    uv_close((uv_handle_t *)&e->poll, on_poll_closed);
  } else {
    close_receive(e);
  }
  return NULL;
}

// setProbe(engine, on): while on, every datagram goes to JS (test packets are recognised there by length)
static napi_value set_probe(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 2 ? get_engine(env, argv[0]) : NULL;
  bool on;
  if (!e || napi_get_value_bool(env, argv[1], &on) != napi_ok) return throw_type(env, "setProbe(engine, on)");
  e->probe = on ? 1 : 0;
  return NULL;
}

// setSource(engine, address[, port]): accept datagrams only from this IPv4 address (a 32-bit number; 0 = from any)
// and, when port is given and not 0, only from this UDP source port
static napi_value set_source(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 2 || argc == 3 ? get_engine(env, argv[0]) : NULL;
  uint32_t address;
  uint32_t port = 0;
  if (!e || napi_get_value_uint32(env, argv[1], &address) != napi_ok ||
      (argc == 3 && (napi_get_value_uint32(env, argv[2], &port) != napi_ok || port > 0xffff)))
    return throw_type(env, "setSource(engine, address[, port])");
  e->expected_source = address;
  e->expected_port = port;
  return NULL;
}

static void set_num(napi_env env, napi_value obj, const char *name, double v) {
  napi_value x;
  napi_create_double(env, v, &x);
  napi_set_named_property(env, obj, name, x);
}

// stats(engine) -> { batches, syscalls, datagrams, nativePackets, slowPackets, ringDrops, ringSkipped, ...,
// foreignPackets }
static napi_value stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 1 ? get_engine(env, argv[0]) : NULL;
  if (!e) return throw_type(env, "stats(engine)");
  if (e->ring_fd >= 0) {
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof(st);
    if (getsockopt(e->ring_fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) e->ring_drops += st.tp_drops;
  }
  napi_value out;
  napi_create_object(env, &out);
  set_num(env, out, "batches", e->batches);
  set_num(env, out, "syscalls", e->syscalls);
  set_num(env, out, "datagrams", e->datagrams);
  set_num(env, out, "nativePackets", e->native_packets);
  set_num(env, out, "slowPackets", e->slow_packets);
  set_num(env, out, "ringDrops", e->ring_drops);
  set_num(env, out, "ringSkipped", e->ring_skipped);
  set_num(env, out, "ringMaxDelayUs", e->ring_max_delay_us);
  set_num(env, out, "foreignPackets", e->foreign_packets);
  return out;
}


// sendBatch(fd, bytes, offsets, first, count, address, port) -> packets sent
// Sends packets first..first+count-1 of a packetised block, packet i being bytes[offsets[i]..offsets[i+1]), to
// IPv4 `address` (a 32-bit number) : `port` from the UDP socket `fd` (a dgram socket's own descriptor), with
// sendmmsg in batches of SEND_BATCH. Every offset is checked against the buffer and every length against the
// largest UDP payload before the call. When the send buffer is full it waits for it (poll, at most 50 ms per
// batch) and returns how many left so far; any other error ends the call the same way (a device does not fail a
// frame on a send error: the host asks for what it misses).
#define SEND_BATCH 256
#define MAX_UDP_PAYLOAD 65507
static napi_value send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 7) return throw_type(env, "sendBatch(fd, bytes, offsets, first, count, address, port)");
  int32_t fd, first, count, port;
  uint32_t address;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return throw_type(env, "sendBatch: bad fd");
  bool is;
  napi_typedarray_type type;
  size_t blen, olen, off;
  void *bdata, *odata;
  napi_value ab;
  if (napi_is_typedarray(env, argv[1], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[1], &type, &blen, &bdata, &ab, &off) != napi_ok || type != napi_uint8_array)
    return throw_type(env, "sendBatch: bytes must be a Uint8Array");
  if (napi_is_typedarray(env, argv[2], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[2], &type, &olen, &odata, &ab, &off) != napi_ok || type != napi_int32_array)
    return throw_type(env, "sendBatch: offsets must be an Int32Array");
  if (napi_get_value_int32(env, argv[3], &first) != napi_ok || napi_get_value_int32(env, argv[4], &count) != napi_ok ||
      napi_get_value_uint32(env, argv[5], &address) != napi_ok || napi_get_value_int32(env, argv[6], &port) != napi_ok)
    return throw_type(env, "sendBatch: first, count, address and port must be numbers");
  if (port < 1 || port > 65535) return throw_type(env, "sendBatch: port out of range 1..65535");
  if (first < 0 || count < 0 || olen < 1 || (size_t)first + (size_t)count > olen - 1)
    return throw_type(env, "sendBatch: packets first..first+count-1 not all in offsets");
  const int32_t *offs = (const int32_t *)odata;
  const uint8_t *bytes = (const uint8_t *)bdata;
  for (int32_t i = first; i < first + count; i++) {
    if (offs[i] < 0 || offs[i + 1] < offs[i] || (size_t)offs[i + 1] > blen)
      return throw_type(env, "sendBatch: an offset lies outside bytes or offsets go backwards");
    if (offs[i + 1] - offs[i] > MAX_UDP_PAYLOAD) return throw_type(env, "sendBatch: a packet exceeds 65507 bytes");
  }
  struct sockaddr_in to;
  memset(&to, 0, sizeof(to));
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)port);
  to.sin_addr.s_addr = htonl(address);
  struct mmsghdr msgs[SEND_BATCH];
  struct iovec iov[SEND_BATCH];
  int32_t sent = 0;
  while (sent < count) {
    const int n = count - sent < SEND_BATCH ? count - sent : SEND_BATCH;
    for (int i = 0; i < n; i++) {
      const int32_t id = first + sent + i;
      iov[i].iov_base = (void *)(bytes + offs[id]);
      iov[i].iov_len = (size_t)(offs[id + 1] - offs[id]);
      memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
      msgs[i].msg_hdr.msg_name = &to;
      msgs[i].msg_hdr.msg_namelen = sizeof(to);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int r = sendmmsg(fd, msgs, (unsigned)n, MSG_DONTWAIT);
    if (r > 0) {
      sent += r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd pfd = {.fd = fd, .events = POLLOUT, .revents = 0};
      if (poll(&pfd, 1, 50) > 0) continue;
    }
    break;
  }
  napi_value out;
  napi_create_int32(env, sent, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value yes;
  napi_get_boolean(env, true, &yes);
  napi_property_descriptor props[] = {
      // setSource checks the UDP source port too (a binary built before that lacks this property)
      {"sourcePorts", NULL, NULL, NULL, NULL, yes, napi_enumerable, NULL},
      {"createEngine", NULL, create_engine, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setBuffer", NULL, set_buffer, NULL, NULL, NULL, napi_enumerable, NULL},
      {"processDatagrams", NULL, process_datagrams, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openReceiver", NULL, open_receiver, NULL, NULL, NULL, napi_enumerable, NULL},
      {"closeReceiver", NULL, close_receiver, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setProbe", NULL, set_probe, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setSource", NULL, set_source, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stats", NULL, stats, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendBatch", NULL, send_batch, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
