import NIOCore

/// The slow-consumer bound of a transport that writes straight to its channel: frames written since the socket last
/// took everything. Every transport on an event loop keeps one, on that loop.
struct SlowConsumerBound {
    let limit: Int
    private var writtenSinceDrained = 0

    init(limit: Int) {
        self.limit = limit
    }

    /// Records `frames` just written and flushed on `channel`; `true` once more than `limit` wait unwritten.
    /// Frames that do not `count` (a resume's replay, bounded by the history) only reset the count when drained.
    mutating func wrote(_ frames: Int, counts: Bool = true, on channel: any Channel) -> Bool {
        let buffered = (try? channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 0
        if buffered == 0 {
            writtenSinceDrained = 0
        } else if counts {
            writtenSinceDrained += frames
        }
        return writtenSinceDrained > limit
    }
}
