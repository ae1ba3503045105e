// Tandem search kernels: exact top-k scans over contiguous row-major vectors.
//
//   kernel() -> 'avx2' | 'scalar'            the best kernel this CPU runs (detected once at load)
//   scanF32(db, dims, queries, nq, start, end, k, outRows, outScores, mask|null, simd?) -> count
//   scanI8(db, scales, dims, queries, nq, start, end, k, outRows, outScores, mask|null, simd?) -> count
//   quantizeI8(src, dims, start, end, outI8, outScales, simd?) -> undefined
//
// simd (default true) = use AVX2 where the CPU has it; false forces the portable scalar code
// (tests compare the two). There is no global switch: threads may scan with either at once.
//
// db: Float32Array / Int8Array of (rows x dims); queries: nq x dims (Int8Array for scanI8, already
// quantised with the same scheme); rows [start, end) are scanned; mask: Uint8Array indexed by row,
// 0 = excluded. For each query q the best k rows go to outRows[q*k ..] / outScores[q*k ..], best
// first (ties: lower row first); unused slots get row -1 and score -Infinity. Returns how many
// slots per query were filled. scanI8 scores are dot(q8, v8) * scales[row] (the query's own scale
// is a constant per query and left out: the order is what matters, candidates are rescored).
//
// Nothing here allocates per row or calls back into JS; the caller owns every buffer (they may be
// SharedArrayBuffer-backed and scanned by several threads at once: the kernels only read db).
#include <node_api.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define TANDEM_X86 1
#include <immintrin.h>
#endif

namespace {

// ---------------------------------------------------------------- top-k (a min-heap of the kept)

struct TopK {
  int k = 0;
  int size = 0;
  float* s = nullptr;
  int32_t* r = nullptr;

  // a is worse than b: lower score, or the same score and a later row.
  static inline bool worse(float as, int32_t ar, float bs, int32_t br) { return as < bs || (as == bs && ar > br); }

  inline bool accepts(float score, int32_t row) const {
    return size < k || worse(s[0], r[0], score, row);
  }

  inline void push(float score, int32_t row) {
    if (size < k) {
      int i = size++;
      while (i > 0) {
        int p = (i - 1) >> 1;
        if (!worse(score, row, s[p], r[p])) break;
        s[i] = s[p];
        r[i] = r[p];
        i = p;
      }
      s[i] = score;
      r[i] = row;
    } else if (worse(s[0], r[0], score, row)) {
      sift_down_from_root(score, row, size);
    }
  }

  inline void sift_down_from_root(float score, int32_t row, int n) {
    int i = 0;
    for (;;) {
      int c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && worse(s[c + 1], r[c + 1], s[c], r[c])) c++;
      if (!worse(s[c], r[c], score, row)) break;
      s[i] = s[c];
      r[i] = r[c];
      i = c;
    }
    s[i] = score;
    r[i] = row;
  }

  // Sort in place best first (heap sort: repeatedly move the worst to the back), pad the rest.
  void finish() {
    for (int n = size; n > 1; n--) {
      float ws = s[0];
      int32_t wr = r[0];
      float ls = s[n - 1];
      int32_t lr = r[n - 1];
      s[n - 1] = ws;
      r[n - 1] = wr;
      sift_down_from_root(ls, lr, n - 1);
    }
    for (int i = size; i < k; i++) {
      s[i] = -std::numeric_limits<float>::infinity();
      r[i] = -1;
    }
  }
};

// ---------------------------------------------------------------- dot products

float dot_f32_scalar(const float* a, const float* b, int d) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int i = 0;
  for (; i + 4 <= d; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < d; i++) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

int32_t dot_i8_scalar(const int8_t* a, const int8_t* b, int d) {
  int32_t s = 0;
  for (int i = 0; i < d; i++) s += int32_t(a[i]) * int32_t(b[i]);
  return s;
}

#ifdef TANDEM_X86
__attribute__((target("avx2,fma"))) static inline float hsum256(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  __m128 sh = _mm_movehdup_ps(lo);
  __m128 sm = _mm_add_ps(lo, sh);
  sh = _mm_movehl_ps(sh, sm);
  sm = _mm_add_ss(sm, sh);
  return _mm_cvtss_f32(sm);
}

__attribute__((target("avx2,fma"))) float dot_f32_avx2(const float* a, const float* b, int d) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 32 <= d; i += 32) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);
  }
  for (; i + 8 <= d; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  float s = hsum256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < d; i++) s += a[i] * b[i];
  return s;
}

// int8 x int8 via maddubs: |q| (unsigned) x sign(v, q) (signed) gives q*v in pairs of int16
// (no saturation: |q|, |v| <= 127 so a pair is <= 32258), then madd with ones widens to int32.
// absq = |q| is precomputed once per query.
__attribute__((target("avx2"))) int32_t dot_i8_avx2(const int8_t* q, const int8_t* absq, const int8_t* v, int d) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  int i = 0;
  for (; i + 64 <= d; i += 64) {
    __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + i));
    __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(absq + i));
    __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + i));
    __m256i q1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + i + 32));
    __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(absq + i + 32));
    __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + i + 32));
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_maddubs_epi16(a0, _mm256_sign_epi8(v0, q0)), ones));
    acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(_mm256_maddubs_epi16(a1, _mm256_sign_epi8(v1, q1)), ones));
  }
  for (; i + 32 <= d; i += 32) {
    __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + i));
    __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(absq + i));
    __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + i));
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_maddubs_epi16(a0, _mm256_sign_epi8(v0, q0)), ones));
  }
  __m256i acc = _mm256_add_epi32(acc0, acc1);
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  int32_t r = _mm_cvtsi128_si32(s);
  for (; i < d; i++) r += int32_t(q[i]) * int32_t(v[i]);
  return r;
}
#endif

enum class Kernel { Scalar, Avx2 };

Kernel detect() {
#ifdef TANDEM_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Kernel::Avx2;
#endif
  return Kernel::Scalar;
}

const Kernel g_best = detect();

// Rows are scanned in blocks so that with several queries a block is read from memory once and
// reused from cache for every query (nq x 64 rows per block).
constexpr int kBlock = 64;

int scan_f32(const float* db, int dims, const float* queries, int nq, int64_t start, int64_t end, int k,
             int32_t* out_rows, float* out_scores, const uint8_t* mask, bool avx2) {
  std::vector<TopK> heaps(nq);
  for (int q = 0; q < nq; q++) heaps[q] = TopK{k, 0, out_scores + int64_t(q) * k, out_rows + int64_t(q) * k};
  for (int64_t b = start; b < end; b += kBlock) {
    const int64_t be = b + kBlock < end ? b + kBlock : end;
    for (int q = 0; q < nq; q++) {
      const float* qv = queries + int64_t(q) * dims;
      TopK& h = heaps[q];
      for (int64_t row = b; row < be; row++) {
        if (mask && !mask[row]) continue;
        const float* v = db + row * dims;
#ifdef TANDEM_X86
        float s = avx2 ? dot_f32_avx2(qv, v, dims) : dot_f32_scalar(qv, v, dims);
#else
        (void)avx2;
        float s = dot_f32_scalar(qv, v, dims);
#endif
        if (h.accepts(s, int32_t(row))) h.push(s, int32_t(row));
      }
    }
  }
  int filled = 0;
  for (auto& h : heaps) {
    filled = h.size;
    h.finish();
  }
  return filled;
}

int scan_i8(const int8_t* db, const float* scales, int dims, const int8_t* queries, int nq, int64_t start,
            int64_t end, int k, int32_t* out_rows, float* out_scores, const uint8_t* mask, bool avx2) {
  std::vector<TopK> heaps(nq);
  for (int q = 0; q < nq; q++) heaps[q] = TopK{k, 0, out_scores + int64_t(q) * k, out_rows + int64_t(q) * k};
  std::vector<int8_t> absq(size_t(nq) * dims);
  for (size_t i = 0; i < absq.size(); i++) {
    int x = queries[i];
    absq[i] = int8_t(x < 0 ? (x == -128 ? 127 : -x) : x);
  }
  for (int64_t b = start; b < end; b += kBlock) {
    const int64_t be = b + kBlock < end ? b + kBlock : end;
    for (int q = 0; q < nq; q++) {
      const int8_t* qv = queries + int64_t(q) * dims;
      const int8_t* aq = absq.data() + int64_t(q) * dims;
      TopK& h = heaps[q];
      for (int64_t row = b; row < be; row++) {
        if (mask && !mask[row]) continue;
        const int8_t* v = db + row * dims;
#ifdef TANDEM_X86
        int32_t d = avx2 ? dot_i8_avx2(qv, aq, v, dims) : dot_i8_scalar(qv, v, dims);
#else
        (void)avx2;
        (void)aq;
        int32_t d = dot_i8_scalar(qv, v, dims);
#endif
        float s = float(d) * scales[row];
        if (h.accepts(s, int32_t(row))) h.push(s, int32_t(row));
      }
    }
  }
  int filled = 0;
  for (auto& h : heaps) {
    filled = h.size;
    h.finish();
  }
  return filled;
}

// Symmetric per-row quantisation: scale = max|x| / 127, q = round(x * (127 / max|x|)) in
// [-127, 127], rounding half away from zero, all in float32 (the JS kernel mirrors it with
// Math.fround so both produce the same bytes).
#ifdef TANDEM_X86
__attribute__((target("avx2"))) void quantize_row_avx2(const float* x, int dims, int8_t* o, float inv) {
  const __m256 vinv = _mm256_set1_ps(inv);
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
  int i = 0;
  for (; i + 8 <= dims; i += 8) {
    __m256 y = _mm256_mul_ps(_mm256_loadu_ps(x + i), vinv);
    y = _mm256_add_ps(y, _mm256_or_ps(half, _mm256_and_ps(y, sign)));
    y = _mm256_min_ps(_mm256_max_ps(y, lo), hi);
    alignas(32) int32_t t[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(t), _mm256_cvttps_epi32(y));
    for (int j = 0; j < 8; j++) o[i + j] = int8_t(t[j]);
  }
  for (; i < dims; i++) {
    float y = x[i] * inv;
    y = y >= 0 ? y + 0.5f : y - 0.5f;
    y = y > 127.0f ? 127.0f : (y < -127.0f ? -127.0f : y);
    o[i] = int8_t(int(y));
  }
}

__attribute__((target("avx2"))) float max_abs_avx2(const float* x, int dims) {
  const __m256 mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 m = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= dims; i += 8) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + i), mask));
  alignas(32) float t[8];
  _mm256_store_ps(t, m);
  float r = 0;
  for (int j = 0; j < 8; j++) r = t[j] > r ? t[j] : r;
  for (; i < dims; i++) {
    const float a = std::fabs(x[i]);
    r = a > r ? a : r;
  }
  return r;
}
#endif

void quantize_i8(const float* src, int dims, int64_t start, int64_t end, int8_t* out, float* scales, bool avx2) {
#ifdef TANDEM_X86
  if (avx2) {
    for (int64_t row = start; row < end; row++) {
      const float* x = src + row * dims;
      int8_t* o = out + row * dims;
      const float m = max_abs_avx2(x, dims);
      if (m == 0 || !std::isfinite(m)) {
        std::memset(o, 0, size_t(dims));
        scales[row] = 0;
        continue;
      }
      quantize_row_avx2(x, dims, o, 127.0f / m);
      scales[row] = m / 127.0f;
    }
    return;
  }
#endif
  for (int64_t row = start; row < end; row++) {
    const float* x = src + row * dims;
    float m = 0;
    for (int i = 0; i < dims; i++) {
      const float a = std::fabs(x[i]);
      m = a > m ? a : m;
    }
    int8_t* o = out + row * dims;
    if (m == 0 || !std::isfinite(m)) {
      std::memset(o, 0, size_t(dims));
      scales[row] = 0;
      continue;
    }
    const float inv = 127.0f / m;
    for (int i = 0; i < dims; i++) {
      // round half away from zero, clamp to [-127, 127] (the JS kernel does the same)
      float y = x[i] * inv;
      y = y >= 0 ? y + 0.5f : y - 0.5f;
      y = y > 127.0f ? 127.0f : (y < -127.0f ? -127.0f : y);
      o[i] = int8_t(int(y));
    }
    scales[row] = m / 127.0f;
  }
}

// ---------------------------------------------------------------- N-API glue

napi_value throw_type(napi_env env, const char* msg) {
  napi_throw_type_error(env, "INVALID_ARGUMENT", msg);
  return nullptr;
}

napi_value throw_range(napi_env env, const char* msg) {
  napi_throw_range_error(env, "INVALID_ARGUMENT", msg);
  return nullptr;
}

struct View {
  void* data = nullptr;
  size_t length = 0;  // elements
  napi_typedarray_type type = napi_int8_array;
};

bool get_view(napi_env env, napi_value v, napi_typedarray_type want, View* out) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, &ab, &off) != napi_ok) return false;
  return out->type == want;
}

bool get_optional_mask(napi_env env, napi_value v, View* out, bool* present) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_undefined || t == napi_null) {
    *present = false;
    return true;
  }
  *present = true;
  return get_view(env, v, napi_uint8_array, out);
}

bool get_i64(napi_env env, napi_value v, int64_t* out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_number) return false;
  return napi_get_value_int64(env, v, out) == napi_ok;
}

bool get_simd(napi_env env, napi_value v, bool* out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_undefined) return true;
  if (t != napi_boolean) return false;
  return napi_get_value_bool(env, v, out) == napi_ok;
}

bool use_avx2(bool simd) { return simd && g_best == Kernel::Avx2; }

napi_value make_int(napi_env env, int64_t x) {
  napi_value r;
  napi_create_int64(env, x, &r);
  return r;
}

const char* kernel_name() { return g_best == Kernel::Avx2 ? "avx2" : "scalar"; }

napi_value Kernel_(napi_env env, napi_callback_info) {
  napi_value r;
  napi_create_string_utf8(env, kernel_name(), NAPI_AUTO_LENGTH, &r);
  return r;
}

// Shared argument checks for the two scans. `elem` is the element type of db and queries.
struct ScanArgs {
  View db, scales, queries, out_rows, out_scores, mask;
  bool has_mask = false;
  bool simd = true;
  int64_t dims = 0, nq = 0, start = 0, end = 0, k = 0;
};

napi_value parse_scan(napi_env env, napi_callback_info info, bool i8, ScanArgs* a) {
  size_t argc = 12;
  napi_value argv[12];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  const size_t need = i8 ? 11 : 10;
  if (argc < need) return throw_type(env, "scan: missing arguments");
  size_t p = 0;
  const napi_typedarray_type et = i8 ? napi_int8_array : napi_float32_array;
  if (!get_view(env, argv[p++], et, &a->db)) return throw_type(env, i8 ? "scanI8: db must be an Int8Array" : "scanF32: db must be a Float32Array");
  if (i8 && !get_view(env, argv[p++], napi_float32_array, &a->scales)) return throw_type(env, "scanI8: scales must be a Float32Array");
  if (!get_i64(env, argv[p++], &a->dims)) return throw_type(env, "scan: dims must be a number");
  if (!get_view(env, argv[p++], et, &a->queries)) return throw_type(env, "scan: queries have the wrong type");
  if (!get_i64(env, argv[p++], &a->nq) || !get_i64(env, argv[p++], &a->start) || !get_i64(env, argv[p++], &a->end) ||
      !get_i64(env, argv[p++], &a->k))
    return throw_type(env, "scan: nq, start, end and k must be numbers");
  if (!get_view(env, argv[p++], napi_int32_array, &a->out_rows)) return throw_type(env, "scan: outRows must be an Int32Array");
  if (!get_view(env, argv[p++], napi_float32_array, &a->out_scores)) return throw_type(env, "scan: outScores must be a Float32Array");
  if (!get_optional_mask(env, argv[p++], &a->mask, &a->has_mask)) return throw_type(env, "scan: mask must be a Uint8Array or null");
  if (p < argc && !get_simd(env, argv[p], &a->simd)) return throw_type(env, "scan: simd must be a boolean");

  if (a->dims <= 0 || a->nq <= 0 || a->k <= 0 || a->k > (1 << 24) || a->nq > (1 << 20)) return throw_range(env, "scan: dims, nq and k must be positive");
  const int64_t rows = int64_t(a->db.length) / a->dims;
  if (a->start < 0 || a->end < a->start || a->end > rows || a->end > INT32_MAX) return throw_range(env, "scan: row range out of bounds");
  if (int64_t(a->queries.length) < a->nq * a->dims) return throw_range(env, "scan: queries shorter than nq x dims");
  if (int64_t(a->out_rows.length) < a->nq * a->k || int64_t(a->out_scores.length) < a->nq * a->k)
    return throw_range(env, "scan: outputs shorter than nq x k");
  if (i8 && int64_t(a->scales.length) < a->end) return throw_range(env, "scanI8: scales shorter than the rows scanned");
  if (a->has_mask && int64_t(a->mask.length) < a->end) return throw_range(env, "scan: mask shorter than the rows scanned");
  napi_value ok;
  napi_get_boolean(env, true, &ok);
  return ok;
}

napi_value ScanF32(napi_env env, napi_callback_info info) {
  ScanArgs a;
  if (!parse_scan(env, info, false, &a)) return nullptr;
  int n = scan_f32(static_cast<const float*>(a.db.data), int(a.dims), static_cast<const float*>(a.queries.data), int(a.nq),
                   a.start, a.end, int(a.k), static_cast<int32_t*>(a.out_rows.data), static_cast<float*>(a.out_scores.data),
                   a.has_mask ? static_cast<const uint8_t*>(a.mask.data) : nullptr, use_avx2(a.simd));
  return make_int(env, n);
}

napi_value ScanI8(napi_env env, napi_callback_info info) {
  ScanArgs a;
  if (!parse_scan(env, info, true, &a)) return nullptr;
  int n = scan_i8(static_cast<const int8_t*>(a.db.data), static_cast<const float*>(a.scales.data), int(a.dims),
                  static_cast<const int8_t*>(a.queries.data), int(a.nq), a.start, a.end, int(a.k),
                  static_cast<int32_t*>(a.out_rows.data), static_cast<float*>(a.out_scores.data),
                  a.has_mask ? static_cast<const uint8_t*>(a.mask.data) : nullptr, use_avx2(a.simd));
  return make_int(env, n);
}

napi_value QuantizeI8(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 6) return throw_type(env, "quantizeI8: missing arguments");
  View src, out, scales;
  int64_t dims, start, end;
  if (!get_view(env, argv[0], napi_float32_array, &src)) return throw_type(env, "quantizeI8: src must be a Float32Array");
  if (!get_i64(env, argv[1], &dims) || !get_i64(env, argv[2], &start) || !get_i64(env, argv[3], &end))
    return throw_type(env, "quantizeI8: dims, start and end must be numbers");
  if (!get_view(env, argv[4], napi_int8_array, &out)) return throw_type(env, "quantizeI8: out must be an Int8Array");
  if (!get_view(env, argv[5], napi_float32_array, &scales)) return throw_type(env, "quantizeI8: scales must be a Float32Array");
  bool simd = true;
  if (argc > 6 && !get_simd(env, argv[6], &simd)) return throw_type(env, "quantizeI8: simd must be a boolean");
  if (dims <= 0) return throw_range(env, "quantizeI8: dims must be positive");
  const int64_t rows = int64_t(src.length) / dims;
  if (start < 0 || end < start || end > rows || int64_t(out.length) < end * dims || int64_t(scales.length) < end)
    return throw_range(env, "quantizeI8: row range out of bounds");
  quantize_i8(static_cast<const float*>(src.data), int(dims), start, end, static_cast<int8_t*>(out.data),
              static_cast<float*>(scales.data), use_avx2(simd));
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"kernel", nullptr, Kernel_, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"scanF32", nullptr, ScanF32, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"scanI8", nullptr, ScanI8, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"quantizeI8", nullptr, QuantizeI8, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
