import NIOPosix

/// The event loop the signaling hub runs on: a thread of its own, beside the I/O loops.
///
/// On one of the I/O loops the hub would also carry that loop's share of connections and saturate it first: at
/// 16,000 msg/s on two cores, p99 rose from 6 ms to 260 ms (bench/README.md). Like NIO's singleton group it lives
/// as long as the process, so every application built in one process (the tests) shares it.
enum SignalingLoop {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
}
