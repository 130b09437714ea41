#include <stdio.h>
int main(void)
{
    puts("warblerctl " WB_VERSION);
    return 0;
}
