#include <stdio.h>
int main(void)
{
    puts("warblerd " WB_VERSION);
    return 0;
}
