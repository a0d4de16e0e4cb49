#define _GNU_SOURCE
#include "CDatagramIO.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

// Batches are bounded so the scratch arrays live on the stack.
#define CDIO_MAX_BATCH 64

int cdio_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int cdio_epoll_add(int epfd, int fd, uint64_t token) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = EPOLLIN;
    event.data.u64 = token;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

int cdio_epoll_remove(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }

int cdio_epoll_wait(int epfd, uint64_t *tokens, int max_tokens, int timeout_ms) {
    struct epoll_event events[CDIO_MAX_BATCH];
    if (max_tokens > CDIO_MAX_BATCH) max_tokens = CDIO_MAX_BATCH;
    int ready;
    do {
        ready = epoll_wait(epfd, events, max_tokens, timeout_ms);
    } while (ready < 0 && errno == EINTR);
    for (int index = 0; index < ready; index++) tokens[index] = events[index].data.u64;
    return ready;
}

int cdio_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

void cdio_eventfd_signal(int fd) {
    uint64_t one = 1;
    // A full counter (never reached) or EAGAIN both mean the loop is already due to wake.
    (void)!write(fd, &one, sizeof(one));
}

void cdio_eventfd_drain(int fd) {
    uint64_t value;
    (void)!read(fd, &value, sizeof(value));
}

void cdio_name_this_thread(const char *name) {
    char shortened[16];
    strncpy(shortened, name, sizeof(shortened) - 1);
    shortened[sizeof(shortened) - 1] = 0;
    pthread_setname_np(pthread_self(), shortened);
}

// Points one mmsghdr per datagram at its bytes and address: the whole slot and room for any address when
// receiving, the datagram's length and address when sending.
static void cdio_describe(cdio_datagram *datagrams, int count, struct mmsghdr *headers, struct iovec *vectors,
                          int receiving) {
    memset(headers, 0, sizeof(struct mmsghdr) * (size_t)count);
    for (int index = 0; index < count; index++) {
        vectors[index].iov_base = datagrams[index].bytes;
        vectors[index].iov_len = receiving ? datagrams[index].capacity : datagrams[index].length;
        headers[index].msg_hdr.msg_iov = &vectors[index];
        headers[index].msg_hdr.msg_iovlen = 1;
        headers[index].msg_hdr.msg_name = &datagrams[index].address;
        headers[index].msg_hdr.msg_namelen =
            receiving ? (socklen_t)sizeof(struct sockaddr_storage) : datagrams[index].addressLength;
    }
}

int cdio_receive(int fd, cdio_datagram *datagrams, int count) {
    struct mmsghdr headers[CDIO_MAX_BATCH];
    struct iovec vectors[CDIO_MAX_BATCH];
    if (count > CDIO_MAX_BATCH) count = CDIO_MAX_BATCH;
    cdio_describe(datagrams, count, headers, vectors, 1);
    int received;
    do {
        received = recvmmsg(fd, headers, (unsigned int)count, MSG_DONTWAIT, NULL);
    } while (received < 0 && errno == EINTR);
    if (received < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    for (int index = 0; index < received; index++) {
        datagrams[index].length = headers[index].msg_len;
        datagrams[index].addressLength = headers[index].msg_hdr.msg_namelen;
        datagrams[index].truncated = (headers[index].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
    }
    return received;
}

int cdio_send(int fd, cdio_datagram *datagrams, int count) {
    struct mmsghdr headers[CDIO_MAX_BATCH];
    struct iovec vectors[CDIO_MAX_BATCH];
    if (count > CDIO_MAX_BATCH) count = CDIO_MAX_BATCH;
    cdio_describe(datagrams, count, headers, vectors, 0);
    int sent = 0;
    while (sent < count) {
        int result = sendmmsg(fd, headers + sent, (unsigned int)(count - sent), MSG_DONTWAIT);
        if (result < 0) {
            if (errno == EINTR) continue;
            // One refused datagram (an unreachable peer, a full buffer) must not hold back the rest of the batch.
            if (errno != EAGAIN && errno != EWOULDBLOCK && sent + 1 < count) {
                sent += 1;
                continue;
            }
            return sent > 0 ? sent : -1;
        }
        sent += result;
    }
    return sent;
}
