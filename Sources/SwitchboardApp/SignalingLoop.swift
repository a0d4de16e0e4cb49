import NIOPosix

/// The one event loop signaling runs on: the HTTP and WebSocket connections (HTTP and HTTPS listeners) and the hub.
///
/// A relayed message then crosses no thread: the sender's frame is decoded, routed by the room core and written to
/// the recipient's socket in one pass of the loop, with no wake-up of another thread between. On two cores this
/// took 25–30% off the server's CPU per message and raised the highest sustained rate from 24,000 to 32,000 msg/s
/// against the hub on a thread of its own beside two I/O loops (bench/README.md). TURN keeps NIO's singleton group.
/// Like that group it lives as long as the process, so every application built in one process (the tests) shares it.
enum SignalingLoop {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
}
