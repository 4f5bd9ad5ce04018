/* corio/net.h -- sockets: being written */
#ifndef CORIO_NET_H
#define CORIO_NET_H
#include <corio/sched.h>
#endif
