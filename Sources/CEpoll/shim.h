// epoll(7), which the Glibc module does not export.
#include <sys/epoll.h>
