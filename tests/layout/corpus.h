/*
 * corpus.h - C declarations that are also a layout file.
 *
 * tests/test_layout_gcc.c lays these out with shmscope's parser and with
 * gcc (by compiling a program that prints sizeof/offsetof of every field)
 * and compares.  Plain C only: no annotations here.
 */
/* The declarations are test data, kept as compact as they were written. */
/* clang-format off */
#define NAME_LEN 24
#define N_SLOTS (4 * 2)

enum color { RED, GREEN = 5, BLUE };
enum big { BIG_A = 1, BIG_B = 0x7fffffff };

struct c01_chars { char a; signed char b; unsigned char c; };
struct c02_mixed { char a; int b; char c; };
struct c03_short { char a; short b; char c; long d; };
struct c04_ints {
	short s; unsigned short us; int i; unsigned int ui; unsigned u;
	long l; unsigned long ul; long long ll; unsigned long long ull;
	signed s2; short int si; long int li; long long int lli;
	unsigned long long int ulli; long unsigned int lui;
};
struct c05_stdint {
	int8_t i8; uint8_t u8; int16_t i16; uint16_t u16; int32_t i32;
	uint32_t u32; int64_t i64; uint64_t u64; intptr_t ip; uintptr_t up;
	size_t sz; ssize_t ssz; ptrdiff_t pd; intmax_t im; uintmax_t um;
};
struct c06_systypes {
	pid_t pid; uid_t uid; gid_t gid; mode_t mode; off_t off;
	time_t t; key_t key; clock_t clk; id_t id; useconds_t us;
	dev_t dev; ino_t ino; nlink_t nl; blksize_t bs;
};
struct c07_least {
	int_least8_t a; uint_least16_t b; int_least32_t c; uint_least64_t d;
	int_fast8_t e; int_fast16_t f; uint_fast32_t g; int_fast64_t h;
};
struct c08_bool { bool a; _Bool b; int c; bool d; };
struct c09_float { char a; float f; char b; double d; float g; };
struct c10_ptr { char a; void *p; char *s; const char *cs; int **pp; };
struct c11_fnptr { int (*cb)(int, void *); char a; void (*fns[3])(void); };
struct c12_array { char a[3]; int b[5]; char c; short d[7]; };
struct c13_multi { char a; int m[2][3]; char b[4][5][6]; double d[2][2]; };
struct c14_inner { char tag; double v; };
struct c15_nested { char a; struct c14_inner in; char b; struct c14_inner arr[3]; };
struct c16_nested_def {
	int x;
	struct c16_pt { short px, py; } pt;
	struct { char q; long r; } anon_named;
	int y;
};
struct c17_anon_union {
	int kind;
	union { int i; double d; char s[12]; };
	char after;
};
struct c18_anon_struct {
	char a;
	struct { char b; int c; };
	union { struct { short lo, hi; }; int word; };
};
union c19_union { char c; int i; double d; char s[13]; };
union c20_union_struct { struct c14_inner in; long long ll; char b[3]; };
struct c21_bits { unsigned a : 3; unsigned b : 5; unsigned c : 9; unsigned d : 15; };
struct c22_bits_cross { unsigned a : 30; unsigned b : 4; unsigned c : 31; };
struct c23_bits_mixed { char c; unsigned a : 3; unsigned short s : 9; unsigned b : 20; long l; };
struct c24_bits_signed { int a : 3; signed b : 4; int c : 1; short d : 2; char e; };
struct c25_bits_long { unsigned long long a : 40; unsigned long long b : 30; unsigned long long c : 1; };
struct c26_bits_zero { char a; int : 0; char b; unsigned c : 3; unsigned : 0; char d; };
struct c27_bits_unnamed { char a; int : 3; char b; unsigned : 12; char c; };
struct c28_bits_char { char a : 3; char b : 6; unsigned char c : 8; char d; };
struct c29_bits_bool { bool a : 1; bool b : 1; unsigned char c : 4; int d; };
struct c30_bits_ll { long long a : 33; long long b : 33; char c; };
struct c31_packed { char a; int b; short c; long d; } __attribute__((packed));
struct c32_packed_nested { char a; struct c31_packed p; int b; };
struct __attribute__((packed)) c33_packed_bits { char a; unsigned b : 20; unsigned c : 7; long d; };
struct c34_aligned { char a; int b __attribute__((aligned(16))); char c; };
struct c35_aligned_struct { char a; } __attribute__((aligned(32)));
struct c36_sync {
	char a;
	pthread_mutex_t m;
	char b;
	sem_t s;
	pthread_rwlock_t rw;
	char c;
	pthread_cond_t cv;
	pthread_spinlock_t sp;
	char d;
	pthread_barrier_t bar;
	char e;
};
struct c37_sync_array { int n; sem_t sems[4]; pthread_mutex_t locks[2]; };
struct c38_enum { char a; enum color c; char b; enum big big; };
struct c39_const { const int a; volatile char b; const volatile long c; int *const p; };
struct c40_atomic { _Atomic int a; char b; _Atomic(long) c; _Atomic char d; };
struct c41_defines { char name[NAME_LEN]; int slots[N_SLOTS]; char tail[N_SLOTS + 1]; };
struct c42_flex { int n; char pad; double data[]; };
typedef struct { uint32_t seq; uint16_t len; char text[10]; } c43_msg_t;
typedef struct c44_tagged { char a; c43_msg_t m; } c44_t;
struct c45_typedefs { c43_msg_t msgs[3]; c44_t t; char z; };
typedef uint32_t c46_idx_t;
typedef int c46_arr_t[3];
struct c46_typedef_scalar { char a; c46_idx_t i; c46_arr_t arr; c46_idx_t j[2]; };
struct c47_deep {
	struct { struct { struct { char x; long y; } l3; char z; } l2; } l1;
	union { struct { char p; int q; } s; long r; } u;
};
struct c48_ring {
	uint32_t magic;
	pthread_mutex_t lock;
	sem_t empty_slots;
	sem_t filled_slots;
	uint32_t write_idx;
	uint32_t read_idx;
	struct c14_inner slots[16];
};
struct c49_wchar { wchar_t w; char16_t c16; char32_t c32; char c; };
struct c50_empty_tail { long a; char b; };
