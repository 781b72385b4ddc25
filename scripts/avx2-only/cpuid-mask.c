/*
 * cpuid-mask: makes a process see this CPU as one with AVX2 and FMA but no AVX-512, AVX-VNNI or
 * AMX, so that ONNX Runtime's and llama.cpp's runtime dispatch take their AVX2 kernels.
 *
 * Loaded with LD_PRELOAD (scripts/as-avx2.sh does that). Its constructor turns on CPUID faulting
 * for the process (arch_prctl(ARCH_SET_CPUID, 0), Linux 4.12+, on CPUs whose flags list
 * `cpuid_fault`): every CPUID instruction then raises SIGSEGV, which the handler below answers by
 * running the real CPUID with faulting briefly off, clearing the feature bits above, and stepping
 * over the instruction. Threads inherit the setting; exec resets it, and the preload sets it again.
 *
 * What it does not change: the instructions themselves still run (code compiled for AVX-512 would
 * still execute), and glibc reads CPUID before any constructor runs (GLIBC_TUNABLES covers that).
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static long set_cpuid(unsigned long enabled) { return syscall(SYS_arch_prctl, ARCH_SET_CPUID, enabled); }

static void mask(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d) {
    if (leaf == 7 && sub == 0) {
        /* EBX: AVX512F 16, DQ 17, IFMA 21, PF 26, ER 27, CD 28, BW 30, VL 31 */
        *b &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) |
                (1u << 30) | (1u << 31));
        /* ECX: VBMI 1, VBMI2 6, VNNI 11, BITALG 12, VPOPCNTDQ 14 */
        *c &= ~((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
        /* EDX: 4VNNIW 2, 4FMAPS 3, VP2INTERSECT 8, AMX-BF16 22, AVX512-FP16 23, AMX-TILE 24,
         * AMX-INT8 25 */
        *d &= ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) |
                (1u << 25));
        if (*a >= 1) *a = 1; /* keep subleaf 1 visible; it is masked below */
    } else if (leaf == 7 && sub == 1) {
        /* EAX: AVX-VNNI 4, AVX512-BF16 5, AMX-FP16 21, AVX-IFMA 23 */
        *a &= ~((1u << 4) | (1u << 5) | (1u << 21) | (1u << 23));
        /* EDX: AVX-VNNI-INT8 4, AVX-NE-CONVERT 5, AMX-COMPLEX 8, AVX10 19 */
        *d &= ~((1u << 4) | (1u << 5) | (1u << 8) | (1u << 19));
    } else if (leaf == 0x1d || leaf == 0x1e || leaf == 0x24) {
        *a = *b = *c = *d = 0; /* AMX tile and AVX10 information */
    }
}

static void on_segv(int sig, siginfo_t *info, void *context) {
    (void)info;
    ucontext_t *uc = context;
    greg_t *r = uc->uc_mcontext.gregs;
    const uint8_t *ip = (const uint8_t *)r[REG_RIP];
    if (ip[0] == 0x0f && ip[1] == 0xa2) {
        uint32_t leaf = (uint32_t)r[REG_RAX], sub = (uint32_t)r[REG_RCX], a, b, c, d;
        set_cpuid(1);
        __cpuid_count(leaf, sub, a, b, c, d);
        set_cpuid(0);
        mask(leaf, sub, &a, &b, &c, &d);
        r[REG_RAX] = a;
        r[REG_RBX] = b;
        r[REG_RCX] = c;
        r[REG_RDX] = d;
        r[REG_RIP] += 2;
        return;
    }
    /* A real fault: let it kill the process as it would have. */
    signal(sig, SIG_DFL);
}

__attribute__((constructor)) static void cpuid_mask_init(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0 || set_cpuid(0) != 0) {
        fprintf(stderr, "cpuid-mask: CPUID faulting is not available here (flag cpuid_fault); "
                        "cannot hide AVX-512 from this process\n");
        _exit(97);
    }
    if (getenv("CPUID_MASK_VERBOSE")) fprintf(stderr, "cpuid-mask: AVX-512, AVX-VNNI and AMX hidden\n");
}
