/* Prints which of the masked features this process sees; the check that the mask took hold. */
#include <stdio.h>
int main(void) {
    __builtin_cpu_init();
    printf("avx2 %d fma %d avx512f %d avx512vnni %d\n", __builtin_cpu_supports("avx2"),
           __builtin_cpu_supports("fma"), __builtin_cpu_supports("avx512f"),
           __builtin_cpu_supports("avx512vnni"));
    return 0;
}
