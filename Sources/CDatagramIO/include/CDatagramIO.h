// Thin wrappers over the Linux calls the TURN UDP relay loops need and Swift's Glibc module does not export:
// epoll, eventfd, recvmmsg and sendmmsg (the last two need _GNU_SOURCE, which a Swift import cannot set).
#ifndef C_DATAGRAM_IO_H
#define C_DATAGRAM_IO_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

/// One datagram of a batch: where its bytes are, its address, and (after a receive) its length and whether it was
/// longer than `capacity` (its tail then is lost, and it must be dropped).
typedef struct {
    void *bytes;
    uint32_t capacity;
    uint32_t length;
    struct sockaddr_storage address;
    socklen_t addressLength;
    uint8_t truncated;
} cdio_datagram;

/// A new epoll instance (close-on-exec), or -1 with errno.
int cdio_epoll_create(void);
/// Watches `fd` for input, reporting `token` when it is readable (level-triggered). 0, or -1 with errno.
int cdio_epoll_add(int epfd, int fd, uint64_t token);
/// Stops watching `fd`. 0, or -1 with errno.
int cdio_epoll_remove(int epfd, int fd);
/// Waits up to `timeout_ms` for readable descriptors; writes their tokens and returns how many (-1 with errno).
int cdio_epoll_wait(int epfd, uint64_t *tokens, int max_tokens, int timeout_ms);

/// A non-blocking, close-on-exec eventfd, or -1 with errno.
int cdio_eventfd(void);
/// Adds one to the eventfd (wakes its loop).
void cdio_eventfd_signal(int fd);
/// Resets the eventfd to zero.
void cdio_eventfd_drain(int fd);

/// Names the calling thread (Linux keeps the first 15 bytes), for top, perf and debuggers.
void cdio_name_this_thread(const char *name);

/// Receives up to `count` datagrams in one recvmmsg without blocking; fills each one's length and address.
/// Returns how many arrived, 0 when none was waiting, or -1 with errno for another error.
int cdio_receive(int fd, cdio_datagram *datagrams, int count);
/// Sends `count` datagrams in one sendmmsg without blocking; datagrams the socket cannot take now are dropped,
/// as UDP may. Returns how many left, or -1 with errno when the first one failed.
int cdio_send(int fd, cdio_datagram *datagrams, int count);

#endif
